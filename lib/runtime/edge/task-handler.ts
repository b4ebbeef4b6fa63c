import { parser } from '@aws-lambda-powertools/parser/middleware';
import middy from '@middy/core';
import type { z } from 'zod';
import { toPlainJson } from '../../contracts/canonical-json.ts';
import { PlatformError, RequestInvalid } from '../../errors/platform-error.ts';
import {
  correlationIdOf,
  type Edge,
  type EdgeHandler,
  type EdgeOptions,
  edgeLogger,
  isParseError,
  parseErrorDetail,
} from './edge-common.ts';

/**
 * The Step Functions task edge: the event parsed by zod (Powertools parser), the core called with it, its result
 * the task's output (as plain JSON: `toPlainJson`). An event that fails its schema throws an error named by the handler's `invalid` reason code;
 * a PlatformError is thrown named by its code (its `detail`, when it has one, is the message), so the state
 * machine's Catch and Retry match on reason codes.
 */

export interface TaskEdgeOptions extends EdgeOptions {
  /** The error name of an event that fails its schema (e.g. ORACLE_REQUEST_INVALID, WSP_REQUEST_INVALID). */
  invalid: string;
}

/** The one place an error becomes a task failure: the error's name is its reason code. */
export function taskErrorOf(error: unknown, invalidCode: string): unknown {
  if (isParseError(error)) return new RequestInvalid(invalidCode, parseErrorDetail(error));
  if (error instanceof PlatformError && error.detail !== undefined && error.message !== error.detail)
    return new PlatformError(error.code, error.detail, {
      detail: error.detail,
      retryable: error.retryable,
      cause: error,
    });
  return error;
}

export function taskHandler<S extends z.ZodType, R>(
  schema: S,
  core: (input: z.output<S>, edge: Edge) => Promise<R>,
  options: TaskEdgeOptions,
) {
  const { logger, middleware } = edgeLogger(options.service);
  const handler = middy<unknown, R>()
    .use(middleware)
    .use(parser({ schema }))
    .use({
      onError: (request) => {
        request.error = taskErrorOf(request.error, options.invalid) as Error;
      },
    })
    .handler(async (event, context) => {
      const input = event as z.output<S>;
      const id = correlationIdOf(input);
      if (id) logger.setCorrelationId(id);
      // PyFloats and 64-bit ints of a core's answer made plain JSON (the runtime stringifies it).
      return toPlainJson(await core(input, { context, logger })) as R;
    });
  return handler as unknown as EdgeHandler<R>;
}
