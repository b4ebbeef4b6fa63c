import { z } from 'zod';
import { CaseSubjectKey, type EvidenceRef } from './case-trigger.ts';
import { recipeHash, recipeId } from './decision-lane.ts';
import { Hex32, Hex64, PlatformRunIdPattern, Rfc3339Micros, SafeText } from './wire-primitives.ts';

/**
 * Wire shapes and recipes of case management (downstream.md §4.2): the case timeline's events and their ids, the
 * label case management submits for each new trigger (fraud_disposition = FRAUD_SUSPECTED, source AUTO), and what
 * its HTTP API answers (a page of a run's cases, one case with its whole timeline).
 */

/** The metric / scope base: scope ids are `case_mgmt.v0::<platform_run_id>` (§1). */
export const CASE_MANAGEMENT_STREAM_BASE = 'case_mgmt.v0';
export const caseManagementStreamId = (platformRunId: string) =>
  `${CASE_MANAGEMENT_STREAM_BASE}::${platformRunId}`;

/** The actor of the labels case management submits on its own (§4.2). */
export const CASE_MANAGEMENT_ACTOR = 'SYSTEM::case_mgmt_worker';
/** §4.2: the one label per new trigger. */
export const AUTO_LABEL = {
  label_type: 'fraud_disposition',
  label_value: 'FRAUD_SUSPECTED',
  source_type: 'AUTO',
} as const;
/** After this many writes that threw, a pending label is rejected (RETRY_LIMIT_EXCEEDED). */
export const LABEL_WRITE_ATTEMPT_LIMIT = 3;

export const TIMELINE_EVENT_TYPES = [
  'CASE_TRIGGERED',
  'EVIDENCE_ATTACHED',
  'ACTION_INTENT_REQUESTED',
  'ACTION_OUTCOME_ATTACHED',
  'LABEL_PENDING',
  'LABEL_ACCEPTED',
  'LABEL_REJECTED',
  'INVESTIGATOR_ASSERTION',
] as const;
export type TimelineEventType = (typeof TIMELINE_EVENT_TYPES)[number];

/** §4.2 case_timeline_event_id = recipe cm.case_timeline_event_id.v1 {case_id, timeline_event_type, source_ref_id}. */
export const caseTimelineEventId = (caseIdValue: string, type: TimelineEventType, sourceRefId: string) =>
  recipeId('cm.case_timeline_event_id.v1', {
    case_id: caseIdValue,
    timeline_event_type: type,
    source_ref_id: sourceRefId,
  });

/** The payload hash of a timeline event (the full 64 hex): what a replay of the same event must carry again. */
export const caseTimelinePayloadHash = (
  caseIdValue: string,
  type: TimelineEventType,
  sourceRefId: string,
  payload: Record<string, unknown>,
) =>
  recipeHash('cm.case_timeline_payload_hash.v1', {
    case_id: caseIdValue,
    timeline_event_type: type,
    source_ref_id: sourceRefId,
    payload,
  });

/** The subject's hash (cm_cases: one case per subject). */
export const caseSubjectHash = (subject: CaseSubjectKey) =>
  recipeHash('cm.case_subject_hash.v1', {
    platform_run_id: subject.platform_run_id,
    event_class: subject.event_class,
    event_id: subject.event_id,
  });

/** The source ref of an EVIDENCE_ATTACHED event: one per evidence ref and case. */
export const evidenceSourceRef = (ref: EvidenceRef) => `${ref.ref_type}:${ref.ref_id}`;

/** One event of a case's append-only timeline. */
export const CaseTimelineEvent = z.strictObject({
  case_timeline_event_id: Hex32,
  case_id: Hex32,
  timeline_event_type: z.enum(TIMELINE_EVENT_TYPES),
  source_ref_id: SafeText(600),
  /** Event time: the trigger's observed_time (what the event is about, not when it was written). */
  observed_time: Rfc3339Micros,
  payload: z.record(z.string(), z.unknown()),
  payload_hash: Hex64,
  /** When case management wrote it. */
  recorded_at_utc: Rfc3339Micros,
});
export type CaseTimelineEvent = z.infer<typeof CaseTimelineEvent>;

export const LABEL_EMISSION_STATUSES = ['PENDING', 'ACCEPTED', 'REJECTED'] as const;
export type LabelEmissionStatus = (typeof LABEL_EMISSION_STATUSES)[number];

/** A case as listed: its subject, how many triggers it had, and the status of its latest label. */
export const CaseSummary = z.strictObject({
  case_id: Hex32,
  case_subject_key: CaseSubjectKey,
  trigger_count: z.number().int().min(1),
  first_observed_time: Rfc3339Micros,
  last_observed_time: Rfc3339Micros,
  created_at_utc: Rfc3339Micros,
  /** The latest label emission's status (null: none yet). */
  label_status: z.enum(LABEL_EMISSION_STATUSES).nullable(),
});
export type CaseSummary = z.infer<typeof CaseSummary>;

/** `GET /v1/cases`: a page of a run's cases, newest first; `next_cursor` null on the last page. */
export const CasePage = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  cases: z.array(CaseSummary),
  next_cursor: z.string().nullable(),
});
export type CasePage = z.infer<typeof CasePage>;

/** `GET /v1/cases/{case_id}`: the case and its whole timeline in the order it was written. */
export const CaseView = z.strictObject({
  case: CaseSummary,
  timeline: z.array(CaseTimelineEvent),
});
export type CaseView = z.infer<typeof CaseView>;

export const CASE_PAGE_LIMIT_DEFAULT = 50;
export const CASE_PAGE_LIMIT_MAX = 200;

/** A page cursor: opaque to callers, the creation sequence of the last case of the previous page. */
export const encodeCaseCursor = (sequence: number) => Buffer.from(`cases:${sequence}`).toString('base64url');
export function decodeCaseCursor(cursor: string): number | undefined {
  const match = /^cases:([1-9][0-9]{0,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const sequence = match ? Number(match[1]) : Number.NaN;
  return Number.isSafeInteger(sequence) && encodeCaseCursor(sequence) === cursor ? sequence : undefined;
}

/**
 * The case-management function's tasks: `retry_pending` writes a run's PENDING labels again (the schedule sends it
 * without a run: the run in scope), `report` writes the run's metrics and health documents.
 */
export const CaseManagementTask = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('retry_pending'), platform_run_id: PlatformRunIdPattern.optional() }),
  z.strictObject({ action: z.literal('report'), platform_run_id: PlatformRunIdPattern }),
]);
export type CaseManagementTask = z.infer<typeof CaseManagementTask>;
