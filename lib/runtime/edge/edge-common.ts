import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { describeIssues } from '../../errors/platform-error.ts';
import { createLogger } from '../logger.ts';

/** What a core receives beside its parsed input: the Lambda context and the handler's structured logger. */
export interface Edge {
  context: Context;
  logger: Logger;
}

/** A handler as Lambda calls it: any event (the edge parses it), the context, a promise of the answer. */
export type EdgeHandler<R> = (event: unknown, context: Context) => Promise<R>;

/** Every edge names its service (the logger's `service` key). */
export interface EdgeOptions {
  service: string;
}

/** The Powertools logger of a handler, with the Lambda context injected on every invocation and keys reset after it. */
export function edgeLogger(service: string): { logger: Logger; middleware: MiddlewareObj } {
  const logger = createLogger(service);
  return { logger, middleware: injectLambdaContext(logger, { resetKeys: true }) as MiddlewareObj };
}

const CORRELATION_KEYS = ['trace_id', 'event_id', 'message_id', 'session_id', 'platform_run_id'] as const;

/**
 * The correlation id of a parsed input: its envelope's `trace_id` / `event_id` (or the run's ids), on the input or
 * on its `payload` (a bus record), when it has one.
 */
export function correlationIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  for (const key of CORRELATION_KEYS) {
    const id = record[key];
    if (typeof id === 'string' && id !== '') return id;
  }
  return 'payload' in record ? correlationIdOf(record.payload) : undefined;
}

/** A ParseError of the Powertools parser middleware: its cause holds the schema's issues. */
export function isParseError(error: unknown): error is Error & { cause?: unknown } {
  return error instanceof Error && error.name === 'ParseError';
}

/** The issues of a failed parse, one line (`path: message; …`). */
export function parseErrorDetail(error: Error & { cause?: unknown }): string {
  const cause = error.cause;
  if (Array.isArray(cause)) return describeIssues(cause);
  if (cause && typeof cause === 'object' && 'issues' in cause && Array.isArray(cause.issues))
    return describeIssues(cause.issues);
  return error.message;
}
