import { advancedCheckpoint, compareOffsets } from '../contracts/consumer-checkpoint.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { payloadHash } from '../contracts/identity.ts';
import type { FeatureKey, TrafficBusRecord } from '../contracts/online-features.ts';
import { eventClassOf, PARTITION_PROFILES, REQUIRED_PINS } from '../contracts/partitioning.ts';
import { pythonStr } from '../contracts/python-format.ts';
import type { EbRef } from '../contracts/receipts.ts';
import type { FeatureCheckpoint, OnlineFeatureStore, OnlineFeatureTransaction } from './ports.ts';
import { amountMicrosOf, bucketStartOf, ENTITY_KEY_TYPES, tsMicrosOf } from './windows.ts';

/**
 * §2.3 intake: each traffic record is judged and applied in one transaction — offset dedupe
 * (`ofp_applied_events`), semantic dedupe (`ofp_semantic_dedupe`: same hash a duplicate, another hash a
 * `payload_hash_mismatch` row that never overwrites), one observation per key (bucket + event row) and the
 * checkpoint. Skipped records (invalid_envelope, invalid_pins, run_scope_mismatch, ignored_event_type) are counted
 * and advance. Only a store error escapes (the caller retries the record).
 *
 * Features read an allow-list of payload fields — `flow_id`, `amount`, the entity ids — and the envelope's `ts_utc`;
 * nothing else of the payload, so the engine's ground truth cannot feed a feature (the scramble test in
 * test/unit/online-features/intake.test.ts holds it).
 */

export const TRAFFIC_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.traffic.fraud'].stream;

export interface OnlineFeatureIntakeSettings {
  /** The run scope gate: records of other runs are run_scope_mismatch (undefined: every run is in scope). */
  requiredPlatformRunId?: string;
  /** Event types that carry features; every other type is ignored_event_type. */
  appliedEventTypes: readonly string[];
}

export const DEFAULT_APPLIED_EVENT_TYPES: readonly string[] = [
  's3_event_stream_with_fraud_6B',
  's2_event_stream_baseline_6B',
];

export const SKIP_REASONS = [
  'invalid_envelope',
  'invalid_pins',
  'run_scope_mismatch',
  'ignored_event_type',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export type FeatureApplyOutcome =
  | { status: 'APPLIED'; event_id: string; keys: FeatureKey[]; late: boolean }
  | { status: 'DUPLICATE'; event_id: string | null; basis: 'offset' | 'semantic' }
  | { status: 'PAYLOAD_HASH_MISMATCH'; event_id: string }
  | { status: 'SKIPPED'; reason: SkipReason; event_id: string | null };

const blank = (value: unknown) => value === null || value === undefined || value === '';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const scalarId = (value: unknown): string | undefined =>
  !blank(value) && ['string', 'number', 'bigint'].includes(typeof value) ? pythonStr(value) : undefined;

/** The keys an event feeds: its flow (else its event id), then every entity id its payload carries. */
export function featureKeysOf(envelope: CanonicalEnvelope): FeatureKey[] {
  const payload = envelope.payload ?? {};
  const flowId = scalarId(payload.flow_id);
  const keys: FeatureKey[] = [
    flowId === undefined
      ? { key_type: 'event_id', key_id: envelope.event_id }
      : { key_type: 'flow_id', key_id: flowId },
  ];
  for (const keyType of ENTITY_KEY_TYPES) {
    const id = scalarId(payload[keyType]);
    if (id !== undefined) keys.push({ key_type: keyType, key_id: id });
  }
  return keys;
}

type Checked = { skip: SkipReason; eventId: string | null } | { envelope: CanonicalEnvelope };

/** The §2.3 skips in the reference's order. */
function check(record: TrafficBusRecord, settings: OnlineFeatureIntakeSettings): Checked {
  const raw = record.envelope;
  const rawId = isObject(raw) && typeof raw.event_id === 'string' ? raw.event_id : null;
  const parsed = CanonicalEnvelope.safeParse(raw);
  if (!parsed.success) return { skip: 'invalid_envelope', eventId: rawId };
  const envelope = parsed.data;
  const pins = REQUIRED_PINS[eventClassOf(envelope.event_type)];
  if (
    pins.some((pin) => blank((envelope as Record<string, unknown>)[pin])) ||
    blank(envelope.platform_run_id)
  )
    return { skip: 'invalid_pins', eventId: envelope.event_id };
  if (settings.requiredPlatformRunId && envelope.platform_run_id !== settings.requiredPlatformRunId)
    return { skip: 'run_scope_mismatch', eventId: envelope.event_id };
  if (!settings.appliedEventTypes.includes(envelope.event_type))
    return { skip: 'ignored_event_type', eventId: envelope.event_id };
  return { envelope };
}

export { compareOffsets };

const ebRefOf = (record: TrafficBusRecord): EbRef => ({
  topic: record.topic,
  partition: record.partition,
  offset: record.offset,
  offset_kind: record.offset_kind,
  ...(record.published_at_utc === undefined ? {} : { published_at_utc: record.published_at_utc }),
});

/** Moves the checkpoint to the higher offset and the higher event time; answers the one before. */
async function advance(
  transaction: OnlineFeatureTransaction,
  record: TrafficBusRecord,
  tsUtc: string | undefined,
): Promise<FeatureCheckpoint | undefined> {
  const current = await transaction.readCheckpoint(record.topic, record.partition);
  await transaction.writeCheckpoint(advancedCheckpoint(current, record, tsUtc));
  return current;
}

/** Each metric counts twice: `<name>` and `<name>|topic=<t>`. */
const metricNames = (topic: string, ...names: string[]) =>
  names.flatMap((name) => [name, `${name}|topic=${topic}`]);

/** §2.3 apply of one traffic record, in one transaction. */
export async function applyTrafficRecord(
  store: OnlineFeatureStore,
  record: TrafficBusRecord,
  settings: OnlineFeatureIntakeSettings,
): Promise<FeatureApplyOutcome> {
  const checked = check(record, settings);
  const ebRef = ebRefOf(record);
  return store.inTransaction(async (transaction): Promise<FeatureApplyOutcome> => {
    const count = (...names: string[]) =>
      transaction.incrementMetrics(metricNames(record.topic, 'events_seen', ...names));
    const eventId = 'skip' in checked ? checked.eventId : checked.envelope.event_id;
    if ((await transaction.registerOffset(ebRef, eventId)) === 'duplicate') {
      await count('duplicates');
      await advance(transaction, record, undefined);
      return { status: 'DUPLICATE', event_id: eventId, basis: 'offset' };
    }
    if ('skip' in checked) {
      await count(checked.skip);
      await advance(transaction, record, undefined);
      return { status: 'SKIPPED', reason: checked.skip, event_id: checked.eventId };
    }
    const { envelope } = checked;
    const platformRunId = envelope.platform_run_id as string;
    const eventClass = eventClassOf(envelope.event_type);
    const hash = payloadHash(envelope);
    const registration = await transaction.registerEvent({
      platform_run_id: platformRunId,
      event_class: eventClass,
      event_id: envelope.event_id,
      payload_hash: hash,
      eb_ref: ebRef,
      event_ts_utc: envelope.ts_utc,
    });
    if (registration !== 'inserted') {
      if (registration === 'mismatch')
        await transaction.recordPayloadMismatch({
          platform_run_id: platformRunId,
          event_class: eventClass,
          event_id: envelope.event_id,
          incoming_payload_hash: hash,
          eb_ref: ebRef,
        });
      await count(registration === 'mismatch' ? 'payload_hash_mismatch' : 'duplicates');
      await advance(transaction, record, envelope.ts_utc);
      return registration === 'mismatch'
        ? { status: 'PAYLOAD_HASH_MISMATCH', event_id: envelope.event_id }
        : { status: 'DUPLICATE', event_id: envelope.event_id, basis: 'semantic' };
    }
    const scope = {
      platform_run_id: platformRunId,
      scenario_run_id: (envelope.scenario_run_id ?? envelope.run_id) as string,
    };
    const tsMicros = tsMicrosOf(envelope.ts_utc);
    const amountMicros = amountMicrosOf(envelope.payload?.amount);
    const keys = featureKeysOf(envelope);
    for (const key of keys)
      await transaction.addObservation({
        scope,
        key,
        event_id: envelope.event_id,
        event_ts_micros: tsMicros,
        bucket_start_micros: bucketStartOf(tsMicros),
        amount_micros: amountMicros,
      });
    const before = await advance(transaction, record, envelope.ts_utc);
    const late = Boolean(before?.watermark_ts_utc && envelope.ts_utc < before.watermark_ts_utc);
    await count('events_applied', ...(late ? ['late_events_applied'] : []));
    return { status: 'APPLIED', event_id: envelope.event_id, keys, late };
  });
}

/** Applies a batch in order, one transaction per record; a store error stops the batch at that record. */
export async function applyTrafficBatch(
  store: OnlineFeatureStore,
  records: readonly TrafficBusRecord[],
  settings: OnlineFeatureIntakeSettings,
): Promise<FeatureApplyOutcome[]> {
  const outcomes: FeatureApplyOutcome[] = [];
  for (const record of records) outcomes.push(await applyTrafficRecord(store, record, settings));
  return outcomes;
}
