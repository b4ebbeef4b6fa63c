import { z } from 'zod';
import {
  LABEL_TYPES,
  type LabelAsOfAnswer,
  LabelSubjectKey,
  type LabelType,
  type StoredLabelAssertion,
} from '../contracts/label-store.ts';
import { PlatformRunIdPattern, Rfc3339Micros, SafeText } from '../contracts/wire-primitives.ts';
import { describeIssues, RequestInvalid } from '../errors/platform-error.ts';
import type { LabelStorePort } from './ports.ts';

/**
 * The Label Store's reads (downstream.md §4.3). An as-of read of one subject and label type considers the assertions
 * observed at or before `as_of`, ordered by observed_time, effective_time, label_assertion_id: the latest wins
 * (RESOLVED); when the assertions tied at the latest (observed_time, effective_time) instant carry different values,
 * the answer is CONFLICT (a correction must be observed later to settle it); none ⇒ NOT_FOUND. Corrections are new
 * assertions, so a read as of an earlier instant still answers what was known then.
 */

const AsOfQuery = z.strictObject({
  label_subject_key: LabelSubjectKey,
  label_type: z.enum(LABEL_TYPES as [LabelType, ...LabelType[]]),
  as_of: Rfc3339Micros,
});

const EventQuery = z.strictObject({ platform_run_id: PlatformRunIdPattern, event_id: SafeText(256) });

function parseQuery<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestInvalid('LABEL_QUERY_INVALID', describeIssues(parsed.error.issues));
  return parsed.data;
}

/** The §4.3 order: observed_time, effective_time, label_assertion_id (times are fixed-width UTC text). */
export function compareAssertions(a: StoredLabelAssertion, b: StoredLabelAssertion): number {
  return (
    compareText(a.observed_time, b.observed_time) ||
    compareText(a.effective_time, b.effective_time) ||
    compareText(a.label_assertion_id, b.label_assertion_id)
  );
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Resolves an as-of answer from a subject's assertions (any order; those observed after `asOf` are ignored). */
export function resolveAsOf(
  subject: LabelSubjectKey,
  labelType: LabelType,
  asOf: string,
  assertions: readonly StoredLabelAssertion[],
): LabelAsOfAnswer {
  const base = { label_subject_key: subject, label_type: labelType, as_of: asOf };
  const known = assertions.filter((a) => a.observed_time <= asOf).sort(compareAssertions);
  const latest = known[known.length - 1];
  if (latest === undefined) return { status: 'NOT_FOUND', ...base };
  const tied = known.filter(
    (a) => a.observed_time === latest.observed_time && a.effective_time === latest.effective_time,
  );
  const values = [...new Set(tied.map((a) => a.label_value))].sort();
  if (values.length > 1) return { status: 'CONFLICT', ...base, conflicting_values: values };
  return { status: 'RESOLVED', ...base, label_value: latest.label_value, assertion: latest };
}

/** The label of one subject and type as known at `asOf` (RFC 3339, six fractional digits). */
export async function labelAsOf(
  store: LabelStorePort,
  subject: LabelSubjectKey,
  labelType: LabelType,
  asOf: string,
): Promise<LabelAsOfAnswer> {
  const query = parseQuery(AsOfQuery, { label_subject_key: subject, label_type: labelType, as_of: asOf });
  const assertions = await store.assertionsAsOf(query.label_subject_key, query.label_type, query.as_of);
  return resolveAsOf(query.label_subject_key, query.label_type, query.as_of, assertions);
}

/** Every assertion about one event (the API's labels of an event), by type and the §4.3 order. */
export async function labelsOfEvent(
  store: LabelStorePort,
  platformRunId: string,
  eventId: string,
): Promise<StoredLabelAssertion[]> {
  const subject = parseQuery(EventQuery, { platform_run_id: platformRunId, event_id: eventId });
  const assertions = await store.assertionsOfEvent(subject);
  return [...assertions].sort((a, b) => compareText(a.label_type, b.label_type) || compareAssertions(a, b));
}
