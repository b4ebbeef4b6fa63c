import { z } from 'zod';
import { type PublishDecision, SETTLED_PUBLISH_DECISIONS } from '../contracts/action-layer.ts';
import type { CaseTriggerPayload } from '../contracts/case-trigger.ts';
import { SafeText } from '../contracts/wire-primitives.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import { type CaseTriggerCounts, type CaseTriggerMetricName, countInto } from './observability.ts';
import type {
  CaseTriggerPorts,
  LedgerAnswer,
  PayloadMismatchAnomaly,
  PublishRecord,
  RaisedOutcome,
} from './ports.ts';
import { caseTriggerEnvelope } from './triggers.ts';

/**
 * The replay ledger and the publish of a batch's triggers (downstream.md §4.1, §7.5): each case_trigger_id is claimed
 * with its payload hash. A new one is published; one seen before with the same hash is published again only when its
 * earlier publish did not settle (else it is a replay and nothing leaves); one seen with another hash is quarantined
 * with a CASE_TRIGGER_PAYLOAD_MISMATCH anomaly and never published. The envelopes go to IG's batch route in requests of
 * ≤ 500; every answer is parsed (anything but ADMIT, DUPLICATE, QUARANTINE fails closed as AMBIGUOUS) and recorded
 * before the caller answers, so a redelivered batch publishes exactly the triggers that did not settle, unchanged.
 */

/** IG's batch route takes at most this many envelopes a request. */
export const IG_BATCH_LIMIT = 500;

export const CASE_TRIGGER_PAYLOAD_MISMATCH = 'CASE_TRIGGER_PAYLOAD_MISMATCH';

/** A trigger to settle; `outcome_id` names the outcome of an ACTION_FAILURE (its parked wait ends when it settles). */
export interface TriggerCandidate {
  trigger: CaseTriggerPayload;
  outcome_id?: string;
}

export type LedgerVerdict =
  /** First sight: published. */
  | 'NEW'
  /** Seen and settled before: nothing published. */
  | 'REPLAY'
  /** Seen before, its publish not settled: published again. */
  | 'REPUBLISHED'
  /** The same trigger earlier in this batch: judged with that one. */
  | 'BATCH_REPEAT'
  /** Another payload under the same id: quarantined, never published. */
  | 'PAYLOAD_MISMATCH';

export interface TriggerFate {
  case_trigger_id: string;
  ledger: LedgerVerdict;
  /** What IG answered (AMBIGUOUS: unreachable or unreadable); undefined when nothing was sent for it. */
  publish?: PublishDecision;
}

export interface SettleAnswer {
  /** One per candidate, in order. */
  fates: TriggerFate[];
  published: PublishRecord[];
  /** A trigger's publish did not settle: the caller fails the batch so the mapping redelivers it. */
  retry: boolean;
}

const PublishAnswer = z.object({
  decision: z.enum(['ADMIT', 'DUPLICATE', 'QUARANTINE']),
  receipt_ref: SafeText(1024).nullable().optional(),
});

const PUBLISH_LANE: Record<PublishDecision, CaseTriggerMetricName> = {
  ADMIT: 'published',
  DUPLICATE: 'duplicates',
  QUARANTINE: 'quarantine',
  AMBIGUOUS: 'publish_ambiguous',
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: a reason is stored and logged on one line
const CONTROL = /[\u0000-\u001f\u007f]/g;
const reasonText = (text: string) => text.replace(CONTROL, ' ').slice(0, 512);

const ambiguous = (id: string, reason: string): PublishRecord => ({
  case_trigger_id: id,
  decision: 'AMBIGUOUS',
  receipt_ref: null,
  reason_code: reasonText(reason),
});

function recordsOf(ids: readonly string[], raw: unknown): PublishRecord[] {
  if (!Array.isArray(raw) || raw.length !== ids.length)
    return ids.map((id) => ambiguous(id, `IG_ANSWER_INVALID: expected ${ids.length} answers`));
  return ids.map((id, i) => {
    const answer = PublishAnswer.safeParse(raw[i]);
    if (!answer.success) {
      const decision = (raw[i] as { decision?: unknown } | undefined)?.decision;
      return ambiguous(id, `IG_DECISION_UNKNOWN:${String(decision)}`);
    }
    return {
      case_trigger_id: id,
      decision: answer.data.decision,
      receipt_ref: answer.data.receipt_ref ?? null,
      reason_code: null,
    };
  });
}

/**
 * Publishes the triggers in requests of ≤ 500 and records each request's decisions. Once a request throws (IG
 * unavailable after the publisher's retries), its triggers are AMBIGUOUS and the rest are not sent: they stay
 * unsettled on the ledger, and the redelivered batch sends them.
 */
async function publishTriggers(
  triggers: readonly CaseTriggerPayload[],
  ports: Pick<CaseTriggerPorts, 'publisher' | 'store'>,
): Promise<PublishRecord[]> {
  const records: PublishRecord[] = [];
  for (let start = 0; start < triggers.length; start += IG_BATCH_LIMIT) {
    const chunk = triggers.slice(start, start + IG_BATCH_LIMIT);
    const ids = chunk.map((t) => t.case_trigger_id);
    // Built (and schema-checked) outside the try: a malformed envelope is a bug that fails the batch, not IG's fault.
    const envelopes = chunk.map(caseTriggerEnvelope);
    let answered: PublishRecord[];
    let unavailable = false;
    try {
      answered = recordsOf(ids, await ports.publisher.publish(envelopes));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      answered = ids.map((id) => ambiguous(id, `IG_UNAVAILABLE:${message}`));
      unavailable = true;
    }
    await ports.store.recordPublish(answered);
    records.push(...answered);
    if (unavailable) break;
  }
  return records;
}

function mismatch(
  trigger: CaseTriggerPayload,
  storedHash: string,
  observedAt: string,
  counts: CaseTriggerCounts,
): PayloadMismatchAnomaly {
  countInto(counts, 'payload_mismatch');
  countInto(counts, 'quarantine');
  return {
    case_trigger_id: trigger.case_trigger_id,
    source_ref_id: trigger.source_ref_id,
    platform_run_id: trigger.pins.platform_run_id,
    scenario_run_id: trigger.pins.scenario_run_id,
    stored_payload_hash: storedHash,
    observed_payload_hash: trigger.payload_hash,
    observed_at_utc: observedAt,
  };
}

/** Claims, judges and publishes the candidates; only a store error (or a bug) throws. */
export async function settleTriggers(
  candidates: readonly TriggerCandidate[],
  ports: CaseTriggerPorts,
  observedAt: string,
  counts: CaseTriggerCounts,
): Promise<SettleAnswer> {
  if (candidates.length === 0) return { fates: [], published: [], retry: false };
  const firsts = new Map<string, TriggerCandidate>();
  for (const c of candidates)
    if (!firsts.has(c.trigger.case_trigger_id)) firsts.set(c.trigger.case_trigger_id, c);
  const sightings = [...firsts.values()];
  const answers = await ports.store.claim(
    sightings.map(({ trigger }) => ({
      case_trigger_id: trigger.case_trigger_id,
      case_id: trigger.case_id,
      trigger_type: trigger.trigger_type,
      source_ref_id: trigger.source_ref_id,
      platform_run_id: trigger.pins.platform_run_id,
      scenario_run_id: trigger.pins.scenario_run_id,
      payload_hash: trigger.payload_hash,
      payload: trigger,
      first_seen_at_utc: observedAt,
    })),
  );
  if (answers.length !== sightings.length)
    throw new InvariantViolation(`the ledger answered ${answers.length} claims for ${sightings.length}`);
  const claimOf = new Map(sightings.map((c, i) => [c.trigger.case_trigger_id, answers[i] as LedgerAnswer]));

  const anomalies: PayloadMismatchAnomaly[] = [];
  const raised: RaisedOutcome[] = [];
  const toPublish: TriggerCandidate[] = [];
  const fateOf = new Map<string, TriggerFate>();
  const fates = candidates.map((candidate): TriggerFate => {
    const { trigger } = candidate;
    const id = trigger.case_trigger_id;
    const first = firsts.get(id) as TriggerCandidate;
    const end = (disposition: RaisedOutcome['disposition']) => {
      if (candidate.outcome_id)
        raised.push({ outcome_id: candidate.outcome_id, case_trigger_id: id, disposition });
    };
    if (first !== candidate) {
      if (first.trigger.payload_hash === trigger.payload_hash) {
        countInto(counts, 'duplicates');
        return { case_trigger_id: id, ledger: 'BATCH_REPEAT' };
      }
      anomalies.push(mismatch(trigger, first.trigger.payload_hash, observedAt, counts));
      end('QUARANTINED');
      return { case_trigger_id: id, ledger: 'PAYLOAD_MISMATCH' };
    }
    const claim = claimOf.get(id) as LedgerAnswer;
    if (claim.status === 'PAYLOAD_MISMATCH') {
      anomalies.push(mismatch(trigger, claim.stored_payload_hash, observedAt, counts));
      end('QUARANTINED');
      return { case_trigger_id: id, ledger: 'PAYLOAD_MISMATCH' };
    }
    const recorded = claim.status === 'SEEN' && claim.publish_decision !== null;
    if (recorded && SETTLED_PUBLISH_DECISIONS.has(claim.publish_decision as PublishDecision)) {
      countInto(counts, 'duplicates');
      end('REPLAY');
      return { case_trigger_id: id, ledger: 'REPLAY' };
    }
    if (claim.status === 'SEEN') countInto(counts, 'republished');
    toPublish.push(candidate);
    const fate: TriggerFate = { case_trigger_id: id, ledger: claim.status === 'NEW' ? 'NEW' : 'REPUBLISHED' };
    fateOf.set(id, fate);
    return fate;
  });
  if (anomalies.length > 0) await ports.store.recordAnomalies(anomalies);

  const published = await publishTriggers(
    toPublish.map((c) => c.trigger),
    ports,
  );
  for (const record of published) {
    countInto(counts, PUBLISH_LANE[record.decision]);
    const fate = fateOf.get(record.case_trigger_id);
    if (fate) fate.publish = record.decision;
  }
  for (const c of toPublish) {
    const decision = fateOf.get(c.trigger.case_trigger_id)?.publish;
    if (c.outcome_id && decision !== undefined && SETTLED_PUBLISH_DECISIONS.has(decision))
      raised.push({
        outcome_id: c.outcome_id,
        case_trigger_id: c.trigger.case_trigger_id,
        disposition: 'PUBLISHED',
      });
  }
  if (raised.length > 0) await ports.store.markRaised(raised);
  return {
    fates,
    published,
    retry: toPublish.some((c) => {
      const decision = fateOf.get(c.trigger.case_trigger_id)?.publish;
      return decision === undefined || !SETTLED_PUBLISH_DECISIONS.has(decision);
    }),
  };
}
