import { sortedEvidence } from '../contracts/case-trigger.ts';
import {
  LabelAssertionInput,
  type LabelWriteResult,
  labelAssertionId,
  labelAssertionPayloadHash,
} from '../contracts/label-store.ts';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import { describeIssues, InvariantViolation } from '../errors/platform-error.ts';
import { countInto, type LabelStoreCounter, type LabelStoreCounts, UNSCOPED_RUN } from './observability.ts';
import type { LabelMismatch, LabelStorePort, NewLabelAssertion, StoredIdentity } from './ports.ts';

/**
 * The Label Store's writer (downstream.md §4.3, §9 #18). Each input is parsed with `LabelAssertionInput`; then, in
 * order: a contract failure ⇒ REJECTED `CONTRACT_INVALID:<code>`; no evidence ⇒ REJECTED `MISSING_EVIDENCE_REFS`; an
 * id not stored yet ⇒ ACCEPTED `ASSERTION_COMMITTED_NEW` (assertion + timeline row); the id stored for another
 * (run, event, type) ⇒ REJECTED `DEDUPE_TUPLE_COLLISION`; stored with the same payload hash ⇒ ACCEPTED
 * `ASSERTION_REPLAY_MATCH` (replay_count + 1, no timeline row); with another hash ⇒ REJECTED `PAYLOAD_HASH_MISMATCH`.
 * A rejection writes nothing but its counters and, for the last two, a mismatch row; a stored assertion is never
 * overwritten (corrections are new assertions). Every outcome is counted under its run.
 *
 * A batch claims its distinct ids in one call (so a bulk load is one claim and one settle); a repeat of an id within
 * the batch is judged, like any later write, against what the first sighting left stored.
 */

export async function writeLabelAssertion(store: LabelStorePort, input: unknown): Promise<LabelWriteResult> {
  const [result] = await writeLabelAssertions(store, [input]);
  if (result === undefined) throw new InvariantViolation('the label writer answered nothing for one input');
  return result;
}

/** The batch form: one result per input, in order (for bulk loads such as the world's bank view). */
export async function writeLabelAssertions(
  store: LabelStorePort,
  inputs: readonly unknown[],
): Promise<LabelWriteResult[]> {
  const results: LabelWriteResult[] = new Array(inputs.length);
  const counters = new Map<string, LabelStoreCounts>();
  const record = (index: number, run: string, result: LabelWriteResult) => {
    results[index] = result;
    const counts = counters.get(run) ?? {};
    countInto(counts, 'writes_total');
    countInto(counts, counterOf(result.reason_code));
    if (result.status === 'REJECTED') countInto(counts, 'rejected_total');
    counters.set(run, counts);
  };

  const candidates: { index: number; assertion: NewLabelAssertion }[] = [];
  inputs.forEach((raw, index) => {
    const screened = screen(raw);
    if ('rejected' in screened) record(index, screened.run, screened.rejected);
    else candidates.push({ index, assertion: screened.assertion });
  });

  const firsts = new Map<string, NewLabelAssertion>();
  for (const { assertion } of candidates)
    if (!firsts.has(assertion.label_assertion_id)) firsts.set(assertion.label_assertion_id, assertion);
  const claimed = [...firsts.values()];
  const answers = claimed.length === 0 ? [] : await store.claim(claimed);
  if (answers.length !== claimed.length)
    throw new InvariantViolation(`the label store answered ${answers.length} claims for ${claimed.length}`);
  // What each id holds once its first sighting was claimed, and which assertion (if any) committed it.
  const stored = new Map<string, { identity: StoredIdentity; committed?: NewLabelAssertion }>();
  claimed.forEach((assertion, i) => {
    const answer = answers[i];
    stored.set(
      assertion.label_assertion_id,
      answer?.status === 'STORED'
        ? { identity: answer.stored }
        : { identity: identityOf(assertion), committed: assertion },
    );
  });

  const replays: string[] = [];
  const mismatches: LabelMismatch[] = [];
  for (const { index, assertion } of candidates) {
    const id = assertion.label_assertion_id;
    const run = assertion.label_subject_key.platform_run_id;
    const held = stored.get(id);
    if (held === undefined) throw new InvariantViolation(`no claim answer for label assertion ${id}`);
    const base = { label_assertion_id: id, payload_hash: assertion.payload_hash };
    if (held.committed === assertion) {
      record(index, run, { status: 'ACCEPTED', reason_code: 'ASSERTION_COMMITTED_NEW', ...base });
      continue;
    }
    const { identity } = held;
    const incoming = identityOf(assertion);
    const sameTuple =
      identity.platform_run_id === incoming.platform_run_id &&
      identity.event_id === incoming.event_id &&
      identity.label_type === incoming.label_type;
    if (sameTuple && identity.payload_hash === incoming.payload_hash) {
      replays.push(id);
      record(index, run, { status: 'ACCEPTED', reason_code: 'ASSERTION_REPLAY_MATCH', ...base });
      continue;
    }
    const reason = sameTuple ? 'PAYLOAD_HASH_MISMATCH' : 'DEDUPE_TUPLE_COLLISION';
    mismatches.push({
      label_assertion_id: id,
      reason_code: reason,
      platform_run_id: incoming.platform_run_id,
      event_id: incoming.event_id,
      label_type: incoming.label_type,
      incoming_payload_hash: incoming.payload_hash,
      stored_payload_hash: identity.payload_hash,
    });
    record(index, run, {
      status: 'REJECTED',
      reason_code: reason,
      ...base,
      detail: sameTuple
        ? `stored payload_hash ${identity.payload_hash}`
        : `stored for ${identity.platform_run_id}/${identity.event_id}/${identity.label_type}`,
    });
  }

  if (counters.size > 0) await store.settle({ replays, mismatches, counters });
  return results;
}

type Screened = { assertion: NewLabelAssertion } | { rejected: LabelWriteResult; run: string };

/** The checks before the store: the contract, then evidence; a passing input gets its id and hash. */
function screen(raw: unknown): Screened {
  const parsed = LabelAssertionInput.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    return {
      run: runOf(raw),
      rejected: {
        status: 'REJECTED',
        reason_code: `CONTRACT_INVALID:${contractCode(issues[0])}`,
        detail: describeIssues(issues).slice(0, 1024),
      },
    };
  }
  const input = parsed.data;
  const assertion: NewLabelAssertion = {
    ...input,
    evidence_refs: sortedEvidence(input.evidence_refs),
    label_assertion_id: labelAssertionId(input),
    payload_hash: labelAssertionPayloadHash(input),
  };
  if (input.evidence_refs.length === 0)
    return {
      run: input.label_subject_key.platform_run_id,
      rejected: {
        status: 'REJECTED',
        reason_code: 'MISSING_EVIDENCE_REFS',
        label_assertion_id: assertion.label_assertion_id,
        payload_hash: assertion.payload_hash,
        detail: 'a label assertion carries at least one evidence ref',
      },
    };
  return { assertion };
}

const MESSAGE_CODE = /^([A-Z][A-Z0-9_]*):/;

/**
 * What a contract failure is called: the code a refinement's message starts with (`LABEL_VALUE_INVALID`,
 * `ACTOR_REQUIRED`, `SUBJECT_RUN_MISMATCH`), else the path of the field (`evidence_refs.0.ref_type`), else (a
 * failure of the whole input: not an object, an unknown key) zod's issue code in capitals.
 */
function contractCode(issue: { message: string; path?: readonly PropertyKey[]; code?: string } | undefined) {
  if (issue === undefined) return 'UNKNOWN';
  const named = MESSAGE_CODE.exec(issue.message);
  if (named?.[1]) return named[1];
  const path = (issue.path ?? []).map(String).join('.');
  return path !== '' ? path : String(issue.code ?? 'invalid').toUpperCase();
}

/** The run a rejected input is counted under: its subject's run, else its pins', else UNSCOPED. */
function runOf(raw: unknown): string {
  const field = (value: unknown, key: string): unknown =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  for (const candidate of [
    field(field(raw, 'label_subject_key'), 'platform_run_id'),
    field(field(raw, 'pins'), 'platform_run_id'),
  ]) {
    const run = PlatformRunIdPattern.safeParse(candidate);
    if (run.success) return run.data;
  }
  return UNSCOPED_RUN;
}

const identityOf = (a: NewLabelAssertion): StoredIdentity => ({
  platform_run_id: a.label_subject_key.platform_run_id,
  event_id: a.label_subject_key.event_id,
  label_type: a.label_type,
  payload_hash: a.payload_hash,
});

const REASON_COUNTER: Record<string, LabelStoreCounter> = {
  ASSERTION_COMMITTED_NEW: 'committed_new_total',
  ASSERTION_REPLAY_MATCH: 'replay_match_total',
  MISSING_EVIDENCE_REFS: 'missing_evidence_refs_total',
  PAYLOAD_HASH_MISMATCH: 'payload_hash_mismatch_total',
  DEDUPE_TUPLE_COLLISION: 'dedupe_tuple_collision_total',
};

const counterOf = (reasonCode: string): LabelStoreCounter =>
  REASON_COUNTER[reasonCode] ?? 'contract_invalid_total';
