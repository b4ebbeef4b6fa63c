import { replayPinMismatches } from '../contracts/consumer-checkpoint.ts';
import type { ContextBusRecord, JoinFrameKey } from '../contracts/context-store.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { payloadHash } from '../contracts/identity.ts';
import { eventClassOf, PARTITION_PROFILES, REQUIRED_PINS } from '../contracts/partitioning.ts';
import { describeIssues } from '../errors/platform-error.ts';
import {
  advancedCheckpoint,
  applyFailureId,
  ebRefOf,
  FLOW_ANCHOR_EVENT_TYPES,
  flowBindingOf,
  joinFrameHash,
  joinFrameKeyOf,
  mergeJoinFrame,
  sourceEventOf,
} from './join-frame.ts';
import {
  type ApplyFailure,
  ContextApplyConflict,
  type ContextPrefetch,
  type ContextStore,
  type ContextStoreTransaction,
} from './ports.ts';

/**
 * §2.4 intake: each context record is checked, then applied in one transaction (intake dedupe, join frame, flow
 * binding, checkpoint). A record that cannot be applied writes a `csfb_join_apply_failures` row and advances the
 * checkpoint; nothing is retried for its content. Only a store error escapes (the caller retries the record).
 */

export const CONTEXT_TOPICS: readonly string[] = [
  PARTITION_PROFILES['ig.partitioning.v0.context.arrival_events'].stream,
  PARTITION_PROFILES['ig.partitioning.v0.context.arrival_entities'].stream,
  PARTITION_PROFILES['ig.partitioning.v0.context.flow_anchor.baseline'].stream,
  PARTITION_PROFILES['ig.partitioning.v0.context.flow_anchor.fraud'].stream,
];

export const CONTEXT_EVENT_CLASSES: readonly string[] = [
  'context_arrival',
  'context_arrival_entities',
  'context_flow_baseline',
  'context_flow_fraud',
];

export interface ContextIntakeSettings {
  /** The run scope gate: records of other runs are RUN_SCOPE_MISMATCH (undefined: every run is in scope). */
  requiredPlatformRunId?: string;
  contextTopics: readonly string[];
  contextEventClasses: readonly string[];
  /** A replay names the pins its records must carry; a record with others is REPLAY_PINS_MISMATCH. */
  replayPins?: Readonly<Record<string, unknown>>;
}

export const CONTEXT_FAILURE_REASONS = [
  'ENVELOPE_MISSING',
  'ENVELOPE_INVALID',
  'REPLAY_PINS_MISMATCH',
  'TOPIC_NOT_ALLOWED',
  'EVENT_CLASS_UNSUPPORTED',
  'REQUIRED_PINS_MISSING',
  'PLATFORM_RUN_ID_MISSING',
  'RUN_SCOPE_MISMATCH',
  'PAYLOAD_INVALID',
  'JOIN_KEY_MISSING',
  'FLOW_ID_MISSING',
  'INTAKE_PAYLOAD_HASH_MISMATCH',
  'FLOW_BINDING_PAYLOAD_HASH_MISMATCH',
  'FLOW_BINDING_JOIN_KEY_CONFLICT',
] as const;
export type ContextFailureReason = (typeof CONTEXT_FAILURE_REASONS)[number];

export type ContextApplyOutcome =
  | { status: 'APPLIED'; event_id: string; join_frame_key: JoinFrameKey; late: boolean; flow_id?: string }
  | { status: 'DUPLICATE'; event_id: string }
  | { status: 'FAILED'; reason_code: ContextFailureReason; event_id: string | null };

type Rejection = {
  reason: ContextFailureReason;
  details: Record<string, unknown>;
  envelope: Record<string, unknown>;
};

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const blank = (value: unknown) => value === null || value === undefined || value === '';
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const replayMismatches = (replayPins: Readonly<Record<string, unknown>>, envelope: CanonicalEnvelope) =>
  replayPinMismatches(replayPins, envelope as Record<string, unknown>);

type Checked =
  | Rejection
  | { envelope: CanonicalEnvelope; eventClass: string; payload: Record<string, unknown> };

/** The §2.4 checks in the reference's order; the first that fails names the reason. */
function check(record: ContextBusRecord, settings: ContextIntakeSettings): Checked {
  const raw = record.envelope;
  if (!isObject(raw) || !('event_id' in raw) || !('event_type' in raw))
    return { reason: 'ENVELOPE_MISSING', details: {}, envelope: {} };
  const parsed = CanonicalEnvelope.safeParse(raw);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error.issues).slice(0, 512);
    return {
      reason: 'ENVELOPE_INVALID',
      details: { event_type: text(raw.event_type), issues },
      envelope: raw,
    };
  }
  const envelope = parsed.data;
  if (settings.replayPins) {
    const mismatches = replayMismatches(settings.replayPins, envelope);
    if (Object.keys(mismatches).length > 0)
      return { reason: 'REPLAY_PINS_MISMATCH', details: { mismatches }, envelope };
  }
  if (!settings.contextTopics.includes(record.topic))
    return { reason: 'TOPIC_NOT_ALLOWED', details: { topic: record.topic }, envelope };
  const eventClass = eventClassOf(envelope.event_type);
  if (!settings.contextEventClasses.includes(eventClass))
    return {
      reason: 'EVENT_CLASS_UNSUPPORTED',
      details: { event_class: eventClass, event_type: envelope.event_type },
      envelope,
    };
  // platform_run_id has a reason of its own (checked next), so an envelope missing only it says so.
  const missing = REQUIRED_PINS[eventClass].filter(
    (pin) => pin !== 'platform_run_id' && blank((envelope as Record<string, unknown>)[pin]),
  );
  if (missing.length > 0) return { reason: 'REQUIRED_PINS_MISSING', details: { missing }, envelope };
  if (blank(envelope.platform_run_id)) return { reason: 'PLATFORM_RUN_ID_MISSING', details: {}, envelope };
  if (settings.requiredPlatformRunId && envelope.platform_run_id !== settings.requiredPlatformRunId)
    return {
      reason: 'RUN_SCOPE_MISMATCH',
      details: { expected: settings.requiredPlatformRunId, actual: envelope.platform_run_id },
      envelope,
    };
  if (!isObject(envelope.payload))
    return { reason: 'PAYLOAD_INVALID', details: { type: typeof envelope.payload }, envelope };
  return { envelope, eventClass, payload: envelope.payload };
}

function failureOf(
  streamId: string,
  record: ContextBusRecord,
  reason: string,
  details: Record<string, unknown>,
  envelope: Record<string, unknown>,
): ApplyFailure {
  const base = {
    reason_code: reason,
    details,
    platform_run_id: text(envelope.platform_run_id),
    scenario_run_id: text(envelope.scenario_run_id) ?? text(envelope.run_id),
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    offset_kind: record.offset_kind,
    event_id: text(envelope.event_id),
    event_type: text(envelope.event_type),
  };
  return { failure_id: applyFailureId(streamId, base), ...base };
}

/** Writes the failure row and advances the checkpoint, in one transaction. */
async function failAndAdvance(
  store: ContextStore,
  record: ContextBusRecord,
  reason: ContextFailureReason,
  details: Record<string, unknown>,
  envelope: Record<string, unknown>,
): Promise<ContextApplyOutcome> {
  const failure = failureOf(store.streamId, record, reason, details, envelope);
  await store.inTransaction(async (transaction) => {
    await transaction.recordApplyFailure(failure);
    await count(transaction, record, reason === 'RUN_SCOPE_MISMATCH' ? 'skipped' : 'failed');
    await advance(transaction, record, text(envelope.ts_utc) ?? undefined);
  });
  return { status: 'FAILED', reason_code: reason, event_id: failure.event_id };
}

/** Counts one delivery and its outcome, in total and for the record's topic. */
const count = (transaction: ContextStoreTransaction, record: ContextBusRecord, outcome: string) =>
  transaction.incrementCounters(['seen', outcome].flatMap((name) => [name, `${name}|topic=${record.topic}`]));

async function advance(transaction: ContextStoreTransaction, record: ContextBusRecord, tsUtc?: string) {
  const current = await transaction.readCheckpoint(record.topic, record.partition);
  await transaction.writeCheckpoint(advancedCheckpoint(current, ebRefOf(record), tsUtc));
  return current;
}

/** §2.4 apply of one context record. */
export async function applyContextRecord(
  store: ContextStore,
  record: ContextBusRecord,
  settings: ContextIntakeSettings,
  checked: Checked = check(record, settings),
): Promise<ContextApplyOutcome> {
  if ('reason' in checked)
    return failAndAdvance(store, record, checked.reason, checked.details, checked.envelope);
  const { envelope, eventClass, payload } = checked;
  const failure = (reason: ContextFailureReason) =>
    failAndAdvance(store, record, reason, { event_type: envelope.event_type }, envelope);

  const platformRunId = envelope.platform_run_id as string;
  const key = joinFrameKeyOfChecked(checked);
  if (!key) return failure('JOIN_KEY_MISSING');
  const source = sourceEventOf(record, envelope);
  const binding = FLOW_ANCHOR_EVENT_TYPES.has(envelope.event_type)
    ? flowBindingOf(envelope, payload, key, source)
    : undefined;
  if (FLOW_ANCHOR_EVENT_TYPES.has(envelope.event_type) && !binding) return failure('FLOW_ID_MISSING');

  try {
    return await store.inTransaction(async (transaction): Promise<ContextApplyOutcome> => {
      const registration = await transaction.registerIntake({
        platform_run_id: platformRunId,
        event_class: eventClass,
        event_id: envelope.event_id,
        payload_hash: payloadHash(envelope),
        eb_ref: source.eb_ref,
        event_ts_utc: envelope.ts_utc,
      });
      if (registration === 'mismatch')
        throw new ContextApplyConflict('INTAKE_PAYLOAD_HASH_MISMATCH', 'INTAKE_PAYLOAD_HASH_MISMATCH');
      if (registration === 'duplicate') {
        await advance(transaction, record, envelope.ts_utc);
        await count(transaction, record, 'duplicate');
        return { status: 'DUPLICATE', event_id: envelope.event_id };
      }
      const existing = await transaction.lockJoinFrame(key);
      const state = mergeJoinFrame(existing?.state, key, envelope.event_type, payload, source.eb_ref);
      await transaction.writeJoinFrame({ state, payload_hash: joinFrameHash(state), source_event: source });
      if (binding) {
        const inserted = await transaction.insertFlowBinding(binding);
        if (inserted !== 'inserted' && inserted !== 'unchanged')
          throw new ContextApplyConflict(inserted, inserted);
      }
      const before = await advance(transaction, record, envelope.ts_utc);
      await count(transaction, record, 'applied');
      const watermark = before?.watermark_ts_utc;
      const late = Boolean(watermark && envelope.ts_utc < watermark);
      if (late) {
        const details = {
          event_type: envelope.event_type,
          event_ts_utc: envelope.ts_utc,
          watermark_ts_utc: watermark,
          applied: true,
        };
        await transaction.recordApplyFailure(
          failureOf(store.streamId, record, 'LATE_CONTEXT_EVENT', details, envelope),
        );
      }
      return {
        status: 'APPLIED',
        event_id: envelope.event_id,
        join_frame_key: key,
        late,
        ...(binding ? { flow_id: binding.flow_id } : {}),
      };
    });
  } catch (error) {
    if (!(error instanceof ContextApplyConflict)) throw error;
    return failAndAdvance(
      store,
      record,
      error.code,
      { event_class: eventClass, event_type: envelope.event_type },
      envelope,
    );
  }
}

const joinFrameKeyOfChecked = ({ envelope, payload }: Exclude<Checked, Rejection>) =>
  joinFrameKeyOf(payload, envelope.platform_run_id as string, envelope.scenario_run_id ?? envelope.run_id);

/** The intake rows, join frames and flow bindings a batch's records will read. */
function prefetchOf(records: readonly ContextBusRecord[], checked: readonly Checked[]): ContextPrefetch {
  const hints: ContextPrefetch = { intakes: [], joinFrames: [], bindings: [] };
  for (const [i, c] of checked.entries()) {
    const record = records[i];
    if ('reason' in c || !record) continue;
    const { envelope, eventClass } = c;
    hints.intakes.push({
      platform_run_id: envelope.platform_run_id as string,
      event_class: eventClass,
      event_id: envelope.event_id,
    });
    const key = joinFrameKeyOfChecked(c);
    if (!key) continue;
    hints.joinFrames.push(key);
    const binding = FLOW_ANCHOR_EVENT_TYPES.has(envelope.event_type)
      ? flowBindingOf(envelope, c.payload, key, sourceEventOf(record, envelope))
      : undefined;
    if (binding) hints.bindings.push({ flow_id: binding.flow_id, join_frame_key: key });
  }
  return hints;
}

/**
 * Applies a batch in order, one transaction per record (inside a batch transaction, the records of one unit of
 * work), the rows they will read loaded first, at once; a store error stops the batch at that record.
 */
export async function applyContextBatch(
  store: ContextStore,
  records: readonly ContextBusRecord[],
  settings: ContextIntakeSettings,
): Promise<ContextApplyOutcome[]> {
  const checked = records.map((record) => check(record, settings));
  const hints = prefetchOf(records, checked);
  if (hints.intakes.length > 0) await store.inTransaction((transaction) => transaction.prefetch(hints));
  const outcomes: ContextApplyOutcome[] = [];
  for (const [i, record] of records.entries())
    outcomes.push(await applyContextRecord(store, record, settings, checked[i]));
  return outcomes;
}
