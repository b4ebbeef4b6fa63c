import { ActionOutcomePayload } from '../contracts/action-layer.ts';
import {
  ACTION_OUTCOME,
  DECISION_RESPONSE,
  DecisionResponsePayload,
  RTDL_SCHEMA_VERSION,
} from '../contracts/decision-lane.ts';
import { CanonicalEnvelope, envelopeTsUtc } from '../contracts/envelope.ts';
import { PARTITION_PROFILES } from '../contracts/partitioning.ts';
import { describeIssues, InvariantViolation } from '../errors/platform-error.ts';
import { type CaseTriggerCounts, type CaseTriggerMetricName, countInto } from './observability.ts';
import type { CaseTriggerBusRecord, CaseTriggerPorts, DecisionSource, PublishRecord } from './ports.ts';
import { settleTriggers, type TriggerCandidate, type TriggerFate } from './publish.ts';
import {
  actionFailure,
  decisionEscalation,
  type EscalationMode,
  escalates,
  FAILURE_STATUSES,
} from './triggers.ts';

/**
 * The case trigger's intake of one batch of fp.bus.rtdl.v1 records (downstream.md §4.1, §9 #11, #16), in stream order.
 * Only decision_response and action_outcome v1 are read; anything else is skipped and counted, and so are decisions
 * and outcomes of another run (the run-scope gate: never quarantined). Every decision in scope records its decision →
 * source event (ALLOW ones too) in the store; a decision that escalates (not ALLOW, or every one under
 * `every_decision`) raises a DECISION_ESCALATION. A FAILED or DENIED outcome raises an ACTION_FAILURE on its decision's
 * case — or, when its decision is not known yet (decisions and outcomes sit on different shards, so order is not
 * guaranteed), it is parked in the store and raised by the batch that brings its decision. Then the ledger and IG
 * (publish.ts). A publish that does not settle makes the answer `retry`: the caller fails the batch, the mapping
 * redelivers it, and the ledger publishes the same envelopes again.
 *
 * Parking is race-free without locks: an outcome is parked before its decision is looked up again, and a decision's
 * source is recorded before parked outcomes are looked up, so of two batches running at once at least one sees the
 * other's write (both may raise the trigger; the ledger makes the second a republish, which IG answers DUPLICATE).
 */

export interface CaseTriggerSettings {
  /** The run-scope gate: records of other runs are skipped (undefined: every run is in scope). */
  requiredPlatformRunId: string | undefined;
  escalate: EscalationMode;
}

/** The topic the case trigger reads (decisions and outcomes). */
export const RTDL_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.rtdl.decision'].stream;

export type RecordDisposition =
  /** Not decision_response / action_outcome v1 of the rtdl topic. */
  | 'IRRELEVANT'
  /** Not a JSON object, or a decision / outcome breaking its envelope or payload contract. */
  | 'INVALID'
  | 'RUN_SCOPE_SKIPPED'
  /** A decision that does not escalate (its source is still recorded). */
  | 'NOT_ESCALATED'
  | 'OUTCOME_EXECUTED'
  /** A trigger was built; `ledger` and `publish` say what became of it. */
  | 'TRIGGER'
  /** A failed or denied outcome whose decision is not known yet: parked. */
  | 'WAITING_FOR_DECISION';

export interface RecordAnswer {
  topic: string;
  partition: number;
  offset: string;
  disposition: RecordDisposition;
  /** The record's envelope event_id (null when it has none readable). */
  event_id: string | null;
  /** The reason of a skip, or the contract issues of an invalid record. */
  detail: string | null;
  case_trigger_id?: string;
  case_id?: string;
  trigger_type?: 'DECISION_ESCALATION' | 'ACTION_FAILURE';
  ledger?: TriggerFate['ledger'];
  publish?: TriggerFate['publish'];
}

export interface CaseTriggerBatchAnswer {
  records: RecordAnswer[];
  /** The triggers of parked outcomes this batch's decisions released, with their fate. */
  released: (TriggerFate & { outcome_id: string })[];
  published: PublishRecord[];
  /** A publish did not settle: fail the batch so it is delivered again. */
  retry: boolean;
  /** What this batch added to the counters. */
  counts: CaseTriggerCounts;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

type InletVerdict =
  | { kind: 'skip'; disposition: RecordDisposition; detail: string }
  | { kind: 'decision'; decision: DecisionResponsePayload }
  | { kind: 'outcome'; outcome: ActionOutcomePayload };

const SKIP_LANE: Partial<Record<RecordDisposition, CaseTriggerMetricName>> = {
  IRRELEVANT: 'skipped_irrelevant',
  INVALID: 'skipped_invalid',
  RUN_SCOPE_SKIPPED: 'skipped_run_scope',
};

/** The checks before anything is recorded, in order; the first that fails names the disposition. */
function inlet(record: CaseTriggerBusRecord, settings: CaseTriggerSettings): InletVerdict {
  const raw = record.envelope;
  const skip = (disposition: RecordDisposition, detail: string): InletVerdict => ({
    kind: 'skip',
    disposition,
    detail: detail.slice(0, 512),
  });
  if (!isObject(raw)) return skip('INVALID', 'ENVELOPE_INVALID: not a JSON object');
  if (record.topic !== RTDL_TOPIC) return skip('IRRELEVANT', `TOPIC:${record.topic}`);
  const isDecision = raw.event_type === DECISION_RESPONSE;
  if ((!isDecision && raw.event_type !== ACTION_OUTCOME) || raw.schema_version !== RTDL_SCHEMA_VERSION)
    return skip('IRRELEVANT', `${String(raw.event_type)}@${String(raw.schema_version)}`);
  const envelope = CanonicalEnvelope.safeParse(raw);
  if (!envelope.success) return skip('INVALID', `ENVELOPE_INVALID: ${describeIssues(envelope.error.issues)}`);
  const payload = (isDecision ? DecisionResponsePayload : ActionOutcomePayload).safeParse(
    envelope.data.payload,
  );
  if (!payload.success)
    return skip(
      'INVALID',
      `${isDecision ? 'DECISION' : 'OUTCOME'}_CONTRACT_INVALID: ${describeIssues(payload.error.issues)}`,
    );
  const run = payload.data.pins.platform_run_id;
  if (settings.requiredPlatformRunId !== undefined && run !== settings.requiredPlatformRunId)
    return skip('RUN_SCOPE_SKIPPED', run);
  return isDecision
    ? { kind: 'decision', decision: payload.data as DecisionResponsePayload }
    : { kind: 'outcome', outcome: payload.data as ActionOutcomePayload };
}

const sourceOf = (decision: DecisionResponsePayload): DecisionSource => ({
  decision_id: decision.decision_id,
  platform_run_id: decision.pins.platform_run_id,
  scenario_run_id: decision.pins.scenario_run_id,
  source_event_id: decision.source_event.event_id,
});

const distinct = <T>(items: readonly T[], key: (item: T) => string): T[] => [
  ...new Map(items.map((item) => [key(item), item])).values(),
];

/** The known sources of the outcomes' decisions; an outcome left unknown is parked, then looked up once more. */
async function resolveSources(
  outcomes: readonly ActionOutcomePayload[],
  ports: CaseTriggerPorts,
): Promise<Map<string, DecisionSource>> {
  const known = new Map<string, DecisionSource>();
  if (outcomes.length === 0) return known;
  const lookUp = async (decisionIds: string[]) => {
    for (const s of await ports.store.decisionSources(decisionIds)) known.set(s.decision_id, s);
  };
  await lookUp(distinct(outcomes, (o) => o.decision_id).map((o) => o.decision_id));
  const unknown = outcomes.filter((o) => !known.has(o.decision_id));
  if (unknown.length === 0) return known;
  await ports.store.park(distinct(unknown, (o) => o.outcome_id));
  // Parked first, looked up again: a decision recorded meanwhile by another batch is found here, or finds the park.
  await lookUp(distinct(unknown, (o) => o.decision_id).map((o) => o.decision_id));
  return known;
}

/** The triggers of outcomes parked earlier whose decisions this batch brings. */
async function releasedCandidates(
  sources: ReadonlyMap<string, DecisionSource>,
  ports: CaseTriggerPorts,
): Promise<TriggerCandidate[]> {
  if (sources.size === 0) return [];
  const stored = await ports.store.waitingFor([...sources.keys()]);
  return stored.map((row) => {
    const outcome = ActionOutcomePayload.safeParse(row);
    if (!outcome.success)
      throw new InvariantViolation(
        `a parked outcome does not parse: ${describeIssues(outcome.error.issues)}`,
      );
    const source = sources.get(outcome.data.decision_id);
    if (source === undefined)
      throw new InvariantViolation(`parked outcome ${outcome.data.outcome_id} is of no decision asked for`);
    return { trigger: actionFailure(outcome.data, source), outcome_id: outcome.data.outcome_id };
  });
}

/** Handles one batch; only a store error (or a bug) throws, failing the batch. */
export async function handleCaseTriggerBatch(
  records: readonly CaseTriggerBusRecord[],
  ports: CaseTriggerPorts,
  settings: CaseTriggerSettings,
): Promise<CaseTriggerBatchAnswer> {
  const counts: CaseTriggerCounts = {};
  const observedAt = envelopeTsUtc(ports.clock.now());
  if (observedAt === undefined) throw new InvariantViolation('the clock gave no valid time');
  const answers: RecordAnswer[] = [];
  const verdicts = records.map((record) => {
    const verdict = inlet(record, settings);
    const raw = record.envelope;
    const answer: RecordAnswer = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      disposition: verdict.kind === 'skip' ? verdict.disposition : 'TRIGGER',
      event_id: isObject(raw) && typeof raw.event_id === 'string' ? raw.event_id.slice(0, 256) : null,
      detail: verdict.kind === 'skip' ? verdict.detail : null,
    };
    answers.push(answer);
    if (verdict.kind === 'skip') countInto(counts, SKIP_LANE[verdict.disposition] as CaseTriggerMetricName);
    return { verdict, answer };
  });

  // 1. Every decision's source, before any outcome is looked up (so one of this batch is found at once).
  const sources = new Map<string, DecisionSource>();
  for (const { verdict } of verdicts)
    if (verdict.kind === 'decision' && !sources.has(verdict.decision.decision_id))
      sources.set(verdict.decision.decision_id, sourceOf(verdict.decision));
  if (sources.size > 0) await ports.store.recordDecisionSources([...sources.values()]);

  // 2. Failed and denied outcomes: their decisions' sources, or parked.
  const failures = verdicts.flatMap(({ verdict }) =>
    verdict.kind === 'outcome' && FAILURE_STATUSES.has(verdict.outcome.status) ? [verdict.outcome] : [],
  );
  const known = await resolveSources(failures, ports);

  // 3. The records' triggers, in stream order.
  const candidates: { candidate: TriggerCandidate; answer: RecordAnswer | undefined }[] = [];
  const raise = (candidate: TriggerCandidate, answer: RecordAnswer) => {
    Object.assign(answer, {
      case_trigger_id: candidate.trigger.case_trigger_id,
      case_id: candidate.trigger.case_id,
      trigger_type: candidate.trigger.trigger_type,
    });
    candidates.push({ candidate, answer });
  };
  for (const { verdict, answer } of verdicts) {
    if (verdict.kind === 'decision') {
      if (!escalates(verdict.decision, settings.escalate)) {
        Object.assign(answer, {
          disposition: 'NOT_ESCALATED',
          detail: verdict.decision.decision.action_kind,
        });
        countInto(counts, 'skipped_decision_not_escalated');
        continue;
      }
      countInto(counts, 'decision_escalations');
      raise({ trigger: decisionEscalation(verdict.decision) }, answer);
    } else if (verdict.kind === 'outcome') {
      const { outcome } = verdict;
      if (!FAILURE_STATUSES.has(outcome.status)) {
        Object.assign(answer, { disposition: 'OUTCOME_EXECUTED', detail: outcome.status });
        countInto(counts, 'skipped_outcome_executed');
        continue;
      }
      const source = known.get(outcome.decision_id);
      if (source === undefined) {
        Object.assign(answer, { disposition: 'WAITING_FOR_DECISION', detail: outcome.decision_id });
        countInto(counts, 'outcomes_waiting_for_decision');
        continue;
      }
      countInto(counts, 'action_failures');
      raise({ trigger: actionFailure(outcome, source), outcome_id: outcome.outcome_id }, answer);
    }
  }

  // 4. Outcomes parked by earlier batches whose decisions arrived in this one.
  const released = await releasedCandidates(sources, ports);
  countInto(counts, 'outcomes_released', released.length);
  for (const candidate of released) candidates.push({ candidate, answer: undefined });
  countInto(counts, 'triggers_seen', candidates.length);

  // 5. The ledger, then IG.
  const settled = await settleTriggers(
    candidates.map((c) => c.candidate),
    ports,
    observedAt,
    counts,
  );
  const releasedFates: CaseTriggerBatchAnswer['released'] = [];
  candidates.forEach(({ candidate, answer }, i) => {
    const fate = settled.fates[i] as TriggerFate;
    if (answer) Object.assign(answer, { ledger: fate.ledger, publish: fate.publish });
    else releasedFates.push({ ...fate, outcome_id: candidate.outcome_id as string });
  });
  if (Object.keys(counts).length > 0) await ports.store.addMetrics(counts);
  return {
    records: answers,
    released: releasedFates,
    published: settled.published,
    retry: settled.retry,
    counts,
  };
}
