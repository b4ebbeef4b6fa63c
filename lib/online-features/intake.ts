import { advancedCheckpoint, compareOffsets } from '../contracts/consumer-checkpoint.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { payloadHash } from '../contracts/identity.ts';
import type { FeatureBusRecord, FeatureKey } from '../contracts/online-features.ts';
import {
  type EventClass,
  eventClassOf,
  PARTITION_PROFILES,
  REQUIRED_PINS,
} from '../contracts/partitioning.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { anchorEntitiesOf, anchorKeysOf, scalarId, trafficKeyOf } from './keys.ts';
import type { FeaturePolicy } from './policy.ts';
import type {
  FeatureCheckpoint,
  FeaturePrefetch,
  FeatureScope,
  OnlineFeatureStore,
  OnlineFeatureTransaction,
} from './ports.ts';
import { amountMicrosOf, bucketStartOf, tsMicrosOf } from './windows.ts';

/**
 * §2.3 intake of both feature topics: each record is judged and applied in one transaction — offset dedupe
 * (`ofp_applied_events`), semantic dedupe (`ofp_semantic_dedupe`: same hash a duplicate, another hash a
 * `payload_hash_mismatch` row that never overwrites), the observations and the checkpoint. A traffic event adds one
 * observation to its flow; a flow anchor adds one to each entity and composite key it names (lib/online-features/
 * keys.ts) and writes its entity row (distinct counterparts). Skipped records (invalid_envelope, invalid_pins,
 * run_scope_mismatch, ignored_event_type) are counted and advance. Only a store error escapes (the caller retries).
 *
 * Features read an allow-list of payload fields — `flow_id`, `amount`, the anchor's entity ids — and the envelope's
 * `ts_utc`; nothing else of the payload, so the engine's ground truth cannot feed a feature (the scramble test in
 * test/unit/online-features/intake.test.ts holds it, for traffic and anchors).
 */

export const TRAFFIC_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.traffic.fraud'].stream;
export const FLOW_ANCHOR_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.context.flow_anchor.fraud'].stream;
/** The topics the Online Feature Plane consumes. */
export const ONLINE_FEATURE_TOPICS = [TRAFFIC_TOPIC, FLOW_ANCHOR_TOPIC] as const;

export interface OnlineFeatureIntakeSettings {
  /** The run scope gate: records of other runs are run_scope_mismatch (undefined: every run is in scope). */
  requiredPlatformRunId?: string;
  /**
   * Event types that carry features (traffic or flow anchors); every other type is ignored_event_type. Default:
   * DEFAULT_APPLIED_EVENT_TYPES.
   */
  appliedEventTypes?: readonly string[];
  /**
   * When given, only the key types its groups answer for are written, and anchors' entity rows only when a group
   * counts distinct counterparts; without it, every key an event feeds.
   */
  policy?: FeaturePolicy;
}

export const DEFAULT_APPLIED_EVENT_TYPES: readonly string[] = [
  's3_event_stream_with_fraud_6B',
  's2_event_stream_baseline_6B',
  's3_flow_anchor_with_fraud_6B',
  's2_flow_anchor_baseline_6B',
];

/** Classes whose events are flow anchors; any other applied type is traffic (keyed by its flow). */
const ANCHOR_CLASSES: readonly EventClass[] = ['context_flow_fraud', 'context_flow_baseline'];

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

type Checked = { skip: SkipReason; eventId: string | null } | { envelope: CanonicalEnvelope };

/** The §2.3 skips in the reference's order. */
function check(record: FeatureBusRecord, settings: OnlineFeatureIntakeSettings): Checked {
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
  if (!(settings.appliedEventTypes ?? DEFAULT_APPLIED_EVENT_TYPES).includes(envelope.event_type))
    return { skip: 'ignored_event_type', eventId: envelope.event_id };
  return { envelope };
}

export { compareOffsets };

const ebRefOf = (record: FeatureBusRecord): EbRef => ({
  topic: record.topic,
  partition: record.partition,
  offset: record.offset,
  offset_kind: record.offset_kind,
  ...(record.published_at_utc === undefined ? {} : { published_at_utc: record.published_at_utc }),
});

/** Moves the checkpoint to the higher offset and the higher event time; answers the one before. */
async function advance(
  transaction: OnlineFeatureTransaction,
  record: FeatureBusRecord,
  tsUtc: string | undefined,
): Promise<FeatureCheckpoint | undefined> {
  const current = await transaction.readCheckpoint(record.topic, record.partition);
  await transaction.writeCheckpoint(advancedCheckpoint(current, record, tsUtc));
  return current;
}

/** Each metric counts twice: `<name>` and `<name>|topic=<t>`. */
const metricNames = (topic: string, ...names: string[]) =>
  names.flatMap((name) => [name, `${name}|topic=${topic}`]);

/** What the intake writes under a policy (everything without one). */
interface WritePlan {
  keyTypes: ReadonlySet<string> | undefined;
  sightings: boolean;
}

const writePlanOf = (policy: FeaturePolicy | undefined): WritePlan => ({
  keyTypes: policy && new Set(policy.feature_groups.flatMap((g) => g.key_types)),
  sightings: !policy || policy.feature_groups.some((g) => g.distinct_counterparts.length > 0),
});

/** Writes the event's observations (and an anchor's entity row); answers the keys it fed. */
async function observe(
  transaction: OnlineFeatureTransaction,
  scope: FeatureScope,
  envelope: CanonicalEnvelope,
  isAnchor: boolean,
  plan: WritePlan,
): Promise<FeatureKey[]> {
  const tsMicros = tsMicrosOf(envelope.ts_utc);
  const entities = isAnchor ? anchorEntitiesOf(envelope) : {};
  const keys = (isAnchor ? anchorKeysOf(entities) : [trafficKeyOf(envelope)]).filter(
    (key) => plan.keyTypes === undefined || plan.keyTypes.has(key.key_type),
  );
  const amountMicros = amountMicrosOf(envelope.payload?.amount);
  const observation = {
    scope,
    event_id: envelope.event_id,
    event_ts_micros: tsMicros,
    bucket_start_micros: bucketStartOf(tsMicros),
    amount_micros: amountMicros,
  };
  if (keys.length > 0) await transaction.addObservations(keys.map((key) => ({ ...observation, key })));
  if (isAnchor && plan.sightings)
    await transaction.addEntitySighting({
      scope,
      event_id: envelope.event_id,
      event_ts_micros: tsMicros,
      flow_id: scalarId(envelope.payload?.flow_id),
      entities,
    });
  return keys;
}

/** §2.3 apply of one record of either topic (traffic or flow anchor), in one transaction. */
export async function applyOnlineFeatureRecord(
  store: OnlineFeatureStore,
  record: FeatureBusRecord,
  settings: OnlineFeatureIntakeSettings,
  checked: Checked = check(record, settings),
): Promise<FeatureApplyOutcome> {
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
    const isAnchor = ANCHOR_CLASSES.includes(eventClass);
    const keys = await observe(transaction, scope, envelope, isAnchor, writePlanOf(settings.policy));
    const before = await advance(transaction, record, envelope.ts_utc);
    const late = Boolean(before?.watermark_ts_utc && envelope.ts_utc < before.watermark_ts_utc);
    await count('events_applied', ...(late ? ['late_events_applied'] : []));
    return { status: 'APPLIED', event_id: envelope.event_id, keys, late };
  });
}

/** The offset and semantic dedupe rows a batch's records will read. */
function prefetchOf(records: readonly FeatureBusRecord[], checked: readonly Checked[]): FeaturePrefetch {
  const events = checked.flatMap((c) =>
    'skip' in c
      ? []
      : [
          {
            platform_run_id: c.envelope.platform_run_id as string,
            event_class: eventClassOf(c.envelope.event_type),
            event_id: c.envelope.event_id,
          },
        ],
  );
  return { offsets: records.map(ebRefOf), events };
}

/**
 * Applies a batch in order, one transaction per record (inside a batch transaction, the records of one unit of
 * work), the dedupe rows they will read loaded first, at once; a store error stops the batch at that record.
 */
export async function applyOnlineFeatureBatch(
  store: OnlineFeatureStore,
  records: readonly FeatureBusRecord[],
  settings: OnlineFeatureIntakeSettings,
): Promise<FeatureApplyOutcome[]> {
  const checked = records.map((record) => check(record, settings));
  if (records.length > 0)
    await store.inTransaction((transaction) => transaction.prefetch(prefetchOf(records, checked)));
  const outcomes: FeatureApplyOutcome[] = [];
  for (const [i, record] of records.entries())
    outcomes.push(await applyOnlineFeatureRecord(store, record, settings, checked[i]));
  return outcomes;
}
