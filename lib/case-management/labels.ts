import { z } from 'zod';
import {
  AUTO_LABEL,
  CASE_MANAGEMENT_ACTOR,
  LABEL_WRITE_ATTEMPT_LIMIT,
} from '../contracts/case-management.ts';
import { type CaseTriggerPayload, sortedEvidence } from '../contracts/case-trigger.ts';
import {
  type LabelAssertionInput,
  type LabelWriteResult,
  labelAssertionId,
} from '../contracts/label-store.ts';
import { describeIssues, InvariantViolation } from '../errors/platform-error.ts';
import type {
  CaseManagementPorts,
  LabelEmission,
  LabelSettlement,
  LabelWriter,
  PendingEmission,
} from './ports.ts';
import { labelAnsweredEvent, recordedAt } from './timeline.ts';

/**
 * The label handshake (downstream.md §4.2): each new trigger submits ONE label — subject {run, event of the case
 * subject}, fraud_disposition = FRAUD_SUSPECTED, source AUTO, actor SYSTEM::case_mgmt_worker, effective = observed
 * = the trigger's observed_time, evidence = the trigger's refs + {CASE_EVENT, <CASE_TRIGGERED id>} — whose
 * case_timeline_event_id is its LABEL_PENDING event. The LABEL_PENDING row is written with the trigger; then the
 * label store is asked: ACCEPTED ⇒ LABEL_ACCEPTED, REJECTED ⇒ LABEL_REJECTED (reason kept); a write that throws (or
 * answers nonsense) leaves it PENDING with `LS_WRITE_EXCEPTION:<code>`, retried when its trigger is delivered again
 * or by the retry task, and the third such attempt rejects it (RETRY_LIMIT_EXCEEDED). Nothing here says ACCEPTED
 * before the label store did.
 */

/** The one label of a new trigger, its LABEL_PENDING event as its case_timeline_event_id. */
export function autoLabelInput(
  trigger: CaseTriggerPayload,
  caseTriggeredEventId: string,
  labelPendingEventId: string,
): LabelAssertionInput {
  const caseEvent = { ref_type: 'CASE_EVENT' as const, ref_id: caseTriggeredEventId };
  const refs = trigger.evidence_refs.some((r) => r.ref_type === 'CASE_EVENT' && r.ref_id === caseEvent.ref_id)
    ? trigger.evidence_refs
    : [...trigger.evidence_refs, caseEvent];
  return {
    case_timeline_event_id: labelPendingEventId,
    label_subject_key: {
      platform_run_id: trigger.case_subject_key.platform_run_id,
      event_id: trigger.case_subject_key.event_id,
    },
    pins: trigger.pins,
    label_type: AUTO_LABEL.label_type,
    label_value: AUTO_LABEL.label_value,
    effective_time: trigger.observed_time,
    observed_time: trigger.observed_time,
    source_type: AUTO_LABEL.source_type,
    actor_id: CASE_MANAGEMENT_ACTOR,
    evidence_refs: sortedEvidence(refs),
  };
}

/** The emission a new trigger starts (its assertion id by the §4.3 recipe). */
export function labelEmission(
  trigger: CaseTriggerPayload,
  caseTriggeredEventId: string,
  labelPendingEventId: string,
): LabelEmission {
  const input = autoLabelInput(trigger, caseTriggeredEventId, labelPendingEventId);
  return {
    label_assertion_id: labelAssertionId(input),
    case_id: trigger.case_id,
    case_trigger_id: trigger.case_trigger_id,
    platform_run_id: trigger.case_subject_key.platform_run_id,
    label_pending_event_id: labelPendingEventId,
    input,
  };
}

/** The writer's answer, parsed at the port (a writer is a boundary). */
const WriteAnswer = z.object({
  status: z.enum(['ACCEPTED', 'REJECTED']),
  reason_code: z.string().min(1).max(512),
  label_assertion_id: z.string().optional(),
  detail: z
    .string()
    .transform((d) => d.slice(0, 1024))
    .optional(),
});

type Attempt = { answer: LabelWriteResult } | { error: string };

const ERROR_CODE = /^[A-Za-z][A-Za-z0-9_.:-]{0,95}$/;

/** `LS_WRITE_EXCEPTION:<code>`: the error's reason code (a PlatformError's), else its name. */
export function writeExceptionOf(error: unknown): string {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  const text = [code, name].find((v): v is string => typeof v === 'string' && ERROR_CODE.test(v));
  return `LS_WRITE_EXCEPTION:${text ?? 'UNKNOWN'}`;
}

function judged(raw: unknown, expectedId: string): Attempt {
  const parsed = WriteAnswer.safeParse(raw);
  if (!parsed.success)
    return {
      error: `LS_WRITE_EXCEPTION:ANSWER_INVALID ${describeIssues(parsed.error.issues)}`.slice(0, 512),
    };
  if (parsed.data.label_assertion_id !== undefined && parsed.data.label_assertion_id !== expectedId)
    return { error: 'LS_WRITE_EXCEPTION:ASSERTION_ID_MISMATCH' };
  return { answer: parsed.data as LabelWriteResult };
}

async function writeOne(labels: LabelWriter, emission: LabelEmission): Promise<Attempt> {
  try {
    return judged(await labels.write(emission.input), emission.label_assertion_id);
  } catch (error) {
    return { error: writeExceptionOf(error) };
  }
}

/** One attempt per emission: the batch method when there is one (each alone if it throws or miscounts). */
async function attempt(labels: LabelWriter, emissions: readonly LabelEmission[]): Promise<Attempt[]> {
  if (labels.writeMany && emissions.length > 1) {
    try {
      const answers = await labels.writeMany(emissions.map((e) => e.input));
      if (Array.isArray(answers) && answers.length === emissions.length)
        return answers.map((a, i) => judged(a, (emissions[i] as LabelEmission).label_assertion_id));
    } catch {
      // Each alone below: one label's failure names that label only.
    }
  }
  const attempts: Attempt[] = [];
  for (const emission of emissions) attempts.push(await writeOne(labels, emission));
  return attempts;
}

export interface LabelRound {
  accepted: number;
  rejected: number;
  /** Still PENDING after this round (their write threw; retried later). */
  pending: number;
  /** Attempts that threw (or answered nonsense). */
  exceptions: number;
  /** Attempts a concurrent attempt had already settled (not recorded). */
  superseded: number;
}

/** Writes the pending labels once each and records what the label store answered (one settle call). */
export async function writePendingLabels(
  emissions: readonly PendingEmission[],
  ports: Pick<CaseManagementPorts, 'store' | 'labels' | 'clock'>,
): Promise<LabelRound> {
  const round: LabelRound = {
    accepted: 0,
    rejected: 0,
    pending: 0,
    exceptions: 0,
    superseded: 0,
  };
  if (emissions.length === 0) return round;
  const attempts = await attempt(ports.labels, emissions);
  const at = recordedAt(ports.clock.now());
  const settlements = emissions.map((emission, i): LabelSettlement => {
    const result = attempts[i] as Attempt;
    const base = { label_assertion_id: emission.label_assertion_id, attempts_before: emission.attempts };
    const answered = (status: 'ACCEPTED' | 'REJECTED', reason: string, detail?: string | null) =>
      labelAnsweredEvent(
        emission.case_id,
        emission.label_assertion_id,
        emission.observed_time,
        { status, reason_code: reason, detail },
        at,
      );
    if ('answer' in result) {
      const { status, reason_code, detail } = result.answer;
      return {
        ...base,
        status,
        reason_code,
        last_error: null,
        timeline_event: answered(status, reason_code, detail),
      };
    }
    if (emission.attempts + 1 >= LABEL_WRITE_ATTEMPT_LIMIT)
      return {
        ...base,
        status: 'REJECTED',
        reason_code: 'RETRY_LIMIT_EXCEEDED',
        last_error: result.error,
        timeline_event: answered('REJECTED', 'RETRY_LIMIT_EXCEEDED', result.error),
      };
    return {
      ...base,
      status: 'PENDING',
      reason_code: null,
      last_error: result.error,
      timeline_event: undefined,
    };
  });
  const recorded = await ports.store.settle(settlements);
  if (recorded.length !== settlements.length)
    throw new InvariantViolation(
      `the store answered ${recorded.length} settlements for ${settlements.length}`,
    );
  settlements.forEach((s, i) => {
    if ('error' in (attempts[i] as Attempt)) round.exceptions++;
    if (!recorded[i]) {
      round.superseded++;
      return;
    }
    if (s.status === 'ACCEPTED') round.accepted++;
    else if (s.status === 'REJECTED') round.rejected++;
    else round.pending++;
  });
  return round;
}

/** A new emission as a pending one (no attempt yet). */
export const firstAttempt = (emission: LabelEmission, observedTime: string): PendingEmission => ({
  ...emission,
  attempts: 0,
  observed_time: observedTime,
});
