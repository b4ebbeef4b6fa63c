import {
  type CaseTimelineEvent,
  caseTimelineEventId,
  caseTimelinePayloadHash,
  evidenceSourceRef,
  type TimelineEventType,
} from '../contracts/case-management.ts';
import { type CaseTriggerPayload, sortedEvidence } from '../contracts/case-trigger.ts';
import { envelopeTsUtc } from '../contracts/envelope.ts';
import type { LabelWriteResult } from '../contracts/label-store.ts';

/**
 * The events case management appends to a case's timeline (downstream.md §4.2). Each is keyed by (case, type,
 * source ref) — its id is the recipe of those three — so writing it again is a no-op. A new trigger appends
 * CASE_TRIGGERED (source: the trigger), one EVIDENCE_ATTACHED per evidence ref the case does not hold yet (source:
 * `<ref_type>:<ref_id>`, so a second trigger citing the same audit record attaches nothing), and LABEL_PENDING
 * (source: the trigger); the label store's answer appends LABEL_ACCEPTED or LABEL_REJECTED (source: the assertion).
 * Event time is the trigger's observed_time; `recorded_at_utc` is when it was written.
 */

/** The clock's instant as the timeline writes it (six fractional digits). */
export function recordedAt(at: Date): string {
  const text = envelopeTsUtc(at);
  if (text === undefined) throw new RangeError('the clock answered an invalid time');
  return text;
}

export function timelineEvent(
  caseId: string,
  type: TimelineEventType,
  sourceRefId: string,
  observedTime: string,
  payload: Record<string, unknown>,
  recordedAtUtc: string,
): CaseTimelineEvent {
  return {
    case_timeline_event_id: caseTimelineEventId(caseId, type, sourceRefId),
    case_id: caseId,
    timeline_event_type: type,
    source_ref_id: sourceRefId,
    observed_time: observedTime,
    payload,
    payload_hash: caseTimelinePayloadHash(caseId, type, sourceRefId, payload),
    recorded_at_utc: recordedAtUtc,
  };
}

/** CASE_TRIGGERED: the trigger as taken in. */
export function caseTriggeredEvent(trigger: CaseTriggerPayload, recordedAtUtc: string): CaseTimelineEvent {
  return timelineEvent(
    trigger.case_id,
    'CASE_TRIGGERED',
    trigger.case_trigger_id,
    trigger.observed_time,
    {
      case_trigger_id: trigger.case_trigger_id,
      trigger_type: trigger.trigger_type,
      source_ref_id: trigger.source_ref_id,
      payload_hash: trigger.payload_hash,
      evidence_refs: sortedEvidence(trigger.evidence_refs),
      trigger_payload: trigger.trigger_payload,
    },
    recordedAtUtc,
  );
}

/** EVIDENCE_ATTACHED: one per distinct evidence ref of the trigger (the payload is the ref alone). */
export function evidenceEvents(trigger: CaseTriggerPayload, recordedAtUtc: string): CaseTimelineEvent[] {
  const seen = new Set<string>();
  const events: CaseTimelineEvent[] = [];
  for (const ref of sortedEvidence(trigger.evidence_refs)) {
    const source = evidenceSourceRef(ref);
    if (seen.has(source)) continue;
    seen.add(source);
    events.push(
      timelineEvent(
        trigger.case_id,
        'EVIDENCE_ATTACHED',
        source,
        trigger.observed_time,
        { ref_type: ref.ref_type, ref_id: ref.ref_id },
        recordedAtUtc,
      ),
    );
  }
  return events;
}

/** LABEL_PENDING: the label about to be written (its id is the assertion's case_timeline_event_id). */
export function labelPendingEvent(
  trigger: CaseTriggerPayload,
  labelAssertionId: string,
  recordedAtUtc: string,
): CaseTimelineEvent {
  return timelineEvent(
    trigger.case_id,
    'LABEL_PENDING',
    trigger.case_trigger_id,
    trigger.observed_time,
    {
      case_trigger_id: trigger.case_trigger_id,
      label_assertion_id: labelAssertionId,
      label_type: 'fraud_disposition',
      label_value: 'FRAUD_SUSPECTED',
      source_type: 'AUTO',
    },
    recordedAtUtc,
  );
}

/** LABEL_ACCEPTED / LABEL_REJECTED: the label store's answer (or RETRY_LIMIT_EXCEEDED), keyed by the assertion. */
export function labelAnsweredEvent(
  caseId: string,
  labelAssertionId: string,
  observedTime: string,
  answer: Pick<LabelWriteResult, 'status' | 'reason_code'> & { detail?: string | null | undefined },
  recordedAtUtc: string,
): CaseTimelineEvent {
  return timelineEvent(
    caseId,
    answer.status === 'ACCEPTED' ? 'LABEL_ACCEPTED' : 'LABEL_REJECTED',
    labelAssertionId,
    observedTime,
    {
      label_assertion_id: labelAssertionId,
      reason_code: answer.reason_code,
      ...(answer.detail ? { detail: answer.detail } : {}),
    },
    recordedAtUtc,
  );
}
