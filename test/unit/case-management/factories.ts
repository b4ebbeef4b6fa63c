import type { LabelWriter } from '../../../lib/case-management/ports.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import {
  type CaseSubjectKey,
  type CaseTriggerPayload,
  caseId,
  caseTriggerId,
  caseTriggerPayloadHash,
  type EvidenceRef,
  type TriggerType,
} from '../../../lib/contracts/case-trigger.ts';
import type { RtdlPins } from '../../../lib/contracts/decision-lane.ts';
import type { LabelAssertionInput, LabelWriteResult } from '../../../lib/contracts/label-store.ts';

/**
 * Records, ports and fakes for case management's tests: case_trigger payloads and envelopes as the case trigger
 * publishes them (ids and hash by the §4.1 recipes), bus records of the case topic, a scripted label writer and a
 * stepping clock (the in-memory store is memory-store.ts).
 */

export const RUN = 'platform_20261207T100000Z';
export const OTHER_RUN = 'platform_20261208T100000Z';
export const CASE_TOPIC = 'fp.bus.case.v1';
export const PINS: RtdlPins = {
  platform_run_id: RUN,
  scenario_run_id: 'a'.repeat(32),
  manifest_fingerprint: 'b'.repeat(64),
  parameter_hash: 'c'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
};

const EVIDENCE: Record<'DECISION_ESCALATION' | 'ACTION_FAILURE', (ref: string) => EvidenceRef[]> = {
  DECISION_ESCALATION: (ref) => [
    { ref_type: 'DECISION', ref_id: ref },
    { ref_type: 'DLA_AUDIT_RECORD', ref_id: `audit_${ref}` },
  ],
  ACTION_FAILURE: (ref) => [
    { ref_type: 'ACTION_OUTCOME', ref_id: ref },
    { ref_type: 'DLA_AUDIT_RECORD', ref_id: `audit_${ref}` },
  ],
};

export interface TriggerOptions {
  type?: 'DECISION_ESCALATION' | 'ACTION_FAILURE';
  /** The decision (or outcome) id the trigger cites. */
  ref?: string;
  run?: string;
  observed_time?: string;
  trigger_payload?: Record<string, unknown>;
}

/** A trigger about source event `sourceEventId` with its ids and hash as the case trigger derives them. */
export function triggerPayload(sourceEventId: string, o: TriggerOptions = {}): CaseTriggerPayload {
  const type: TriggerType = o.type ?? 'DECISION_ESCALATION';
  const ref = o.ref ?? `dec-${sourceEventId}`;
  const run = o.run ?? RUN;
  const subject: CaseSubjectKey = {
    platform_run_id: run,
    event_class: 'traffic_fraud',
    event_id: sourceEventId,
  };
  const id = caseId(subject);
  const sourceRefId = type === 'DECISION_ESCALATION' ? `decision:${ref}` : `action_outcome:${ref}`;
  const base = {
    case_trigger_id: caseTriggerId(id, type, sourceRefId),
    case_id: id,
    trigger_type: type,
    source_ref_id: sourceRefId,
    case_subject_key: subject,
    pins: { ...PINS, platform_run_id: run },
    observed_time: o.observed_time ?? '2026-12-07T10:00:01.000000Z',
    evidence_refs: EVIDENCE[type === 'DECISION_ESCALATION' ? 'DECISION_ESCALATION' : 'ACTION_FAILURE'](ref),
    trigger_payload: o.trigger_payload ?? {
      source_contract: 'decision_response',
      decision_kind: 'QUEUE_REVIEW',
      decision_action_kind: 'QUEUE_REVIEW',
    },
  };
  return { ...base, payload_hash: caseTriggerPayloadHash(base) };
}

/** The same trigger (same ids) with other content, its hash re-derived: the same id, another hash. */
export function changedTrigger(trigger: CaseTriggerPayload): CaseTriggerPayload {
  const changed = { ...trigger, trigger_payload: { ...trigger.trigger_payload, decision_kind: 'BLOCK' } };
  return { ...changed, payload_hash: caseTriggerPayloadHash(changed) };
}

/** The envelope the case trigger publishes. */
export function triggerEnvelope(payload: CaseTriggerPayload, overrides: Record<string, unknown> = {}) {
  return {
    event_id: payload.case_trigger_id,
    event_type: 'case_trigger',
    schema_version: 'v1',
    ts_utc: payload.observed_time,
    manifest_fingerprint: payload.pins.manifest_fingerprint,
    parameter_hash: payload.pins.parameter_hash,
    seed: payload.pins.seed,
    scenario_id: payload.pins.scenario_id,
    platform_run_id: payload.pins.platform_run_id,
    scenario_run_id: payload.pins.scenario_run_id,
    parent_event_id: payload.source_ref_id,
    producer: 'case_trigger',
    payload,
    ...overrides,
  };
}

let nextOffset = 1000;

/** A record of the case topic at the next offset (its data the envelope's JSON, or `data` as given). */
export function caseRecord(envelope: unknown, o: { offset?: string; data?: string } = {}) {
  const data = o.data ?? (envelope === undefined ? 'not json {' : canonicalJson(envelope));
  return {
    topic: CASE_TOPIC,
    partition: 0,
    offset: o.offset ?? String(nextOffset++),
    data,
    envelope: o.data === undefined ? envelope : parseOrUndefined(o.data),
  };
}

function parseOrUndefined(text: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch {
    return undefined;
  }
}

/** A stepping clock: each reading a second after the last. */
export function steppingClock(start = '2026-12-07T11:00:00.000Z') {
  let at = Date.parse(start);
  return {
    now: () => {
      const now = new Date(at);
      at += 1000;
      return now;
    },
  };
}

export type WriterStep = 'ACCEPT' | 'REJECT' | 'THROW';

/**
 * A label writer that answers as `script` says, call by call (then ACCEPT), and keeps every input it was given. With
 * `batch`, it also has `writeMany` (a batch answers each input from the script in turn).
 */
export function scriptedWriter(script: WriterStep[] = [], o: { batch?: boolean } = {}) {
  const inputs: LabelAssertionInput[] = [];
  const batches: number[] = [];
  const answer = (input: LabelAssertionInput): LabelWriteResult => {
    inputs.push(input);
    const step = script.shift() ?? 'ACCEPT';
    if (step === 'THROW')
      throw Object.assign(new Error('label store unavailable'), { code: 'OPS_DB_UNAVAILABLE' });
    return step === 'ACCEPT'
      ? { status: 'ACCEPTED', reason_code: 'ASSERTION_COMMITTED_NEW' }
      : { status: 'REJECTED', reason_code: 'MISSING_EVIDENCE_REFS' };
  };
  const writer: LabelWriter = {
    write: async (input) => answer(input),
    ...(o.batch
      ? {
          writeMany: async (list: readonly LabelAssertionInput[]) => {
            batches.push(list.length);
            return list.map(answer);
          },
        }
      : {}),
  };
  return { writer, inputs, batches, script };
}
