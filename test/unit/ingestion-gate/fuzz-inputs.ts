import fc from 'fast-check';
import type { HttpRequest } from '../../../lib/ingestion-gate/http-api.ts';
import { envelope } from './admission-fakes.ts';

/**
 * Hostile inputs for the gate's fuzz suite (fuzz.test.ts): JSON text written by hand, so a body can hold what
 * JSON.stringify never writes (integers beyond 2^64, a raw lone surrogate, nesting past any limit), envelopes
 * with fields replaced or deleted, batches mixing them, and requests with random keys, routes and queries.
 */

/** JSON text put into a body as it is. */
export class Raw {
  constructor(readonly text: string) {}
}

/** JSON text of a value: bigint as its digits, Raw verbatim, strings as JSON.stringify writes them. */
export function jsonText(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

const nested = (depth: number, open: string, close: string, leaf = '1') =>
  new Raw(`${open.repeat(depth)}${leaf}${close.repeat(depth)}`);

/** One UTF-16 unit or code point, biased to what breaks ids, keys and logs. */
const hostileChar = fc.oneof(
  fc.constantFrom('\u0000', '\u001f', '\u007f', '\ud800', '\udbff', '\udc00', '\u2028', '\u202e', '\ufeff'),
  fc.constantFrom('/', '.', '\\', '"', '%', '*', '?', '#', ' ', '\n'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
);
export const hostileString = fc.string({ unit: hostileChar, maxLength: 40 });

const RUN = 'platform_20260301T000000Z';
/** Values that a field must never pass through to a key, a SQL value or a log unchecked. */
const hostileConstant = fc.constantFrom<unknown>(
  '\u0000',
  'a\u0000b',
  'x'.repeat(3_000),
  '\ud800',
  '\udbffX',
  'X\udc00',
  '',
  ' ',
  '..',
  '../../x',
  '/abs',
  `${RUN}/../../x`,
  `${RUN}/`,
  'platform_99999999T999999Z',
  `platform_20260301T000000Z${'\u0000'}`,
  `${'s'.repeat(300)}/${'t'.repeat(300)}`,
  '%2e%2e%2f',
  'a'.repeat(257),
  new Raw('"\ud800raw"'),
  new Raw('"\\ud800"'),
  new Raw('"\\u0000"'),
  new Raw('18446744073709551617'),
  new Raw('-18446744073709551617'),
  new Raw('340282366920938463463374607431768211457'),
  new Raw('1e400'),
  new Raw('-0'),
  new Raw('1.0'),
  new Raw('0.1'),
  new Raw('{"__proto__":{"polluted":true},"constructor":{"prototype":{}}}'),
  2 ** 53,
  -1,
  1.5,
  true,
  false,
  null,
  [],
  {},
  { a: {} },
  [1, [2, [3]]],
  nested(998, '[', ']'),
  nested(1_100, '[', ']'),
  nested(1_100, '{"a":', '}'),
  nested(3_000, '[', ']'),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileConstant },
  { weight: 2, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

/** Envelopes each principal of config/ingestion-gate/producer-policy.json may push (decisions, cases, audit too). */
export const BASES = [
  envelope(),
  envelope({
    event_type: 'decision_response',
    schema_version: 'v1',
    producer: 'svc:decision_fabric',
    payload: { decision_id: 'd-1', source_event: { event_id: 'src-1' }, pins: { platform_run_id: RUN } },
  }),
  envelope({
    event_type: 'case_trigger',
    schema_version: 'v1',
    producer: 'svc:case_trigger',
    payload: { case_id: 'case-1', case_subject_key: { event_id: 'src-1' } },
  }),
  envelope({ event_type: 'ig.quarantine.spike', producer: 'svc:ingestion_gate', payload: {} }),
  envelope({
    event_type: 'action_outcome',
    schema_version: 'v1',
    producer: 'svc:action_layer',
    payload: { idempotency_key: 'idem-1', decision_id: 'd-1' },
  }),
];
/** The base each principal pushes (operator pushes nothing). */
const BASE_OF: Record<string, number> = {
  world_streamer: 0,
  decision_fabric: 1,
  case_trigger: 2,
  ingestion_gate: 3,
  action_layer: 4,
};

const DELETE = Symbol('delete');
const FIELDS = [
  ...Object.keys(envelope()),
  'emitted_at_utc',
  'schema_version',
  'trace_id',
  'span_id',
  'parent_event_id',
];
const PAYLOAD_FIELDS = [
  'flow_id',
  'merchant_id',
  'event_seq',
  'amount',
  'extra_column',
  'source_event',
  'pins',
  'case_id',
  'idempotency_key',
  'decision_id',
];
const path = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 3, arbitrary: fc.constantFrom(...PAYLOAD_FIELDS).map((f) => `payload.${f}`) },
  { weight: 1, arbitrary: hostileString.filter((s) => s.length > 0 && !s.includes('.')) },
);
const mutation = fc.tuple(path, fc.oneof(fc.constant<unknown>(DELETE), hostileValue));

/** The event ids of a run come from a small pool, so ADMIT, DUPLICATE and PAYLOAD_HASH_MISMATCH all happen. */
const eventId = fc.constantFrom('e'.repeat(64), 'evt-1');

function mutate(base: Record<string, unknown>, id: string, mutations: [string, unknown][]) {
  const out: Record<string, unknown> = { ...structuredClone(base), event_id: id };
  for (const [at, value] of mutations) {
    const [head, sub] = at.startsWith('payload.') ? ['payload', at.slice(8)] : [at, undefined];
    let target = out;
    if (sub !== undefined) {
      const payload = out.payload;
      if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) continue;
      target = payload as Record<string, unknown>;
    }
    const key = sub ?? head;
    if (value === DELETE) delete target[key];
    // A copy: the constants are shared, and a later mutation must not write into one (or make a cycle).
    else target[key] = value instanceof Raw ? value : structuredClone(value);
  }
  return out;
}

/**
 * A valid envelope (its event id from the pool), or one with up to three fields replaced or deleted; mostly of
 * the type `principal` may push, so most reach admission rather than the producer policy.
 */
export function envelopeValue(principal: string): fc.Arbitrary<Record<string, unknown>> {
  const own = BASE_OF[principal];
  const base = fc.oneof(
    { weight: own === undefined ? 0 : 4, arbitrary: fc.constant(BASES[own ?? 0] as Record<string, unknown>) },
    { weight: 1, arbitrary: fc.constantFrom(...BASES) },
  );
  const mutations = fc.oneof(
    fc.constant<[string, unknown][]>([]),
    fc.array(mutation, { minLength: 1, maxLength: 1 }),
    fc.array(mutation, { minLength: 2, maxLength: 3 }),
  );
  return fc.tuple(base, eventId, mutations).map(([b, id, m]) => mutate(b, id, m));
}

/** Over the 1 MiB push limit, and (in a batch) an envelope past the 1 MiB of a bus record. */
export const HUGE_ENVELOPE = new Raw(
  jsonText(envelope({ payload: { flow_id: 1, blob: 'x'.repeat(1_100_000) } })),
);

const junkBody = fc.oneof(
  hostileString,
  fc.json({ maxDepth: 4 }),
  fc.constantFrom('', ' ', 'null', '[]', '"x"', '{', '{"a":}', '\ud800', '\u0000', '{}', '[{}]'),
  fc.constantFrom(nested(200_000, '[', ']').text, nested(1_100, '{"a":', '}').text),
);

const pushBody = (principal: string): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    { weight: 6, arbitrary: envelopeValue(principal).map(jsonText) },
    { weight: 3, arbitrary: junkBody },
    { weight: 1, arbitrary: fc.constantFrom(undefined, HUGE_ENVELOPE.text) },
  );

const batchItem = (principal: string) =>
  fc.oneof(
    { weight: 6, arbitrary: envelopeValue(principal) },
    { weight: 2, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(HUGE_ENVELOPE, [envelope()], null, 7, 'envelope') },
  );

const batchBody = (principal: string): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .array(batchItem(principal), { minLength: 1, maxLength: 12 })
        .map((envelopes) => jsonText({ envelopes })),
    },
    { weight: 2, arbitrary: junkBody },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        '{"envelopes":[]}',
        '{"envelopes":{}}',
        '{"envelopes":null}',
        `[${jsonText(envelope())}]`,
        `{"envelopes":[${'{},'.repeat(500)}{}]}`,
      ),
    },
  );

const hex = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const lookupValue = fc.oneof(
  fc.constant(undefined),
  eventId,
  hex(32),
  hex(64),
  hostileString,
  fc.constantFrom('x'.repeat(3_000), 'A'.repeat(32)),
);
const query = fc.record(
  { event_id: lookupValue, receipt_id: lookupValue, dedupe_key: lookupValue, other: lookupValue },
  { requiredKeys: [] },
);

/** How the request authenticates: the principal's key, none, a near miss, or noise. */
export type Auth = 'key' | 'none' | 'upper' | 'prefix' | 'random';
export interface FuzzRequest {
  principal: string;
  auth: Auth;
  noise: string;
  req: Omit<HttpRequest, 'headers'>;
}

const route = (method: string, paths: string[], extra: Partial<FuzzRequest['req']>) =>
  fc.constantFrom(...paths).map((p) => ({ method, path: p, query: {}, body: undefined, ...extra }));

export function fuzzRequest(principals: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const req = (principal: string) =>
    fc.oneof(
      {
        weight: 8,
        arbitrary: pushBody(principal).chain((body) =>
          route('POST', ['/v1/ingest/push', '/v1/ingest/push/'], { body }),
        ),
      },
      {
        weight: 5,
        arbitrary: batchBody(principal).chain((body) => route('POST', ['/v1/ingest/batch'], { body })),
      },
      { weight: 1, arbitrary: route('GET', ['/v1/ops/health', '/v1/ops/health//'], {}) },
      { weight: 3, arbitrary: query.chain((q) => route('GET', ['/v1/ops/lookup'], { query: q })) },
      {
        weight: 1,
        arbitrary: fc.record({
          method: fc.constantFrom('GET', 'post', 'DELETE', 'PUT', ''),
          path: fc.oneof(hostileString, fc.constantFrom('/v1/ingest/pull', '/', '/v1/ingest/push/..', '')),
          query: fc.constant({}),
          body: fc.option(hostileString, { nil: undefined }),
        }),
      },
    );
  const auth = fc.oneof(
    { weight: 12, arbitrary: fc.constant<Auth>('key') },
    { weight: 1, arbitrary: fc.constantFrom<Auth>('none', 'upper', 'prefix', 'random') },
  );
  return fc
    .constantFrom(...principals)
    .chain((principal) =>
      fc.record({ principal: fc.constant(principal), auth, noise: hostileString, req: req(principal) }),
    );
}
