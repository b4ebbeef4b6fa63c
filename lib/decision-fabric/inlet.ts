import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { PARTITION_PROFILES, REQUIRED_PINS } from '../contracts/partitioning.ts';

/**
 * The Decision Fabric's inlet (downstream.md §3.2, §9 #6): which bus records it decides on. Only
 * `s3_event_stream_with_fraud_6B` at schema v1 on the traffic topic, with the six pins and an event id, is a source
 * event; everything else is rejected with a reason (and its offset advanced by the caller). The fabric's own outputs
 * and the other planes' (`decision_response`, `action_intent`, `action_outcome`, `degrade_posture`, `ig.*`, `al.*`,
 * `df.*`) are LOOP_PREVENTION, so a decision never feeds a decision.
 */

export const DECISION_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.traffic.fraud'].stream;
export const DECIDED_EVENT_TYPE = 's3_event_stream_with_fraud_6B';
export const DECIDED_SCHEMA_VERSION = 'v1';

const LOOP_EVENT_TYPES: ReadonlySet<string> = new Set([
  'decision_response',
  'action_intent',
  'action_outcome',
  'degrade_posture',
]);
const LOOP_PREFIXES = ['ig.', 'al.', 'df.'];

export const INLET_REJECTIONS = [
  'INVALID_ENVELOPE',
  'NON_TRAFFIC_TOPIC',
  'LOOP_PREVENTION',
  'EVENT_TYPE_NOT_ALLOWED',
  'SCHEMA_VERSION_REQUIRED',
  'SCHEMA_VERSION_NOT_ALLOWED',
  'MISSING_REQUIRED_PINS',
  'MISSING_EVENT_ID',
] as const;
export type InletRejection = (typeof INLET_REJECTIONS)[number];

export type InletVerdict =
  | { accepted: true; envelope: CanonicalEnvelope }
  | { accepted: false; reason: InletRejection; detail: string | null };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const blank = (value: unknown) => value === null || value === undefined || value === '';

/** The inlet checks in the reference's order; the first that fails names the reason. */
export function inletVerdict(topic: string, raw: unknown): InletVerdict {
  const reject = (reason: InletRejection, detail: string | null = null): InletVerdict => ({
    accepted: false,
    reason,
    detail,
  });
  if (!isObject(raw)) return reject('INVALID_ENVELOPE', 'not a JSON object');
  if (topic !== DECISION_TOPIC) return reject('NON_TRAFFIC_TOPIC', topic);
  const eventType = typeof raw.event_type === 'string' ? raw.event_type : '';
  if (LOOP_EVENT_TYPES.has(eventType) || LOOP_PREFIXES.some((prefix) => eventType.startsWith(prefix)))
    return reject('LOOP_PREVENTION', eventType);
  if (eventType !== DECIDED_EVENT_TYPE) return reject('EVENT_TYPE_NOT_ALLOWED', eventType || null);
  if (blank(raw.schema_version)) return reject('SCHEMA_VERSION_REQUIRED');
  if (raw.schema_version !== DECIDED_SCHEMA_VERSION)
    return reject('SCHEMA_VERSION_NOT_ALLOWED', String(raw.schema_version));
  // The six pins a decision carries (the engine's run_id is not one of them).
  const missing = REQUIRED_PINS.rtdl_decision.filter((pin) => blank(raw[pin]));
  if (missing.length > 0) return reject('MISSING_REQUIRED_PINS', missing.join(','));
  if (blank(raw.event_id)) return reject('MISSING_EVENT_ID');
  const parsed = CanonicalEnvelope.safeParse(raw);
  if (!parsed.success) return reject('INVALID_ENVELOPE', parsed.error.issues[0]?.path.join('.') ?? null);
  return { accepted: true, envelope: parsed.data };
}
