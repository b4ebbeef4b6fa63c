import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { type ApiKey, authenticate } from '../ingestion-gate/auth.ts';
import { ScenarioRunnerError, type SubmitErrorCode, TERMINAL_STATES } from './reason-codes.ts';
import type { SubmissionResponse } from './submission.ts';

/**
 * The Scenario Runner's HTTP API: `POST /v1/runs` with a RunSubmission body (submission.ts). Auth is the
 * Ingestion Gate's API-key check (constant time, keys from env/SSM): the key goes in `X-SR-Api-Key`
 * (`X-IG-Api-Key` is accepted too, against the SR keys). Answers:
 * - 200 the run's status when it is terminal (READY, FAILED, QUARANTINED); 202 when it is not yet
 *   (WAITING_EVIDENCE, or another runner holds the lease on an unfinished run);
 * - 4xx/5xx `{error: REASON_CODE, detail}`: 401 UNAUTHORIZED, 403 AUTH_DENIED (invoker not allowed, §3.3),
 *   400 INVALID_JSON / RUN_REQUEST_INVALID, 404 ROUTE_NOT_FOUND, 409 EQUIV_KEY_COLLISION / PLAN_DRIFT /
 *   READY_SIGNAL_DRIFT, 413 PAYLOAD_TOO_LARGE, 503 LEASE_LOST / S3_APPEND_CONFLICT (retry: a re-submit resumes),
 *   500 RUN_ARTIFACT_INVALID / STATUS_TRANSITION_INVALID / INTERNAL_ERROR.
 */

export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string | undefined;
}

export interface HttpResponse {
  statusCode: number;
  body: unknown;
}

export interface RunsApiDependencies {
  apiKeys(): Promise<readonly ApiKey[]>;
  maxRequestBytes: number;
  submit(input: unknown): Promise<SubmissionResponse>;
}

export const SUBMIT_ERROR_STATUS: Readonly<Record<SubmitErrorCode, number>> = {
  RUN_REQUEST_INVALID: 400,
  EQUIV_KEY_COLLISION: 409,
  PLAN_DRIFT: 409,
  READY_SIGNAL_DRIFT: 409,
  LEASE_LOST: 503,
  S3_APPEND_CONFLICT: 503,
  RUN_ARTIFACT_INVALID: 500,
  STATUS_TRANSITION_INVALID: 500,
};

const error = (statusCode: number, code: string, detail: unknown = null): HttpResponse => ({
  statusCode,
  body: { error: code, detail },
});

/** The detail of a ScenarioRunnerError without its `CODE: ` prefix. */
export function errorDetail(e: ScenarioRunnerError): string {
  return e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
}

export async function handleRunsRequest(req: HttpRequest, deps: RunsApiDependencies): Promise<HttpResponse> {
  const key = req.headers['x-sr-api-key'] ?? req.headers['x-ig-api-key'];
  const actor = authenticate({ 'x-ig-api-key': key }, await deps.apiKeys());
  if (!actor) return error(401, 'UNAUTHORIZED');
  const route = `${req.method.toUpperCase()} ${req.path.replace(/\/+$/, '')}`;
  if (route !== 'POST /v1/runs') return error(404, 'ROUTE_NOT_FOUND', route);

  const text = req.body ?? '';
  const size = Buffer.byteLength(text, 'utf8');
  if (size > deps.maxRequestBytes)
    return error(413, 'PAYLOAD_TOO_LARGE', `${size} bytes; the limit is ${deps.maxRequestBytes}`);
  let input: unknown;
  try {
    input = parseJsonLossless(text);
  } catch (e) {
    return error(400, 'INVALID_JSON', (e as Error).message);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return error(400, 'RUN_REQUEST_INVALID', 'the body must be one JSON object (a run submission)');

  try {
    const out = await deps.submit(input);
    if (out.disposition === 'UNAUTHORIZED') return error(403, 'AUTH_DENIED', out.message);
    return { statusCode: TERMINAL_STATES.has(out.state) ? 200 : 202, body: out };
  } catch (e) {
    if (e instanceof ScenarioRunnerError) return error(SUBMIT_ERROR_STATUS[e.code], e.code, errorDetail(e));
    return error(500, 'INTERNAL_ERROR', (e as Error).message ?? String(e));
  }
}
