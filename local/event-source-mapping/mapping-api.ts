import { z } from 'zod';
import type { MappingConfig } from './mapping-config.ts';

/**
 * Lambda's event-source-mapping REST calls, answered from the poller's mappings in AWS's JSON shape, so the AWS CLI
 * and `@aws-sdk/client-lambda` pointed at the poller (or the edge) work as against AWS:
 * - ListEventSourceMappings: `GET /2015-03-31/event-source-mappings/?FunctionName=…&EventSourceArn=…`
 * - GetEventSourceMapping: `GET /2015-03-31/event-source-mappings/{UUID}`
 * - UpdateEventSourceMapping: `PUT /2015-03-31/event-source-mappings/{UUID}` (Enabled, BatchSize,
 *   MaximumBatchingWindowInSeconds, MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError)
 * Errors as Lambda answers them: the type in `x-amzn-errortype`, `{Type, Message}` in the body.
 */

/** AWS's states; Creating and Deleting never happen here (mappings come from serverless.yml). */
export type MappingState = 'Enabled' | 'Disabled' | 'Enabling' | 'Disabling' | 'Updating';

/** One mapping as the poller holds it now: its settings (updates applied) and its state. */
export interface MappingView {
  config: MappingConfig;
  state: Exclude<MappingState, 'Updating'>;
  /** Epoch ms of the last change (the poller's start, or the last update). */
  lastModifiedMs: number;
}

/** What UpdateEventSourceMapping may change locally, in the poller's units. */
export interface MappingPatch {
  enabled?: boolean;
  batchSize?: number;
  batchWindowMs?: number;
  maximumRetryAttempts?: number;
  maximumRecordAgeSeconds?: number;
  bisectBatchOnFunctionError?: boolean;
}

/** The poller, as the API sees it. */
export interface MappingControl {
  views(): MappingView[];
  /** Applies the patch (a batch size, a window: from the next batch; Enabled: stops or resumes polling). */
  update(uuid: string, patch: MappingPatch): MappingView | undefined;
}

/**
 * The request body of UpdateEventSourceMapping, with AWS's ranges for a Kinesis mapping (API_UpdateEventSourceMapping).
 * Any other member AWS defines (FunctionName, ParallelizationFactor, DestinationConfig, …) is refused: serverless.yml
 * sets those.
 */
export const UpdateEventSourceMappingBody = z.strictObject({
  Enabled: z.boolean().optional(),
  BatchSize: z.number().int().min(1).max(10_000).optional(),
  MaximumBatchingWindowInSeconds: z.number().int().min(0).max(300).optional(),
  MaximumRetryAttempts: z.number().int().min(-1).max(10_000).optional(),
  MaximumRecordAgeInSeconds: z
    .number()
    .int()
    .refine((s) => s === -1 || (s >= 60 && s <= 604_800), 'must be -1 or between 60 and 604800')
    .optional(),
  BisectBatchOnFunctionError: z.boolean().optional(),
});

export interface ApiAnswer {
  status: number;
  body: unknown;
  /** Lambda's error type (`x-amzn-errortype`), for an error. */
  errorType?: string;
}

const PATHS = /^\/2015-03-31\/event-source-mappings(?:\/([^/]*))?\/?$/;

function error(status: number, type: string, message: string): ApiAnswer {
  return { status, errorType: type, body: { Type: 'User', Message: message, message } };
}

/** The mapping in AWS's shape: the same fields in List, Get and Update answers. */
export function describeMapping(view: MappingView, state: MappingState = view.state) {
  const m = view.config;
  return {
    UUID: m.uuid,
    FunctionArn: m.functionArn,
    EventSourceArn: m.streamArn,
    State: state,
    StateTransitionReason: 'USER_INITIATED',
    LastModified: view.lastModifiedMs / 1000,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: Math.round(m.batchWindowMs / 1000),
    StartingPosition: m.startingPosition,
    ...(m.startingPosition === 'AT_TIMESTAMP'
      ? { StartingPositionTimestamp: m.startingPositionTimestamp ?? 0 }
      : {}),
    MaximumRetryAttempts: m.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: m.maximumRecordAgeSeconds,
    BisectBatchOnFunctionError: m.bisectBatchOnFunctionError,
    ParallelizationFactor: m.parallelizationFactor,
    FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    DestinationConfig: { OnFailure: m.onFailure ? { Destination: m.onFailure.arn } : {}, OnSuccess: {} },
  };
}

function list(control: MappingControl, query: URLSearchParams): ApiAnswer {
  const fn = query.get('FunctionName');
  const stream = query.get('EventSourceArn');
  const selected = control
    .views()
    .filter(
      ({ config: m }) =>
        (!fn || m.functionName === fn || m.functionArn === fn || m.functionArn.endsWith(`:${fn}`)) &&
        (!stream || m.streamArn === stream),
    );
  return { status: 200, body: { EventSourceMappings: selected.map((v) => describeMapping(v)) } };
}

/** The body of an UpdateEventSourceMapping call → the patch, or AWS's InvalidParameterValueException. */
export function parseUpdate(raw: string): { patch: MappingPatch } | { invalid: ApiAnswer } {
  let json: unknown;
  try {
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return { invalid: error(400, 'InvalidParameterValueException', 'The request body is not valid JSON.') };
  }
  const parsed = UpdateEventSourceMappingBody.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${i.keys.join(', ')}: not changeable on the local cloud (serverless.yml sets it)`
        : `${i.path.join('.') || '(body)'}: ${i.message}`,
    );
    return { invalid: error(400, 'InvalidParameterValueException', problems.join('; ')) };
  }
  const b = parsed.data;
  const patch: MappingPatch = {};
  if (b.Enabled !== undefined) patch.enabled = b.Enabled;
  if (b.BatchSize !== undefined) patch.batchSize = b.BatchSize;
  if (b.MaximumBatchingWindowInSeconds !== undefined)
    patch.batchWindowMs = b.MaximumBatchingWindowInSeconds * 1000;
  if (b.MaximumRetryAttempts !== undefined) patch.maximumRetryAttempts = b.MaximumRetryAttempts;
  if (b.MaximumRecordAgeInSeconds !== undefined) patch.maximumRecordAgeSeconds = b.MaximumRecordAgeInSeconds;
  if (b.BisectBatchOnFunctionError !== undefined)
    patch.bisectBatchOnFunctionError = b.BisectBatchOnFunctionError;
  return { patch };
}

/** Answers a mapping call; undefined when the request is not one (another path of the poller). */
export function answerMappingApi(
  control: MappingControl,
  method: string,
  url: string,
  body: string,
): ApiAnswer | undefined {
  const parsed = new URL(url, 'http://localhost');
  const path = PATHS.exec(parsed.pathname);
  if (!path) return undefined;
  const uuid = path[1] ? decodeURIComponent(path[1]) : '';
  if (uuid === '') {
    if (method === 'GET') return list(control, parsed.searchParams);
    return error(
      400,
      'InvalidParameterValueException',
      `${method} ${parsed.pathname}: the local cloud creates mappings from serverless.yml only`,
    );
  }
  const current = control.views().find((v) => v.config.uuid === uuid);
  if (!current)
    return error(
      404,
      'ResourceNotFoundException',
      `The resource you requested does not exist. (UUID ${uuid})`,
    );
  if (method === 'GET') return { status: 200, body: describeMapping(current) };
  if (method !== 'PUT')
    return error(
      400,
      'InvalidParameterValueException',
      `${method} of an event-source mapping: the local cloud serves GET and PUT (mappings come from serverless.yml)`,
    );
  const update = parseUpdate(body);
  if ('invalid' in update) return update.invalid;
  const enabledBefore = current.config.enabled;
  const updated = control.update(uuid, update.patch) ?? current;
  // As AWS: a mapping being switched answers Enabling/Disabling, a change of settings only answers Updating.
  const switching = update.patch.enabled !== undefined && update.patch.enabled !== enabledBefore;
  return { status: 202, body: describeMapping(updated, switching ? updated.state : 'Updating') };
}
