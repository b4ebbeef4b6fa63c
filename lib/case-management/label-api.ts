import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { type CaseTimelineEvent, caseTimelineEventId } from '../contracts/case-management.ts';
import { sortedEvidence } from '../contracts/case-trigger.ts';
import {
  investigatorAssertionSourceRef,
  type LabelApiAsOfLabels,
  LabelApiAssertion,
  type LabelApiEventLabels,
  LabelApiQuery,
  type LabelApiWriteAnswer,
} from '../contracts/label-api.ts';
import {
  LABEL_TYPES,
  type LabelAsOfAnswer,
  LabelAssertionInput,
  type LabelSubjectKey,
  type LabelType,
  labelAssertionId,
  type StoredLabelAssertion,
} from '../contracts/label-store.ts';
import { describeIssues } from '../errors/platform-error.ts';
import { CASE_API_KEY_HEADER } from './http-api.ts';
import type { CaseStore, Clock, LabelWriter } from './ports.ts';
import { recordedAt, timelineEvent } from './timeline.ts';

/**
 * Case management's label API (downstream.md §4.2–§4.3), behind the case API's keys (`X-Case-Api-Key`):
 * - `POST /v1/labels`: a HUMAN or EXTERNAL assertion about a case's subject. It is judged first as the label store
 *   would judge it (so a bad request never reaches the store: it writes nothing, counts nothing, moves no health),
 *   then written through the LabelWriter; once the store accepts it, it is recorded on the case's timeline as
 *   INVESTIGATOR_ASSERTION (the assertion's case_timeline_event_id). 201 ASSERTION_COMMITTED_NEW, 200
 *   ASSERTION_REPLAY_MATCH (the same assertion again: its id is the hash of what it asserts).
 * - `GET /v1/labels?platform_run_id=…&event_id=…[&label_type=…][&as_of=…]`: every assertion about the event, or with
 *   `as_of` the as-of answer per label type (RESOLVED, CONFLICT, NOT_FOUND).
 * 4xx answers are `{error: REASON_CODE, detail}`: 401 UNAUTHORIZED, 403 AUTH_DENIED (no principal holds the key, or
 * a reader's bare key asserts), 400 INVALID_JSON / REQUEST_INVALID / LABEL_VALUE_INVALID / ACTOR_REQUIRED /
 * MISSING_EVIDENCE_REFS / CONTRACT_INVALID / LABEL_QUERY_INVALID, 404 CASE_NOT_FOUND / ROUTE_NOT_FOUND, 405
 * METHOD_NOT_ALLOWED, 409 SUBJECT_RUN_MISMATCH / SUBJECT_NOT_OF_CASE / PAYLOAD_HASH_MISMATCH / DEDUPE_TUPLE_COLLISION,
 * 413 PAYLOAD_TOO_LARGE. A store outage is the edge's 503.
 */

export interface LabelApiRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  body: string | undefined;
}

export interface LabelApiAnswer {
  statusCode: number;
  body: unknown;
}

/** The label store's reads, in process (the adapter wires `labelsOfEvent` / `labelAsOf`: a core imports no core). */
export interface LabelReads {
  /** Every assertion about one event, by label_type and the §4.3 order. */
  labelsOfEvent(subject: LabelSubjectKey): Promise<StoredLabelAssertion[]>;
  labelAsOf(subject: LabelSubjectKey, labelType: LabelType, asOf: string): Promise<LabelAsOfAnswer>;
}

export interface LabelApiPorts {
  cases: Pick<CaseStore, 'caseView' | 'appendTimeline'>;
  labels: LabelWriter;
  reads: LabelReads;
  clock: Clock;
}

export interface LabelApiDependencies {
  /** The principal holding `key`; undefined when none does. */
  principalOf(key: string): Promise<string | undefined>;
  ports(): Promise<LabelApiPorts>;
}

/** The principal of a bare key (no `principal=`): it may read labels, not assert them. */
export const LABEL_READER_PRINCIPAL = 'case_reader';
export const LABEL_API_MAX_BODY_BYTES = 128 * 1024;
const LABELS = '/v1/labels';

const error = (statusCode: number, code: string, detail: unknown = null): LabelApiAnswer => ({
  statusCode,
  body: { error: code, detail },
});

export async function handleLabelRequest(
  req: LabelApiRequest,
  deps: LabelApiDependencies,
): Promise<LabelApiAnswer> {
  const key = req.headers[CASE_API_KEY_HEADER];
  if (!key) return error(401, 'UNAUTHORIZED', `send the key in ${CASE_API_KEY_HEADER}`);
  const principal = await deps.principalOf(key);
  if (principal === undefined) return error(403, 'AUTH_DENIED');

  const path = req.path.replace(/\/+$/, '');
  if (path !== LABELS) return error(404, 'ROUTE_NOT_FOUND', `${req.method} ${path}`.slice(0, 256));
  const method = req.method.toUpperCase();
  if (method === 'GET') return readLabels(req.query, await deps.ports());
  if (method !== 'POST') return error(405, 'METHOD_NOT_ALLOWED', 'GET or POST');
  if (principal === LABEL_READER_PRINCIPAL)
    return error(403, 'AUTH_DENIED', 'a reader key does not assert labels; use an operator key');
  return assertLabel(req.body, principal, await deps.ports());
}

/** The parsed body, or the 4xx it earns. */
function parseAssertion(body: string | undefined): LabelApiAssertion | LabelApiAnswer {
  const text = body ?? '';
  const size = Buffer.byteLength(text, 'utf8');
  if (size > LABEL_API_MAX_BODY_BYTES)
    return error(413, 'PAYLOAD_TOO_LARGE', `${size} bytes; the limit is ${LABEL_API_MAX_BODY_BYTES}`);
  if (text.trim() === '')
    return error(400, 'REQUEST_INVALID', 'the body is one JSON object (a label assertion)');
  let json: unknown;
  try {
    json = parseJsonLossless(text);
  } catch (e) {
    return error(400, 'INVALID_JSON', (e as Error).message.slice(0, 256));
  }
  const parsed = LabelApiAssertion.safeParse(json);
  if (!parsed.success)
    return error(400, 'REQUEST_INVALID', describeIssues(parsed.error.issues).slice(0, 1024));
  return parsed.data;
}

async function assertLabel(
  body: string | undefined,
  principal: string,
  ports: LabelApiPorts,
): Promise<LabelApiAnswer> {
  const asserted = parseAssertion(body);
  if ('statusCode' in asserted) return asserted;
  const view = await ports.cases.caseView(asserted.case_id);
  if (view === undefined) return error(404, 'CASE_NOT_FOUND', asserted.case_id);
  const subject = view.case.case_subject_key;
  if (asserted.platform_run_id !== subject.platform_run_id)
    return error(
      409,
      'SUBJECT_RUN_MISMATCH',
      `case ${asserted.case_id} is about run ${subject.platform_run_id}, not ${asserted.platform_run_id}`,
    );
  if (asserted.event_id !== subject.event_id)
    return error(409, 'SUBJECT_NOT_OF_CASE', `case ${asserted.case_id} is about another event`);

  const sourceRef = investigatorAssertionSourceRef(asserted);
  const eventId = caseTimelineEventId(asserted.case_id, 'INVESTIGATOR_ASSERTION', sourceRef);
  const now = recordedAt(ports.clock.now());
  const input: LabelAssertionInput = {
    case_timeline_event_id: eventId,
    label_subject_key: { platform_run_id: asserted.platform_run_id, event_id: asserted.event_id },
    pins: { platform_run_id: subject.platform_run_id },
    label_type: asserted.label_type,
    label_value: asserted.label_value,
    effective_time: asserted.effective_time,
    observed_time: asserted.observed_time ?? now,
    source_type: asserted.source_type,
    ...(asserted.actor_id === undefined ? {} : { actor_id: asserted.actor_id }),
    evidence_refs: sortedEvidence(asserted.evidence_refs),
  };
  const refused = refusal(input);
  if (refused !== undefined) return rejection(refused.reason_code, refused.detail);
  if (asserted.observed_time === undefined) {
    // The same assertion again, observed_time left to the API: it keeps the instant it was first taken at.
    const id = labelAssertionId(input);
    const stored = (await ports.reads.labelsOfEvent(input.label_subject_key)).find(
      (a) => a.label_assertion_id === id,
    );
    if (stored !== undefined) input.observed_time = stored.observed_time;
  }

  const result = await ports.labels.write(input);
  if (result.status !== 'ACCEPTED') return rejection(result.reason_code, result.detail);
  const labelId = result.label_assertion_id ?? labelAssertionId(input);
  await ports.cases.appendTimeline([
    assertionEvent(asserted.case_id, sourceRef, input, labelId, principal, now),
  ]);
  const answer: LabelApiWriteAnswer = {
    status: 'ACCEPTED',
    reason_code:
      result.reason_code === 'ASSERTION_COMMITTED_NEW' ? result.reason_code : 'ASSERTION_REPLAY_MATCH',
    label_assertion_id: labelId,
    case_timeline_event_id: eventId,
  };
  return { statusCode: answer.reason_code === 'ASSERTION_COMMITTED_NEW' ? 201 : 200, body: answer };
}

/** INVESTIGATOR_ASSERTION: what was asserted, by whom (and which API principal sent it), as accepted. */
function assertionEvent(
  caseId: string,
  sourceRef: string,
  input: LabelAssertionInput,
  labelId: string,
  principal: string,
  recordedAtUtc: string,
): CaseTimelineEvent {
  return timelineEvent(
    caseId,
    'INVESTIGATOR_ASSERTION',
    sourceRef,
    input.observed_time,
    {
      label_assertion_id: labelId,
      label_subject_key: input.label_subject_key,
      label_type: input.label_type,
      label_value: input.label_value,
      source_type: input.source_type,
      ...(input.actor_id === undefined ? {} : { actor_id: input.actor_id }),
      effective_time: input.effective_time,
      evidence_refs: input.evidence_refs,
      submitted_by: principal,
    },
    recordedAtUtc,
  );
}

/** The label store's checks before the store, in its order: the contract (its first issue names it), then evidence. */
function refusal(input: LabelAssertionInput): { reason_code: string; detail: string } | undefined {
  const parsed = LabelAssertionInput.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const named = first ? /^([A-Z][A-Z0-9_]*):/.exec(first.message)?.[1] : undefined;
    const code = named ?? (first?.path.map(String).join('.') || 'INVALID');
    return {
      reason_code: `CONTRACT_INVALID:${code}`,
      detail: describeIssues(parsed.error.issues).slice(0, 1024),
    };
  }
  if (input.evidence_refs.length === 0)
    return {
      reason_code: 'MISSING_EVIDENCE_REFS',
      detail: 'a label assertion carries at least one evidence ref',
    };
  return undefined;
}

/** The label store's reasons for refusing, as the API answers them (by the code after `CONTRACT_INVALID:`). */
const REJECTION_STATUS: Readonly<Record<string, number>> = {
  LABEL_VALUE_INVALID: 400,
  ACTOR_REQUIRED: 400,
  MISSING_EVIDENCE_REFS: 400,
  SUBJECT_RUN_MISMATCH: 409,
  PAYLOAD_HASH_MISMATCH: 409,
  DEDUPE_TUPLE_COLLISION: 409,
};

function rejection(reasonCode: string, detail: string | undefined): LabelApiAnswer {
  const contract = reasonCode.startsWith('CONTRACT_INVALID:');
  const code = contract ? reasonCode.slice('CONTRACT_INVALID:'.length) : reasonCode;
  const status = REJECTION_STATUS[code];
  if (status !== undefined) return error(status, code, detail ?? null);
  // Another contract failure (a field the store refuses), or a reason this API does not know: the store's own code.
  return contract
    ? error(400, 'CONTRACT_INVALID', detail ?? code)
    : error(409, reasonCode.slice(0, 64), detail ?? null);
}

async function readLabels(query: LabelApiRequest['query'], ports: LabelApiPorts): Promise<LabelApiAnswer> {
  const defined = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined));
  const parsed = LabelApiQuery.safeParse(defined);
  if (!parsed.success) return error(400, 'LABEL_QUERY_INVALID', describeIssues(parsed.error.issues));
  const { platform_run_id, event_id, label_type, as_of } = parsed.data;
  const subject = { platform_run_id, event_id };
  if (as_of === undefined) {
    const assertions = (await ports.reads.labelsOfEvent(subject)).filter(
      (a) => label_type === undefined || a.label_type === label_type,
    );
    const body: LabelApiEventLabels = {
      platform_run_id,
      event_id,
      label_type: label_type ?? null,
      assertions,
    };
    return { statusCode: 200, body };
  }
  const types = label_type === undefined ? LABEL_TYPES : [label_type];
  const labels = await Promise.all(types.map((t) => ports.reads.labelAsOf(subject, t, as_of)));
  const body: LabelApiAsOfLabels = { platform_run_id, event_id, as_of, labels };
  return { statusCode: 200, body };
}
