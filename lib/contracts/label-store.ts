import { z } from 'zod';
import { EvidenceRef, sortedEvidence } from './case-trigger.ts';
import { RtdlPins, recipeHash, recipeId } from './decision-lane.ts';
import { PlatformRunIdPattern, Rfc3339Micros, SafeText } from './wire-primitives.ts';

/**
 * Wire shapes and recipes of the label store (downstream.md §4.3): a label assertion, its id and payload hash, the
 * writer's answer, and an as-of read. The taxonomy is label_store/taxonomy_v0.yaml. A label is about one event of one
 * run (its subject); corrections are new assertions, never updates.
 */

export const LABEL_STORE_STREAM_BASE = 'label_store.v0';

export const LABEL_VALUES = {
  fraud_disposition: ['FRAUD_CONFIRMED', 'FRAUD_SUSPECTED', 'LEGIT_CONFIRMED'],
  chargeback_status: ['CHARGEBACK', 'NO_CHARGEBACK', 'PENDING'],
  account_takeover: ['ATO_CONFIRMED', 'ATO_SUSPECTED', 'ATO_NOT_CONFIRMED'],
} as const;
export const LABEL_TYPES = Object.keys(LABEL_VALUES) as (keyof typeof LABEL_VALUES)[];
export type LabelType = keyof typeof LABEL_VALUES;

export const SOURCE_TYPES = ['HUMAN', 'EXTERNAL', 'AUTO', 'SYSTEM'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];

export const LabelSubjectKey = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  event_id: SafeText(256),
});
export type LabelSubjectKey = z.infer<typeof LabelSubjectKey>;

/** The pins an assertion carries: the run always, the rest of the rtdl pins when known. */
export const LabelPins = RtdlPins.partial().required({ platform_run_id: true });
export type LabelPins = z.infer<typeof LabelPins>;

/**
 * An assertion as submitted to the writer (before its id and hash). `case_timeline_event_id` names what it came from:
 * the case timeline event (LABEL_PENDING of case management, INVESTIGATOR_ASSERTION of the label API), or for the
 * world's bank-view labels the engine row it was loaded from.
 */
export const LabelAssertionInput = z
  .strictObject({
    case_timeline_event_id: SafeText(256),
    label_subject_key: LabelSubjectKey,
    pins: LabelPins,
    label_type: z.enum(LABEL_TYPES as [LabelType, ...LabelType[]]),
    label_value: SafeText(64),
    effective_time: Rfc3339Micros,
    observed_time: Rfc3339Micros,
    source_type: z.enum(SOURCE_TYPES),
    actor_id: SafeText(256).optional(),
    evidence_refs: z.array(EvidenceRef).max(64),
  })
  .superRefine((a, ctx) => {
    if (!(LABEL_VALUES[a.label_type] as readonly string[]).includes(a.label_value))
      ctx.addIssue({
        code: 'custom',
        path: ['label_value'],
        message: `LABEL_VALUE_INVALID: ${a.label_type} takes ${LABEL_VALUES[a.label_type].join(', ')}`,
      });
    if (a.source_type === 'HUMAN' && a.actor_id === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['actor_id'],
        message: 'ACTOR_REQUIRED: a HUMAN label names its actor',
      });
    if (a.label_subject_key.platform_run_id !== a.pins.platform_run_id)
      ctx.addIssue({
        code: 'custom',
        path: ['label_subject_key', 'platform_run_id'],
        message: 'SUBJECT_RUN_MISMATCH: the subject is of another run than the pins',
      });
  });
export type LabelAssertionInput = z.infer<typeof LabelAssertionInput>;

/** §4.3 label_assertion_id = recipe ls.label_assertion_id.v1 {case_timeline_event_id, subject, label_type}. */
export const labelAssertionId = (
  a: Pick<LabelAssertionInput, 'case_timeline_event_id' | 'label_subject_key' | 'label_type'>,
) =>
  recipeId('ls.label_assertion_id.v1', {
    case_timeline_event_id: a.case_timeline_event_id,
    label_subject_key: {
      platform_run_id: a.label_subject_key.platform_run_id,
      event_id: a.label_subject_key.event_id,
    },
    label_type: a.label_type,
  });

/** §4.3 payload_hash = recipe ls.label_assertion_payload_hash.v1 {subject, type, value, times, source, actor or "", evidence sorted}. */
export const labelAssertionPayloadHash = (a: LabelAssertionInput) =>
  recipeHash('ls.label_assertion_payload_hash.v1', {
    label_subject_key: {
      platform_run_id: a.label_subject_key.platform_run_id,
      event_id: a.label_subject_key.event_id,
    },
    label_type: a.label_type,
    label_value: a.label_value,
    effective_time: a.effective_time,
    observed_time: a.observed_time,
    source_type: a.source_type,
    actor_id: a.actor_id ?? '',
    evidence_refs: sortedEvidence(a.evidence_refs),
  });

export const LABEL_WRITE_REASONS = [
  'ASSERTION_COMMITTED_NEW',
  'ASSERTION_REPLAY_MATCH',
  'MISSING_EVIDENCE_REFS',
  'DEDUPE_TUPLE_COLLISION',
  'PAYLOAD_HASH_MISMATCH',
  'CONTRACT_INVALID',
] as const;

/** The writer's answer. `reason_code` is one of LABEL_WRITE_REASONS, CONTRACT_INVALID carrying `:<what>`. */
export interface LabelWriteResult {
  status: 'ACCEPTED' | 'REJECTED';
  reason_code: string;
  label_assertion_id?: string;
  payload_hash?: string;
  detail?: string;
}

/** A stored assertion as read back. */
export interface StoredLabelAssertion extends LabelAssertionInput {
  label_assertion_id: string;
  payload_hash: string;
  replay_count: number;
}

/** An as-of read of one subject and label type: the latest assertion observed by `as_of` (§4.3 order). */
export interface LabelAsOfAnswer {
  status: 'RESOLVED' | 'CONFLICT' | 'NOT_FOUND';
  label_subject_key: LabelSubjectKey;
  label_type: LabelType;
  as_of: string;
  /** RESOLVED: the value; CONFLICT: the values tied at the latest (observed, effective) instant. */
  label_value?: string;
  conflicting_values?: string[];
  assertion?: StoredLabelAssertion;
}
