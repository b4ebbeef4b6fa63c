import {
  type ActionLayerBusRecord,
  ActionOutcomePayload,
  intentHash,
  type OutcomeStatus,
  outcomeHash,
  type PublishDecision,
  SETTLED_PUBLISH_DECISIONS,
  semanticKey,
} from '../contracts/action-layer.ts';
import { ACTION_INTENT, ActionIntentPayload, RTDL_SCHEMA_VERSION } from '../contracts/decision-lane.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { describeIssues, InvariantViolation } from '../errors/platform-error.ts';
import { type ActionLayerPolicy, authorizeIntent, type ExecutionPosture } from './authz.ts';
import { executeWithRetries } from './executor.ts';
import { type ActionLayerCounts, type ActionLayerMetricName, countInto } from './observability.ts';
import { deniedOutcome, executionOutcome, microsUtc } from './outcome.ts';
import type { ActionLayerPorts, ClaimAnswer, PublishRecord } from './ports.ts';
import { publishOutcomes } from './publish.ts';

/**
 * The Action Layer's intake of one batch of fp.bus.rtdl.v1 records (downstream.md §3.3, §9 #10–#12), in stream
 * order: only action_intent @v1 is handled (others advance); a broken envelope or payload is counted and advances;
 * intents of another run advance (the run-scope gate on payload.pins); the semantic ledger is claimed for the batch
 * at once (duplicates within the batch folded first); a NEW intent is authorized, executed (denied ones are not)
 * and its outcome appended; then ONE publish call carries the batch's outcomes to IG.
 *
 * Every side effect is keyed, so the batch can run again: a duplicate whose outcome is recorded but not settled at
 * IG (AMBIGUOUS) is republished with the same outcome id, never executed again; an intent claimed by a run that
 * ended before its outcome was appended is resumed (executed with the same idempotency token). A publish that stays
 * AMBIGUOUS makes the answer `retry`: the caller fails the batch, and the event-source mapping redelivers it.
 */

export interface ActionLayerSettings {
  /** The run-scope gate: intents of other runs advance untouched (undefined: every run is in scope). */
  requiredPlatformRunId: string | undefined;
  policy: ActionLayerPolicy;
}

export type RecordDisposition =
  /** Not action_intent @v1: advanced. */
  | 'IRRELEVANT'
  /** Not a JSON object, or an action_intent breaking its envelope or payload contract: counted, advanced. */
  | 'INVALID'
  | 'RUN_SCOPE_SKIPPED'
  /** Seen before with the same hash and settled (or earlier in this batch): nothing executed or published. */
  | 'DUPLICATE_DROPPED'
  /** Seen before with another hash: quarantined, never executed. */
  | 'SEMANTIC_PAYLOAD_HASH_MISMATCH'
  /** Authorized and executed, or denied: an outcome appended and published. */
  | 'OUTCOME'
  /** Seen before, its outcome recorded but its publish not settled: published again, not executed. */
  | 'REPUBLISHED'
  /** Another outcome already holds this outcome id: nothing published. */
  | 'OUTCOME_HASH_MISMATCH';

export interface RecordAnswer {
  topic: string;
  partition: number;
  offset: string;
  disposition: RecordDisposition;
  /** The record's envelope event_id (null when it has none readable). */
  event_id: string | null;
  /** The reason code or contract issues of a skipped, invalid or quarantined record. */
  detail: string | null;
  outcome_id?: string;
  status?: OutcomeStatus;
  /** What IG answered for the outcome (AMBIGUOUS: unreachable). */
  publish?: PublishDecision;
  /** Whether this delivery ran the effect (NEW, or a resumed claim). */
  executed?: boolean;
}

export interface IntakeAnswer {
  records: RecordAnswer[];
  published: PublishRecord[];
  /** A publish stayed AMBIGUOUS: fail the batch so it is delivered again (the outcomes are recorded). */
  retry: boolean;
  /** What this batch added to the counters. */
  counts: ActionLayerCounts;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface Admitted {
  answer: RecordAnswer;
  intent: ActionIntentPayload;
  semantic_key: string;
  intent_hash: string;
}

type InletVerdict =
  | { admitted: true; intent: ActionIntentPayload; event_id: string }
  | { admitted: false; answer: RecordAnswer };

/** The checks before the ledger, in order; the first that fails names the disposition. */
function inlet(record: ActionLayerBusRecord, settings: ActionLayerSettings): InletVerdict {
  const raw = record.envelope;
  const eventId = isObject(raw) && typeof raw.event_id === 'string' ? raw.event_id : null;
  const skip = (disposition: RecordDisposition, detail: string | null): InletVerdict => ({
    admitted: false,
    answer: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      disposition,
      event_id: eventId,
      detail,
    },
  });
  if (!isObject(raw)) return skip('INVALID', 'ENVELOPE_INVALID: not a JSON object');
  if (raw.event_type !== ACTION_INTENT || raw.schema_version !== RTDL_SCHEMA_VERSION)
    return skip('IRRELEVANT', `${String(raw.event_type)}@${String(raw.schema_version)}`.slice(0, 256));
  const envelope = CanonicalEnvelope.safeParse(raw);
  if (!envelope.success)
    return skip('INVALID', `ENVELOPE_INVALID: ${describeIssues(envelope.error.issues)}`.slice(0, 512));
  const intent = ActionIntentPayload.safeParse(envelope.data.payload);
  if (!intent.success)
    return skip('INVALID', `INTENT_CONTRACT_INVALID: ${describeIssues(intent.error.issues)}`.slice(0, 512));
  const run = intent.data.pins.platform_run_id;
  if (settings.requiredPlatformRunId !== undefined && run !== settings.requiredPlatformRunId)
    return skip('RUN_SCOPE_SKIPPED', run);
  return { admitted: true, intent: intent.data, event_id: envelope.data.event_id };
}

const LANE_OF: Partial<Record<RecordDisposition, ActionLayerMetricName>> = {
  IRRELEVANT: 'irrelevant_total',
  INVALID: 'invalid_total',
  RUN_SCOPE_SKIPPED: 'run_scope_skipped_total',
};
const OUTCOME_LANE: Record<OutcomeStatus, ActionLayerMetricName> = {
  EXECUTED: 'outcome_executed_total',
  DENIED: 'outcome_denied_total',
  FAILED: 'outcome_failed_total',
};
const PUBLISH_LANE: Record<PublishDecision, ActionLayerMetricName> = {
  ADMIT: 'publish_admit_total',
  DUPLICATE: 'publish_duplicate_total',
  QUARANTINE: 'publish_quarantine_total',
  AMBIGUOUS: 'publish_ambiguous_total',
};

/** Handles one batch; only a store error (or a bug) throws, failing the batch. */
export async function handleActionIntents(
  records: readonly ActionLayerBusRecord[],
  posture: ExecutionPosture | undefined,
  ports: ActionLayerPorts,
  settings: ActionLayerSettings,
): Promise<IntakeAnswer> {
  const counts: ActionLayerCounts = {};
  const answers: RecordAnswer[] = [];
  const admitted: Admitted[] = [];
  for (const record of records) {
    const verdict = inlet(record, settings);
    if (!verdict.admitted) {
      answers.push(verdict.answer);
      const lane = LANE_OF[verdict.answer.disposition];
      if (lane) countInto(counts, lane);
      continue;
    }
    const { intent } = verdict;
    const answer: RecordAnswer = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      disposition: 'OUTCOME',
      event_id: verdict.event_id,
      detail: null,
    };
    answers.push(answer);
    admitted.push({
      answer,
      intent,
      semantic_key: semanticKey(intent.pins, intent.idempotency_key),
      intent_hash: intentHash(intent),
    });
  }

  const { firsts, claims } = await claimFirstSightings(admitted, ports);
  const toPublish = new Map<string, { outcome: ActionOutcomePayload; answers: RecordAnswer[] }>();
  const publish = (outcome: ActionOutcomePayload, answer: RecordAnswer) => {
    const entry = toPublish.get(outcome.outcome_id) ?? { outcome, answers: [] };
    entry.answers.push(answer);
    toPublish.set(outcome.outcome_id, entry);
  };

  for (const item of admitted) {
    const { answer } = item;
    const first = firsts.get(item.semantic_key);
    const claim = claims.get(item.semantic_key);
    if (first === undefined || claim === undefined)
      throw new InvariantViolation(`no claim for ${item.semantic_key}`);
    if (first !== item) {
      // A repeat of an intent met earlier in this batch: judged against that first sighting.
      if (first.intent_hash === item.intent_hash) {
        Object.assign(answer, { disposition: 'DUPLICATE_DROPPED', detail: 'SEMANTIC_DUPLICATE' });
        countInto(counts, 'duplicate_dropped_total');
      } else quarantine(answer, counts);
      continue;
    }
    if (claim.status === 'HASH_MISMATCH') {
      quarantine(answer, counts);
      continue;
    }
    if (claim.status === 'DROP_DUPLICATE' && claim.outcome !== undefined) {
      const decision = claim.outcome.publish_decision;
      if (decision !== null && SETTLED_PUBLISH_DECISIONS.has(decision)) {
        Object.assign(answer, { disposition: 'DUPLICATE_DROPPED', detail: 'SEMANTIC_DUPLICATE' });
        countInto(counts, 'duplicate_dropped_total');
        continue;
      }
      const stored = ActionOutcomePayload.safeParse(claim.outcome.outcome);
      if (!stored.success)
        throw new InvariantViolation(
          `stored outcome of ${item.semantic_key} does not parse: ${describeIssues(stored.error.issues)}`,
        );
      Object.assign(answer, {
        disposition: 'REPUBLISHED',
        detail: decision ?? 'PUBLISH_NOT_RECORDED',
        outcome_id: stored.data.outcome_id,
        status: stored.data.status,
      });
      countInto(counts, 'republished_total');
      // No publish recorded: the delivery that appended it ended before its counters were written.
      if (decision === null) countOutcome(stored.data, counts);
      publish(stored.data, answer);
      continue;
    }
    // NEW, or claimed earlier by a delivery that ended before its outcome was appended: run it.
    const outcome = await runIntent(item, posture, ports, settings);
    Object.assign(answer, { outcome_id: outcome.outcome_id, status: outcome.status, executed: true });
    if (claim.status === 'DROP_DUPLICATE') answer.detail = 'RESUMED_CLAIM';
    const appended = await ports.store.append(item.semantic_key, outcome, outcomeHash(outcome));
    if (appended === 'HASH_MISMATCH') {
      Object.assign(answer, { disposition: 'OUTCOME_HASH_MISMATCH', detail: 'OUTCOME_HASH_MISMATCH' });
      countInto(counts, 'intake_total');
      countInto(counts, 'outcome_hash_mismatch_total');
      countInto(counts, 'publish_quarantine_total');
      continue;
    }
    countOutcome(outcome, counts);
    publish(outcome, answer);
  }

  const published = await publishOutcomes(
    [...toPublish.values()].map((entry) => entry.outcome),
    ports,
  );
  for (const result of published) {
    countInto(counts, PUBLISH_LANE[result.decision]);
    for (const answer of toPublish.get(result.outcome_id)?.answers ?? []) answer.publish = result.decision;
  }
  if (Object.keys(counts).length > 0) await ports.store.addMetrics(counts);
  return {
    records: answers,
    published,
    retry: published.some((p) => p.decision === 'AMBIGUOUS'),
    counts,
  };
}

/** An intent taken in and its outcome: intake, the outcome's lane, its execution attempts. */
function countOutcome(outcome: ActionOutcomePayload, counts: ActionLayerCounts) {
  const attempts = outcome.outcome_payload.attempts?.length ?? 0;
  countInto(counts, 'intake_total');
  countInto(counts, OUTCOME_LANE[outcome.status]);
  countInto(counts, 'execution_attempts_total', attempts);
  countInto(counts, 'execution_retries_total', Math.max(0, attempts - 1));
  if (outcome.outcome_payload.terminal_state === 'UNCERTAIN_COMMIT')
    countInto(counts, 'unknown_commit_total');
}

function quarantine(answer: RecordAnswer, counts: ActionLayerCounts) {
  Object.assign(answer, {
    disposition: 'SEMANTIC_PAYLOAD_HASH_MISMATCH',
    detail: 'SEMANTIC_PAYLOAD_HASH_MISMATCH',
  });
  countInto(counts, 'intake_total');
  countInto(counts, 'semantic_mismatch_total');
  countInto(counts, 'publish_quarantine_total');
}

/**
 * Claims the first sighting of each semantic key in the batch (repeats are judged in memory against it): the first
 * sightings and their claim answers, by semantic key.
 */
async function claimFirstSightings(
  admitted: readonly Admitted[],
  ports: ActionLayerPorts,
): Promise<{ firsts: Map<string, Admitted>; claims: Map<string, ClaimAnswer> }> {
  const firsts = new Map<string, Admitted>();
  for (const item of admitted) if (!firsts.has(item.semantic_key)) firsts.set(item.semantic_key, item);
  const sightings = [...firsts.values()];
  if (sightings.length === 0) return { firsts, claims: new Map() };
  const seenAt = microsUtc(ports.clock.now());
  const answers = await ports.store.claim(
    sightings.map(({ intent, semantic_key, intent_hash }) => ({
      platform_run_id: intent.pins.platform_run_id,
      scenario_run_id: intent.pins.scenario_run_id,
      semantic_key,
      idempotency_key: intent.idempotency_key,
      action_id: intent.action_id,
      decision_id: intent.decision_id,
      intent_hash,
      first_seen_at_utc: seenAt,
    })),
  );
  if (answers.length !== sightings.length)
    throw new InvariantViolation(`the ledger answered ${answers.length} claims for ${sightings.length}`);
  return {
    firsts,
    claims: new Map(sightings.map((item, i) => [item.semantic_key, answers[i] as ClaimAnswer])),
  };
}

/** Authz, then the effect under the retry engine (an allowed intent) — the outcome either way. */
async function runIntent(
  item: Admitted,
  posture: ExecutionPosture | undefined,
  ports: ActionLayerPorts,
  settings: ActionLayerSettings,
): Promise<ActionOutcomePayload> {
  const { intent } = item;
  const authz = authorizeIntent(intent, settings.policy, posture);
  if (!authz.allowed) return deniedOutcome(intent, authz, ports.clock.now());
  const terminal = await executeWithRetries(
    {
      action_kind: intent.action_kind,
      action_payload: intent.action_payload,
      idempotency_token: item.semantic_key,
    },
    ports,
    settings.policy.retry,
  );
  return executionOutcome(intent, terminal, authz, ports.clock.now());
}
