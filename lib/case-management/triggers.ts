import { canonicalJson } from '../contracts/canonical-json.ts';
import { caseSubjectHash, caseTimelineEventId } from '../contracts/case-management.ts';
import {
  CASE_TRIGGER_EVENT_TYPE,
  CaseTriggerEnvelope,
  type CaseTriggerPayload,
  caseTriggerIdentityFault,
} from '../contracts/case-trigger.ts';
import { sha256Hex } from '../contracts/identity.ts';
import { describeIssues } from '../errors/platform-error.ts';
import { labelEmission } from './labels.ts';
import type { QuarantineRow, TriggerIntake } from './ports.ts';
import { caseTriggeredEvent, evidenceEvents, labelPendingEvent } from './timeline.ts';

/**
 * One record of the case topic judged (downstream.md §4.2): the run-scope gate on the run it claims, the envelope and
 * payload parsed (zod), the ids and payload hash re-derived (caseTriggerIdentityFault), the envelope checked against its
 * payload (event_id = case_trigger_id, one run throughout) — and what it becomes: the rows a trigger writes if it is
 * new, or the quarantine row that keeps the evidence of one that is not taken in.
 */

/** One record of the case topic: where it sits and its data (the bus edge's BusRecord has these). */
export interface CaseBusRecord {
  topic: string;
  partition: number;
  offset: string;
  data: string;
  envelope: unknown;
}

export type Inlet =
  | { admitted: true; trigger: CaseTriggerPayload }
  | { admitted: false; disposition: 'QUARANTINED' | 'RUN_SCOPE_SKIPPED'; reason: string; detail: string };

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text a store and a log line hold as it is: no control character, no lone surrogate, at most `max` long. */
export const printable = (text: string, max: number) =>
  text.slice(0, max).replace(CONTROL, '?').replace(LONE_SURROGATE, '?');

/** A record's own text (an event_id) when it is printable as it is; null otherwise. */
export const textOrNull = (value: unknown, max: number) =>
  typeof value === 'string' && value.length > 0 && value.length <= max && printable(value, max) === value
    ? value
    : null;

/** The run a record claims before it is parsed: its subject's, else its envelope's. */
function claimedRun(raw: Record<string, unknown>): unknown {
  const payload = raw.payload;
  const subject = isObject(payload) ? payload.case_subject_key : undefined;
  if (isObject(subject) && typeof subject.platform_run_id === 'string') return subject.platform_run_id;
  return raw.platform_run_id;
}

/** The checks, in order; the first that fails names the disposition. */
export function inlet(raw: unknown, requiredPlatformRunId: string): Inlet {
  const quarantine = (reason: string, detail: string): Inlet => ({
    admitted: false,
    disposition: 'QUARANTINED',
    reason,
    detail: printable(detail, 1024),
  });
  if (!isObject(raw)) return quarantine('TRIGGER_CONTRACT_INVALID', 'not a JSON object');
  // Gated before it is judged: a record of another run is not this run's to quarantine.
  const run = claimedRun(raw);
  if (typeof run === 'string' && run !== requiredPlatformRunId)
    return {
      admitted: false,
      disposition: 'RUN_SCOPE_SKIPPED',
      reason: 'RUN_SCOPE_SKIPPED',
      detail: printable(run, 256),
    };
  if (raw.event_type !== CASE_TRIGGER_EVENT_TYPE)
    return quarantine('TRIGGER_CONTRACT_INVALID', `event_type ${String(raw.event_type)}`);
  const envelope = CaseTriggerEnvelope.safeParse(raw);
  if (!envelope.success) return quarantine('TRIGGER_CONTRACT_INVALID', describeIssues(envelope.error.issues));
  const { data } = envelope;
  const trigger = data.payload;
  const fault = caseTriggerIdentityFault(trigger);
  if (fault !== undefined) return quarantine(fault.split(':')[0] as string, fault);
  if (data.event_id !== trigger.case_trigger_id)
    return quarantine('ENVELOPE_EVENT_ID_MISMATCH', `event_id ${data.event_id} is not the case_trigger_id`);
  // The subject's run passed the gate; the envelope and the pins must name it too.
  const subjectRun = trigger.case_subject_key.platform_run_id;
  if (data.platform_run_id !== subjectRun || trigger.pins.platform_run_id !== subjectRun)
    return quarantine('RUN_PINS_MISMATCH', 'the envelope, pins and subject name different runs');
  return { admitted: true, trigger };
}

/** Every row a trigger writes if it is new: its ledger entry, its case's share, its timeline events, its label. */
export function triggerIntake(trigger: CaseTriggerPayload, recordedAtUtc: string): TriggerIntake {
  const triggered = caseTriggeredEvent(trigger, recordedAtUtc);
  const pendingId = caseTimelineEventId(trigger.case_id, 'LABEL_PENDING', trigger.case_trigger_id);
  const emission = labelEmission(trigger, triggered.case_timeline_event_id, pendingId);
  const pending = labelPendingEvent(trigger, emission.label_assertion_id, recordedAtUtc);
  return {
    case_trigger_id: trigger.case_trigger_id,
    payload_hash: trigger.payload_hash,
    platform_run_id: trigger.case_subject_key.platform_run_id,
    case_id: trigger.case_id,
    trigger_type: trigger.trigger_type,
    source_ref_id: trigger.source_ref_id,
    observed_time: trigger.observed_time,
    payload_json: canonicalJson(trigger),
    recorded_at_utc: recordedAtUtc,
    case_row: {
      case_id: trigger.case_id,
      case_subject_key: trigger.case_subject_key,
      subject_hash: caseSubjectHash(trigger.case_subject_key),
      observed_time: trigger.observed_time,
    },
    timeline: [triggered, ...evidenceEvents(trigger, recordedAtUtc), pending],
    emission,
  };
}

/** The evidence kept of a record's bytes: the first 64 KiB (base64), their sha256 and length. */
const EVIDENCE_BYTES = 65_536;

export function quarantineRow(
  record: CaseBusRecord,
  reason: string,
  detail: string | null,
  ids: { event_id: string | null; case_trigger_id: string | null; platform_run_id: string | null },
): QuarantineRow {
  const bytes = Buffer.from(record.data, 'utf8');
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    reason_code: reason,
    detail,
    ...ids,
    data_base64: bytes.subarray(0, EVIDENCE_BYTES).toString('base64'),
    data_sha256: sha256Hex(bytes),
    data_bytes: bytes.length,
  };
}
