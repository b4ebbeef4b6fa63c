import { canonicalJson } from '../contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { dedupeKey, payloadHash } from '../contracts/identity.ts';
import {
  eventClassOf,
  PartitionKeyMissing,
  REQUIRED_PINS,
  routeEnvelope,
} from '../contracts/partitioning.ts';
import type { AdmissionRow, Envelope, PayloadValidator } from './ports.ts';
import type { EnvelopeLike } from './quarantine-evidence.ts';
import { schemaPolicyCode } from './schema-policy.ts';

/**
 * The checks of control-ingress.md §5.3 that need nothing but the body, in order: envelope, class pins, schema
 * policy, payload schema, partition key, and the record's size on the bus (`RECORD_TOO_LARGE`, our addition:
 * a batch item may be larger than a Kinesis record); then the dedupe key and payload hash. What passes becomes the admission row to
 * reserve (which is also the outbox entry: it holds the record to publish).
 */

/** Kinesis: data plus partition key of one record, at most 1 MiB. */
export const MAX_BUS_RECORD_BYTES = 1_048_576;

export type { EnvelopeLike } from './quarantine-evidence.ts';
export { runPrefix } from './quarantine-evidence.ts';

export type Checked =
  | { kind: 'quarantine'; env: EnvelopeLike; code: string; detail: string }
  | { kind: 'candidate'; env: Envelope; row: AdmissionRow };

export const present = (v: unknown) => v !== undefined && v !== null && v !== '';

const quarantine = (env: EnvelopeLike, code: string, detail: string): Checked => ({
  kind: 'quarantine',
  env,
  code,
  detail,
});

export function checkEnvelope(body: unknown, payloads: PayloadValidator): Checked {
  const raw = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as EnvelopeLike;
  const parsed = CanonicalEnvelope.safeParse(body);
  if (!parsed.success)
    return quarantine(
      raw,
      'ENVELOPE_INVALID',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(envelope)'}: ${i.message}`).join('; '),
    );
  const env = parsed.data;

  const eventClass = eventClassOf(env.event_type);
  const missing = REQUIRED_PINS[eventClass].filter((pin) => !present((env as EnvelopeLike)[pin]));
  if (missing.length > 0) return quarantine(env, 'PINS_MISSING', missing.join(', '));

  const policyCode = schemaPolicyCode(env.event_type, env.schema_version);
  if (policyCode) return quarantine(env, policyCode, `event_type ${env.event_type}`);
  const problems = payloads.validate(env.event_type, env.payload);
  if (problems.length > 0) return quarantine(env, 'SCHEMA_FAIL', problems.join('; '));

  let route: ReturnType<typeof routeEnvelope>;
  try {
    route = routeEnvelope(env);
  } catch (error) {
    if (error instanceof PartitionKeyMissing)
      return quarantine(env, 'PARTITION_KEY_MISSING', `no key of the ${eventClass} profile has a value`);
    // A key field holding an object or an array: it has no preimage form (python-format.ts), so no key is made.
    if (error instanceof TypeError)
      return quarantine(
        env,
        'PARTITION_KEY_MISSING',
        `no key of the ${eventClass} profile has a usable value: ${error.message}`,
      );
    throw error;
  }
  let record: string;
  try {
    record = canonicalJson(env);
  } catch (error) {
    // Nesting past canonical JSON's limit: the body can be neither a bus record nor hashed.
    return quarantine(
      env,
      'ENVELOPE_INVALID',
      `not representable as canonical JSON: ${(error as Error).message}`,
    );
  }
  const size = Buffer.byteLength(record, 'utf8') + Buffer.byteLength(route.partitionKey, 'utf8');
  if (size > MAX_BUS_RECORD_BYTES)
    return quarantine(env, 'RECORD_TOO_LARGE', `${size} bytes; a bus record holds ${MAX_BUS_RECORD_BYTES}`);
  return {
    kind: 'candidate',
    env,
    row: {
      dedupe_key: dedupeKey(env.platform_run_id, eventClass, env.event_id),
      state: 'PUBLISH_PENDING',
      platform_run_id: env.platform_run_id ?? '',
      event_class: eventClass,
      event_id: env.event_id,
      event_type: env.event_type,
      payload_hash: payloadHash(env),
      stream: route.stream,
      partition_key: route.partitionKey,
      partitioning_profile_id: route.profileId,
      record,
      publish_attempts: 0,
      last_error: null,
      eb_ref: null,
      receipt_ref: null,
      admitted_at_utc: null,
    },
  };
}
