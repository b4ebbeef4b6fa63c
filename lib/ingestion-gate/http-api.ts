import { z } from 'zod';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { EventId } from '../contracts/envelope.ts';
import { Hex32, Hex64 } from '../contracts/wire-primitives.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import { type Actor, type Admission, type AdmissionResult, IngestionError } from './admission.ts';
import { type ApiKey, authenticate } from './auth.ts';
import type { HealthReport } from './ports.ts';
import { type ProducerPolicy, refusal } from './producer-policy.ts';
import type { SlidingWindowLimiter } from './rate-limit.ts';

/**
 * The IG HTTP API (control-ingress.md §5.1, with the project's posture from the spec README): every route needs
 * `X-IG-Api-Key` (401 `{"error":"UNAUTHORIZED","detail":null}`); QUARANTINE is a 200 with that decision; 4xx only
 * for requests that are not envelopes (not JSON 400 INVALID_JSON, not an object 400 NOT_AN_ENVELOPE, too large 413
 * PAYLOAD_TOO_LARGE, too many 429 RATE_LIMITED) or that the key may not make (403 PRODUCER_NOT_AUTHORIZED: the
 * producer policy); a push the gate cannot decide now is 503 with its reason code, and the producer retries. In a
 * batch each item is answered in place. Routes: POST /v1/ingest/push, POST /v1/ingest/batch, GET /v1/ops/health,
 * GET /v1/ops/lookup (400 LOOKUP_INVALID for a value that is not an id).
 */

export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  body: string | undefined;
}

export interface HttpResponse {
  statusCode: number;
  body: unknown;
}

/** The lookup's query: each value an id of its kind, so nothing else reaches the SQL. */
const LookupQuerySchema = z
  .object({
    event_id: EventId.optional(),
    receipt_id: Hex32.optional(),
    dedupe_key: Hex64.optional(),
  })
  .transform((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as LookupQuery);

export interface LookupQuery {
  event_id?: string;
  receipt_id?: string;
  dedupe_key?: string;
}

export interface GatewayDependencies {
  apiKeys(): Promise<readonly ApiKey[]>;
  producerPolicy: ProducerPolicy;
  limiter: SlidingWindowLimiter;
  maxRequestBytes: number;
  maxBatchBytes: number;
  maxBatchItems: number;
  /** Admits the bodies of one request together; one result per body, in order (admission.ts admitMany). */
  admit(bodies: readonly unknown[], actor: Actor): Promise<AdmissionResult[]>;
  health(): Promise<HealthReport>;
  lookup(query: LookupQuery): Promise<Record<string, unknown> | undefined>;
}

const error = (statusCode: number, code: string, detail: unknown = null): HttpResponse => ({
  statusCode,
  body: { error: code, detail },
});

function parseBody(
  req: HttpRequest,
  limit: number,
): { ok: true; value: unknown } | { ok: false; response: HttpResponse } {
  const text = req.body ?? '';
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limit)
    return { ok: false, response: error(413, 'PAYLOAD_TOO_LARGE', `${size} bytes; the limit is ${limit}`) };
  try {
    return { ok: true, value: parseJsonLossless(text, { preserveFloats: true }) };
  } catch (e) {
    return { ok: false, response: error(400, 'INVALID_JSON', (e as Error).message) };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

async function push(req: HttpRequest, actor: Actor, deps: GatewayDependencies): Promise<HttpResponse> {
  const parsed = parseBody(req, deps.maxRequestBytes);
  if (!parsed.ok) return parsed.response;
  if (!isObject(parsed.value))
    return error(400, 'NOT_AN_ENVELOPE', 'the body must be one JSON object (an envelope)');
  const refused = refusal(deps.producerPolicy, actor.principal, parsed.value);
  if (refused) return error(403, 'PRODUCER_NOT_AUTHORIZED', refused);
  if (!deps.limiter.tryTake()) return error(429, 'RATE_LIMITED', 'push rate limit reached; retry later');
  try {
    const [out] = await deps.admit([parsed.value], actor);
    if (out instanceof IngestionError) return error(503, out.code, out.detail);
    return { statusCode: 200, body: out };
  } catch (e) {
    if (e instanceof IngestionError) return error(503, e.code, e.detail);
    throw e;
  }
}

type ItemResult =
  | {
      index: number;
      decision: Admission['decision'];
      receipt_id: string;
      receipt_ref: string;
      reason_codes?: string[];
    }
  | { index: number; error: string; detail: string; retryable: boolean };

async function batch(req: HttpRequest, actor: Actor, deps: GatewayDependencies): Promise<HttpResponse> {
  const parsed = parseBody(req, deps.maxBatchBytes);
  if (!parsed.ok) return parsed.response;
  const items = isObject(parsed.value) ? parsed.value.envelopes : undefined;
  if (!Array.isArray(items))
    return error(400, 'BATCH_INVALID', 'the body must be {"envelopes": [envelope, …]}');
  if (items.length === 0 || items.length > deps.maxBatchItems)
    return error(
      400,
      'BATCH_SIZE_INVALID',
      `${items.length} envelopes; a batch holds 1 to ${deps.maxBatchItems}`,
    );
  if (!deps.limiter.tryTake(items.length))
    return error(429, 'RATE_LIMITED', 'push rate limit reached; retry later');
  const results: ItemResult[] = new Array(items.length);
  const envelopes: { index: number; body: Record<string, unknown> }[] = [];
  items.forEach((item, index) => {
    const refused = isObject(item) ? refusal(deps.producerPolicy, actor.principal, item) : undefined;
    if (!isObject(item))
      results[index] = {
        index,
        error: 'NOT_AN_ENVELOPE',
        detail: 'each item must be a JSON object',
        retryable: false,
      };
    else if (refused)
      results[index] = { index, error: 'PRODUCER_NOT_AUTHORIZED', detail: refused, retryable: false };
    else envelopes.push({ index, body: item });
  });
  let admitted: AdmissionResult[];
  try {
    admitted =
      envelopes.length > 0
        ? await deps.admit(
            envelopes.map((e) => e.body),
            actor,
          )
        : [];
  } catch (e) {
    if (e instanceof IngestionError) return error(503, e.code, e.detail);
    throw e;
  }
  envelopes.forEach(({ index }, n) => {
    const out = admitted[n];
    if (!out) throw new InvariantViolation(`no admission result for item ${index}`);
    results[index] =
      out instanceof IngestionError
        ? { index, error: out.code, detail: out.detail, retryable: true }
        : {
            index,
            decision: out.decision,
            receipt_id: out.receipt.receipt_id,
            receipt_ref: out.receipt_ref,
            ...(out.receipt.reason_codes ? { reason_codes: out.receipt.reason_codes } : {}),
          };
  });
  const count = (d: string) => results.filter((r) => 'decision' in r && r.decision === d).length;
  return {
    statusCode: 200,
    body: {
      results,
      admitted: count('ADMIT'),
      duplicate: count('DUPLICATE'),
      quarantined: count('QUARANTINE'),
      retry: results.filter((r) => 'error' in r).length,
    },
  };
}

export async function handleRequest(req: HttpRequest, deps: GatewayDependencies): Promise<HttpResponse> {
  const route = `${req.method.toUpperCase()} ${req.path.replace(/\/+$/, '')}`;
  const actor = authenticate(req.headers, await deps.apiKeys());
  if (!actor) return error(401, 'UNAUTHORIZED');
  try {
    switch (route) {
      case 'POST /v1/ingest/push':
        return await push(req, actor, deps);
      case 'POST /v1/ingest/batch':
        return await batch(req, actor, deps);
      case 'GET /v1/ops/health':
        return { statusCode: 200, body: await deps.health() };
      case 'GET /v1/ops/lookup': {
        const query = LookupQuerySchema.safeParse(req.query);
        if (!query.success)
          return error(
            400,
            'LOOKUP_INVALID',
            query.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`).join('; '),
          );
        if (Object.keys(query.data).length === 0)
          return error(400, 'MISSING_QUERY', 'give event_id, receipt_id or dedupe_key');
        return { statusCode: 200, body: (await deps.lookup(query.data)) ?? {} };
      }
      default:
        return error(404, 'ROUTE_NOT_FOUND', route);
    }
  } catch (e) {
    // A dependency the gate could not reach is a 503 to retry; anything else goes to the edge (a 500 without
    // internals in the answer, the error in the log).
    if (e instanceof IngestionError) return error(503, e.code, e.detail);
    throw e;
  }
}
