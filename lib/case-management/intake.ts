import { caseManagementStreamId } from '../contracts/case-management.ts';
import type { CaseTriggerPayload } from '../contracts/case-trigger.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import { firstAttempt, type LabelRound, writePendingLabels } from './labels.ts';
import type { DeliveryCounter } from './observability.ts';
import type {
  CaseManagementPorts,
  IntakeAnswer,
  PendingEmission,
  QuarantineRow,
  TriggerIntake,
} from './ports.ts';
import { recordedAt } from './timeline.ts';
import { type CaseBusRecord, inlet, isObject, quarantineRow, textOrNull, triggerIntake } from './triggers.ts';

export type { CaseBusRecord } from './triggers.ts';
export { triggerIntake } from './triggers.ts';

/**
 * Case management's intake of one batch of the case topic (downstream.md §4.2, §9 #17), in stream order. Each
 * record is a case_trigger envelope, parsed (zod) with its ids and payload hash re-derived (caseTriggerIdentityFault):
 * a record that breaks its contract or whose ids or hash do not hold is quarantined with evidence (a row), never
 * thrown; a trigger of another run (case_subject_key.platform_run_id, the run-scope gate) is skipped and counted.
 * The batch's triggers are taken in at once (the store's one transaction): NEW_TRIGGER writes the case (one per
 * case_id; a second trigger adds to its trigger_count), CASE_TRIGGERED, EVIDENCE_ATTACHED per ref, LABEL_PENDING and
 * the label emission; DUPLICATE_TRIGGER writes nothing; TRIGGER_PAYLOAD_MISMATCH (same id, another hash) writes no
 * case row, only its anomaly's quarantine row. Then the labels are written (labels.ts): the new triggers', and those a
 * duplicate delivery finds still PENDING. Only a store error throws (the mapping retries the batch; every write is
 * keyed, so nothing is applied twice).
 */

export interface CaseManagementSettings {
  /** The run-scope gate: triggers of other runs are skipped (the dependencies' run in scope, always set). */
  requiredPlatformRunId: string;
}

export type RecordDisposition =
  | 'NEW_TRIGGER'
  | 'DUPLICATE_TRIGGER'
  | 'TRIGGER_PAYLOAD_MISMATCH'
  | 'QUARANTINED'
  | 'RUN_SCOPE_SKIPPED';

export interface RecordAnswer {
  topic: string;
  partition: number;
  offset: string;
  disposition: RecordDisposition;
  /** The envelope's event_id when it has a readable one. */
  event_id: string | null;
  case_id: string | null;
  case_trigger_id: string | null;
  /** The reason code and detail of a skipped or quarantined record. */
  detail: string | null;
}

export interface BatchAnswer {
  records: RecordAnswer[];
  labels: LabelRound;
  /** What this batch added to the delivery counters. */
  counters: Partial<Record<DeliveryCounter, number>>;
}

/** Handles one batch; only a store error (or a bug) throws, failing the batch. */
export async function takeInCaseTriggers(
  records: readonly CaseBusRecord[],
  ports: CaseManagementPorts,
  settings: CaseManagementSettings,
): Promise<BatchAnswer> {
  const scopeId = caseManagementStreamId(settings.requiredPlatformRunId);
  const at = recordedAt(ports.clock.now());
  const counters: Partial<Record<DeliveryCounter, number>> = {};
  const count = (name: DeliveryCounter, by = 1) => {
    if (by > 0) counters[name] = (counters[name] ?? 0) + by;
  };
  const answers: RecordAnswer[] = [];
  const quarantined: QuarantineRow[] = [];
  /** Admitted triggers in order; the first sighting of each id is taken in, the rest judged against it. */
  const admitted: { answer: RecordAnswer; record: CaseBusRecord; trigger: CaseTriggerPayload }[] = [];
  const firsts = new Map<string, TriggerIntake>();

  for (const record of records) {
    const raw = record.envelope;
    const answer: RecordAnswer = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      disposition: 'NEW_TRIGGER',
      event_id: isObject(raw) ? textOrNull(raw.event_id, 256) : null,
      case_id: null,
      case_trigger_id: null,
      detail: null,
    };
    answers.push(answer);
    const verdict = inlet(raw, settings.requiredPlatformRunId);
    if (!verdict.admitted) {
      Object.assign(answer, {
        disposition: verdict.disposition,
        detail: `${verdict.reason}: ${verdict.detail}`,
      });
      if (verdict.disposition === 'RUN_SCOPE_SKIPPED') count('skipped');
      else
        quarantined.push(
          quarantineRow(record, verdict.reason, verdict.detail, {
            event_id: answer.event_id,
            case_trigger_id: null,
            platform_run_id: null,
          }),
        );
      continue;
    }
    const { trigger } = verdict;
    Object.assign(answer, { case_id: trigger.case_id, case_trigger_id: trigger.case_trigger_id });
    admitted.push({ answer, record, trigger });
    if (!firsts.has(trigger.case_trigger_id)) firsts.set(trigger.case_trigger_id, triggerIntake(trigger, at));
  }

  const intakes = [...firsts.values()];
  const stored = intakes.length === 0 ? [] : await ports.store.takeIn(intakes);
  if (stored.length !== intakes.length)
    throw new InvariantViolation(`the store answered ${stored.length} intakes for ${intakes.length}`);
  const storedBy = new Map(intakes.map((intake, i) => [intake.case_trigger_id, stored[i] as IntakeAnswer]));

  const toWrite = new Map<string, PendingEmission>();
  const claimed = new Set<string>();
  for (const { answer, record, trigger } of admitted) {
    const first = firsts.get(trigger.case_trigger_id) as TriggerIntake;
    const result = storedBy.get(trigger.case_trigger_id) as IntakeAnswer;
    let storedHash: string | undefined;
    if (first.payload_hash !== trigger.payload_hash) storedHash = first.payload_hash;
    else if (result.outcome === 'TRIGGER_PAYLOAD_MISMATCH') storedHash = result.stored_payload_hash;
    if (storedHash !== undefined) {
      const detail = `stored payload_hash ${storedHash}, delivered ${trigger.payload_hash}`;
      Object.assign(answer, { disposition: 'TRIGGER_PAYLOAD_MISMATCH', detail });
      quarantined.push(
        quarantineRow(record, 'TRIGGER_PAYLOAD_MISMATCH', detail, {
          event_id: answer.event_id,
          case_trigger_id: trigger.case_trigger_id,
          platform_run_id: trigger.case_subject_key.platform_run_id,
        }),
      );
      continue;
    }
    // The first sighting in this batch of a NEW trigger is the NEW one; repeats in the batch are duplicates.
    if (result.outcome === 'NEW_TRIGGER' && !claimed.has(trigger.case_trigger_id)) {
      claimed.add(trigger.case_trigger_id);
      toWrite.set(first.emission.label_assertion_id, firstAttempt(first.emission, trigger.observed_time));
      continue;
    }
    answer.disposition = 'DUPLICATE_TRIGGER';
    count('duplicates');
    if (result.outcome === 'DUPLICATE_TRIGGER' && result.pending !== undefined)
      toWrite.set(result.pending.label_assertion_id, result.pending);
  }

  const labels = await writePendingLabels([...toWrite.values()], ports);
  count('label_write_exceptions', labels.exceptions);
  if (quarantined.length > 0) await ports.store.quarantine(scopeId, quarantined);
  if (Object.keys(counters).length > 0) await ports.store.addCounters(scopeId, counters);
  return { records: answers, labels, counters };
}

export interface RetryAnswer {
  platform_run_id: string;
  /** Pending labels written again this time. */
  written: number;
  accepted: number;
  rejected: number;
  pending: number;
  exceptions: number;
  superseded: number;
}

/** The retry task: a run's PENDING labels written again (oldest first, up to `limit`). */
export async function retryPendingLabels(
  ports: CaseManagementPorts,
  platformRunId: string,
  limit: number,
): Promise<RetryAnswer> {
  const pending = await ports.store.pendingEmissions(platformRunId, limit);
  const round = await writePendingLabels(pending, ports);
  if (round.exceptions > 0)
    await ports.store.addCounters(caseManagementStreamId(platformRunId), {
      label_write_exceptions: round.exceptions,
    });
  return {
    platform_run_id: platformRunId,
    written: pending.length,
    accepted: round.accepted,
    rejected: round.rejected,
    pending: round.pending,
    exceptions: round.exceptions,
    superseded: round.superseded,
  };
}
