import { z } from 'zod';
import { EvidenceRef, sortedEvidence } from './case-trigger.ts';
import { recipeHash } from './decision-lane.ts';
import { envelopeTsUtc } from './envelope.ts';
import {
  LABEL_TYPES,
  type LabelAsOfAnswer,
  type LabelType,
  type StoredLabelAssertion,
} from './label-store.ts';
import { Hex32, PlatformRunIdPattern, SafeText } from './wire-primitives.ts';

/**
 * Wire shapes of case management's label API (downstream.md §4.2–§4.3): `POST /v1/labels`, a person's (HUMAN) or an
 * outside source's (EXTERNAL) assertion about the subject of one case, recorded on its timeline as
 * INVESTIGATOR_ASSERTION and written to the label store; `GET /v1/labels`, the labels of one event (all of them, or
 * the as-of answer per label type).
 */

/** RFC 3339 with its zone (`Z` or `±hh:mm`), any fraction; normalised to UTC with six fractional digits. */
const RFC3339 =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$/;
export const Rfc3339Instant = z
  .string()
  .regex(RFC3339, 'expected RFC 3339 with a zone, e.g. 2026-12-07T10:00:00Z')
  .transform((text, ctx) => {
    const utc = envelopeTsUtc(text);
    if (utc === undefined) ctx.addIssue({ code: 'custom', message: 'not a valid instant' });
    return utc ?? text;
  });

/** The sources a caller may assert as (AUTO and SYSTEM are the platform's own). */
export const LABEL_API_SOURCE_TYPES = ['HUMAN', 'EXTERNAL'] as const;

/**
 * `POST /v1/labels`. The label's value, a HUMAN source's actor and the evidence are judged as the label store judges
 * them (LABEL_VALUE_INVALID, ACTOR_REQUIRED, MISSING_EVIDENCE_REFS — an absent `evidence_refs` is none); the
 * subject (platform_run_id, event_id) must be the case's. `observed_time` defaults to when the API first took it.
 */
export const LabelApiAssertion = z.strictObject({
  case_id: Hex32,
  label_type: z.enum(LABEL_TYPES as [LabelType, ...LabelType[]]),
  label_value: SafeText(64),
  source_type: z.enum(LABEL_API_SOURCE_TYPES),
  actor_id: SafeText(256).optional(),
  effective_time: Rfc3339Instant,
  observed_time: Rfc3339Instant.optional(),
  evidence_refs: z.array(EvidenceRef).max(64).default([]),
  platform_run_id: PlatformRunIdPattern,
  event_id: SafeText(256),
});
export type LabelApiAssertion = z.infer<typeof LabelApiAssertion>;

/**
 * The source_ref_id of the INVESTIGATOR_ASSERTION event an assertion is recorded as: `label:<label_type>:<hash>`, the
 * hash (recipe `cm.investigator_assertion.v1`) of what was asserted — times normalised, evidence in canonical order,
 * `observed_time` null when the caller left it to the API. The same assertion posted again names the same timeline
 * event, hence the same label_assertion_id: a replay, not a second assertion.
 */
export function investigatorAssertionSourceRef(a: LabelApiAssertion): string {
  const hash = recipeHash('cm.investigator_assertion.v1', {
    case_id: a.case_id,
    platform_run_id: a.platform_run_id,
    event_id: a.event_id,
    label_type: a.label_type,
    label_value: a.label_value,
    source_type: a.source_type,
    actor_id: a.actor_id ?? null,
    effective_time: a.effective_time,
    observed_time: a.observed_time ?? null,
    evidence_refs: sortedEvidence(a.evidence_refs),
  });
  return `label:${a.label_type}:${hash}`;
}

/** The answer of an accepted POST: 201 for a new assertion, 200 for a replay. */
export const LabelApiWriteAnswer = z.strictObject({
  status: z.literal('ACCEPTED'),
  reason_code: z.enum(['ASSERTION_COMMITTED_NEW', 'ASSERTION_REPLAY_MATCH']),
  label_assertion_id: Hex32,
  case_timeline_event_id: Hex32,
});
export type LabelApiWriteAnswer = z.infer<typeof LabelApiWriteAnswer>;

/** `GET /v1/labels?platform_run_id=…&event_id=…[&label_type=…][&as_of=…]`. */
export const LabelApiQuery = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  event_id: SafeText(256),
  label_type: z.enum(LABEL_TYPES as [LabelType, ...LabelType[]]).optional(),
  as_of: Rfc3339Instant.optional(),
});
export type LabelApiQuery = z.infer<typeof LabelApiQuery>;

/** The GET answer without `as_of`: every assertion about the event (of `label_type` when asked), label store order. */
export interface LabelApiEventLabels {
  platform_run_id: string;
  event_id: string;
  label_type: LabelType | null;
  assertions: StoredLabelAssertion[];
}

/** The GET answer with `as_of`: one as-of answer per label type (RESOLVED, CONFLICT or NOT_FOUND). */
export interface LabelApiAsOfLabels {
  platform_run_id: string;
  event_id: string;
  as_of: string;
  labels: LabelAsOfAnswer[];
}
