import { replayPinMismatches } from '../contracts/consumer-checkpoint.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { payloadHash } from '../contracts/identity.ts';
import {
  GRAPH_CLASSIFICATION_V0,
  type GraphClassificationPolicy,
  graphDedupeKey,
  IDENTITY_HINTS_V0,
  type IdentityGraphBusRecord,
  type IdentityHintsPolicy,
} from '../contracts/identity-graph.ts';
import { type EventClass, eventClassOf, REQUIRED_PINS } from '../contracts/partitioning.ts';
import { describeIssues } from '../errors/platform-error.ts';
import {
  advancedCheckpoint,
  arrivalKeyOf,
  ebRefOf,
  flowEdgesOf,
  graphFailureId,
  graphPinsOf,
  type IdentityHint,
  identityHintsOf,
} from './graph.ts';
import {
  GraphApplyConflict,
  type GraphApplyFailure,
  type GraphMetricName,
  type GraphPrefetch,
  type IdentityGraphStore,
  type IdentityGraphTransaction,
} from './ports.ts';

/**
 * §2.2 apply of one traffic or context record, in one transaction: the checks in the reference's order (the first
 * that fails writes an `ieg_apply_failures` row and advances), irrelevant events counted and advanced, dedupe, then
 * entities, identifiers and the flow edges. Only a store error escapes (the caller retries the record).
 */

export interface IdentityGraphSettings {
  /** The run-scope gate: records of other runs are RUN_SCOPE_MISMATCH (undefined: every run is in scope). */
  requiredPlatformRunId?: string;
  /** A replay names the pins its records must carry; a record with others is REPLAY_PINS_MISMATCH. */
  replayPins?: Readonly<Record<string, unknown>>;
  classification: GraphClassificationPolicy;
  identityHints: IdentityHintsPolicy;
  /** Required pins per event class (IG's class map). */
  requiredPins: Readonly<Record<EventClass, readonly string[]>>;
}

export const DEFAULT_IDENTITY_GRAPH_SETTINGS: IdentityGraphSettings = {
  classification: GRAPH_CLASSIFICATION_V0,
  identityHints: IDENTITY_HINTS_V0,
  requiredPins: REQUIRED_PINS,
};

export const GRAPH_FAILURE_REASONS = [
  'ENVELOPE_INVALID',
  'REQUIRED_PINS_MISSING',
  'PLATFORM_RUN_ID_MISSING',
  'RUN_SCOPE_MISMATCH',
  'REPLAY_PINS_MISMATCH',
  'CLASSIFICATION_UNSUPPORTED',
  'SCENARIO_RUN_ID_MISSING',
  'IDENTITY_HINTS_MISSING',
  'PAYLOAD_HASH_MISMATCH',
] as const;
export type GraphFailureReason = (typeof GRAPH_FAILURE_REASONS)[number];

/** The events whose entities meet under their arrival (merchant_id, arrival_seq), so their flow gets edges. */
const ARRIVAL_JOIN_EVENT_TYPES: ReadonlySet<string> = new Set([
  's1_arrival_entities_6B',
  's2_flow_anchor_baseline_6B',
  's3_flow_anchor_with_fraud_6B',
]);

export type GraphApplyOutcome =
  | { status: 'APPLIED'; event_id: string; entity_ids: string[]; edge_ids: string[] }
  | { status: 'DUPLICATE'; event_id: string }
  | { status: 'IRRELEVANT'; event_id: string }
  | { status: 'FAILED'; reason_code: GraphFailureReason; event_id: string | null };

type Rejection = {
  reason: GraphFailureReason;
  details: Record<string, unknown>;
  envelope: Record<string, unknown>;
};
type Accepted = {
  envelope: CanonicalEnvelope;
  eventClass: EventClass;
  irrelevant: boolean;
  scenarioRunId: string;
  hints: IdentityHint[];
};

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const blank = (value: unknown) => value === null || value === undefined || value === '';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const replayMismatches = (replayPins: Readonly<Record<string, unknown>>, envelope: CanonicalEnvelope) =>
  replayPinMismatches(replayPins, envelope as Record<string, unknown>);

/** The §2.2 checks in order; the first that fails names the reason. */
function check(record: IdentityGraphBusRecord, settings: IdentityGraphSettings): Rejection | Accepted {
  const raw = record.envelope;
  const parsed = CanonicalEnvelope.safeParse(raw);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error.issues).slice(0, 512);
    const envelope = isObject(raw) ? raw : {};
    return {
      reason: 'ENVELOPE_INVALID',
      details: { event_type: text(envelope.event_type), issues },
      envelope,
    };
  }
  const envelope = parsed.data;
  const fields = envelope as Record<string, unknown>;
  const eventClass = eventClassOf(envelope.event_type);
  // platform_run_id has a reason of its own (checked next), so an envelope missing only it says so.
  const missing = settings.requiredPins[eventClass].filter(
    (pin) => pin !== 'platform_run_id' && blank(fields[pin]),
  );
  if (missing.length > 0) return { reason: 'REQUIRED_PINS_MISSING', details: { missing }, envelope };
  if (blank(envelope.platform_run_id)) return { reason: 'PLATFORM_RUN_ID_MISSING', details: {}, envelope };
  if (settings.requiredPlatformRunId && envelope.platform_run_id !== settings.requiredPlatformRunId)
    return {
      reason: 'RUN_SCOPE_MISMATCH',
      details: { expected: settings.requiredPlatformRunId, actual: envelope.platform_run_id },
      envelope,
    };
  if (settings.replayPins) {
    const mismatches = replayMismatches(settings.replayPins, envelope);
    if (Object.keys(mismatches).length > 0)
      return { reason: 'REPLAY_PINS_MISMATCH', details: { mismatches }, envelope };
  }
  const scenarioRunId = envelope.scenario_run_id ?? '';
  if (settings.classification.graph_irrelevant.includes(envelope.event_type))
    return { envelope, eventClass, irrelevant: true, scenarioRunId, hints: [] };
  if (!settings.classification.graph_mutating.includes(envelope.event_type))
    return { reason: 'CLASSIFICATION_UNSUPPORTED', details: { event_type: envelope.event_type }, envelope };
  if (blank(envelope.scenario_run_id)) return { reason: 'SCENARIO_RUN_ID_MISSING', details: {}, envelope };
  const hints = identityHintsOf(envelope, settings.identityHints, graphPinsOf(envelope, scenarioRunId));
  if (hints.length === 0)
    return { reason: 'IDENTITY_HINTS_MISSING', details: { event_type: envelope.event_type }, envelope };
  return { envelope, eventClass, irrelevant: false, scenarioRunId, hints };
}

/** The scenario run a record's metrics and failure row are filed under ("" when it has none). */
const scenarioRunOf = (envelope: Record<string, unknown>) =>
  text(envelope.scenario_run_id) ?? text(envelope.run_id);

function failureOf(
  streamId: string,
  record: IdentityGraphBusRecord,
  reason: GraphFailureReason,
  details: Record<string, unknown>,
  envelope: Record<string, unknown>,
): GraphApplyFailure {
  const base = {
    reason_code: reason,
    details,
    platform_run_id: text(envelope.platform_run_id),
    scenario_run_id: scenarioRunOf(envelope),
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    offset_kind: record.offset_kind,
    event_id: text(envelope.event_id),
    event_type: text(envelope.event_type),
    event_ts_utc: text(envelope.ts_utc),
  };
  return { failure_id: graphFailureId(streamId, base), ...base };
}

/** Counts the record (events_seen and its outcome) and advances its partition's checkpoint. */
async function account(
  transaction: IdentityGraphTransaction,
  record: IdentityGraphBusRecord,
  envelope: Record<string, unknown>,
  outcome: GraphMetricName,
) {
  const scenarioRunId = scenarioRunOf(envelope) ?? '';
  await transaction.countMetric(scenarioRunId, 'events_seen');
  await transaction.countMetric(scenarioRunId, outcome);
  const current = await transaction.readCheckpoint(record.topic, record.partition);
  await transaction.writeCheckpoint(advancedCheckpoint(current, record, text(envelope.ts_utc)));
}

/** Writes the failure row, counts it and advances the checkpoint, in one transaction. */
async function failAndAdvance(
  store: IdentityGraphStore,
  record: IdentityGraphBusRecord,
  reason: GraphFailureReason,
  details: Record<string, unknown>,
  envelope: Record<string, unknown>,
): Promise<GraphApplyOutcome> {
  const failure = failureOf(store.streamId, record, reason, details, envelope);
  await store.inTransaction(async (transaction) => {
    await transaction.recordApplyFailure(failure);
    await account(
      transaction,
      record,
      envelope,
      reason === 'PAYLOAD_HASH_MISMATCH' ? 'payload_mismatch' : 'unusable',
    );
  });
  return { status: 'FAILED', reason_code: reason, event_id: failure.event_id };
}

/** Entities, identifiers and flow edges of a new event (inside its transaction). */
async function writeGraph(transaction: IdentityGraphTransaction, accepted: Accepted) {
  const { envelope, hints, scenarioRunId } = accepted;
  const pins = graphPinsOf(envelope, scenarioRunId);
  const seen = { pins, seen_ts_utc: envelope.ts_utc };
  for (const hint of hints) {
    await transaction.upsertEntity({ entity_id: hint.entity_id, entity_type: hint.entity_type, ...seen });
    await transaction.upsertIdentifier({ ...hint, ...seen, source_event_id: envelope.event_id });
  }
  let members = hints.map((h) => ({ entity_id: h.entity_id, entity_type: h.entity_type }));
  const key = envelope.payload ? arrivalKeyOf(envelope.payload, scenarioRunId) : undefined;
  if (key && ARRIVAL_JOIN_EVENT_TYPES.has(envelope.event_type))
    members = await transaction.joinArrival(key, members);
  const edges = flowEdgesOf(members);
  for (const edge of edges)
    await transaction.upsertEdge({ ...edge, ...seen, source_event_id: envelope.event_id });
  return edges.map((e) => e.edge_id);
}

export async function applyIdentityGraphRecord(
  store: IdentityGraphStore,
  record: IdentityGraphBusRecord,
  settings: IdentityGraphSettings,
  checked: Rejection | Accepted = check(record, settings),
): Promise<GraphApplyOutcome> {
  if ('reason' in checked)
    return failAndAdvance(store, record, checked.reason, checked.details, checked.envelope);
  const { envelope } = checked;
  if (checked.irrelevant) {
    await store.inTransaction((transaction) => account(transaction, record, envelope, 'irrelevant'));
    return { status: 'IRRELEVANT', event_id: envelope.event_id };
  }
  const platformRunId = envelope.platform_run_id as string;
  try {
    return await store.inTransaction(async (transaction): Promise<GraphApplyOutcome> => {
      const registration = await transaction.registerEvent({
        dedupe_key: graphDedupeKey(platformRunId, checked.eventClass, envelope.event_id),
        platform_run_id: platformRunId,
        scenario_run_id: checked.scenarioRunId,
        event_class: checked.eventClass,
        event_id: envelope.event_id,
        payload_hash: payloadHash(envelope),
        eb_ref: ebRefOf(record),
        event_ts_utc: envelope.ts_utc,
      });
      if (registration === 'mismatch')
        throw new GraphApplyConflict('PAYLOAD_HASH_MISMATCH', 'PAYLOAD_HASH_MISMATCH');
      if (registration === 'duplicate') {
        await account(transaction, record, envelope, 'duplicate');
        return { status: 'DUPLICATE', event_id: envelope.event_id };
      }
      const edgeIds = await writeGraph(transaction, checked);
      await account(transaction, record, envelope, 'mutating_applied');
      return {
        status: 'APPLIED',
        event_id: envelope.event_id,
        entity_ids: [...new Set(checked.hints.map((h) => h.entity_id))],
        edge_ids: edgeIds,
      };
    });
  } catch (error) {
    if (!(error instanceof GraphApplyConflict)) throw error;
    const details = { event_class: checked.eventClass, event_type: envelope.event_type };
    return failAndAdvance(store, record, 'PAYLOAD_HASH_MISMATCH', details, envelope);
  }
}

/** The dedupe rows and arrival keys a batch's records will read. */
function prefetchOf(checked: readonly (Rejection | Accepted)[]): GraphPrefetch {
  const hints: GraphPrefetch = { dedupeKeys: [], arrivals: [] };
  for (const c of checked) {
    if ('reason' in c || c.irrelevant) continue;
    const { envelope, eventClass, scenarioRunId } = c;
    hints.dedupeKeys.push(graphDedupeKey(envelope.platform_run_id as string, eventClass, envelope.event_id));
    const key = envelope.payload ? arrivalKeyOf(envelope.payload, scenarioRunId) : undefined;
    if (key && ARRIVAL_JOIN_EVENT_TYPES.has(envelope.event_type)) hints.arrivals.push(key);
  }
  return hints;
}

/**
 * Applies a batch in order, one transaction per record (inside a batch transaction, the records of one unit of
 * work), the rows they will read loaded first, at once; a store error stops the batch at that record.
 */
export async function applyIdentityGraphBatch(
  store: IdentityGraphStore,
  records: readonly IdentityGraphBusRecord[],
  settings: IdentityGraphSettings,
): Promise<GraphApplyOutcome[]> {
  const checked = records.map((record) => check(record, settings));
  const hints = prefetchOf(checked);
  if (hints.dedupeKeys.length > 0) await store.inTransaction((transaction) => transaction.prefetch(hints));
  const outcomes: GraphApplyOutcome[] = [];
  for (const [i, record] of records.entries())
    outcomes.push(await applyIdentityGraphRecord(store, record, settings, checked[i]));
  return outcomes;
}
