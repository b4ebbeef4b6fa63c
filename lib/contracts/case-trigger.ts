import { z } from 'zod';
import { RtdlPins, recipeHash, recipeId } from './decision-lane.ts';
import { CanonicalEnvelope } from './envelope.ts';
import { CASE_STREAM } from './partitioning.ts';
import { Hex32, Hex64, PlatformRunIdPattern, Rfc3339Micros, SafeText } from './wire-primitives.ts';

/**
 * Wire shapes and recipes of the case trigger (downstream.md §4.1): the `case_trigger` payload and envelope the case
 * trigger publishes through IG onto the case topic, and the ids every reader re-derives (case management checks them).
 * Ids are recipe ids (§1: the first 32 hex of sha256 of canonical `{"recipe": R, "payload": P}`), the payload hash the
 * full 64 hex.
 */

/** The checkpoint / metric scope base: stream ids are `case_trigger.v0::<platform_run_id>` (§1). */
export const CASE_TRIGGER_STREAM_BASE = 'case_trigger.v0';
export const caseTriggerStreamId = (platformRunId: string) => `${CASE_TRIGGER_STREAM_BASE}::${platformRunId}`;
export const CASE_TRIGGER_PRODUCER = 'case_trigger';
export const CASE_TRIGGER_EVENT_TYPE = 'case_trigger';
export const CASE_TRIGGER_SCHEMA_VERSION = 'v1';
/** The case topic (one config value shared by IG, the case trigger, case management and the archive writer, §7.1). */
export const CASE_TOPIC = CASE_STREAM;

export const TRIGGER_TYPES = [
  'DECISION_ESCALATION',
  'ACTION_FAILURE',
  'ANOMALY',
  'EXTERNAL_SIGNAL',
  'MANUAL_ASSERTION',
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** Evidence reference types (case_mgmt/taxonomy_v0.yaml, label_store/taxonomy_v0.yaml). */
export const EVIDENCE_REF_TYPES = [
  'DLA_AUDIT_RECORD',
  'DECISION',
  'ACTION_OUTCOME',
  'EB_ORIGIN_OFFSET',
  'CASE_EVENT',
  'EXTERNAL_REF',
] as const;
export type EvidenceRefType = (typeof EVIDENCE_REF_TYPES)[number];

export const EvidenceRef = z.strictObject({
  ref_type: z.enum(EVIDENCE_REF_TYPES),
  ref_id: SafeText(512),
});
export type EvidenceRef = z.infer<typeof EvidenceRef>;

/** Evidence in its canonical order (by type, then id): hashes and stored rows use this order. */
export const sortedEvidence = (refs: readonly EvidenceRef[]): EvidenceRef[] =>
  [...refs].sort((a, b) =>
    a.ref_type === b.ref_type
      ? a.ref_id < b.ref_id
        ? -1
        : a.ref_id > b.ref_id
          ? 1
          : 0
      : a.ref_type < b.ref_type
        ? -1
        : 1,
  );

/** trigger_policy_v0.yaml: the evidence each trigger type must carry. */
export const REQUIRED_EVIDENCE: Readonly<Record<TriggerType, readonly EvidenceRefType[]>> = {
  DECISION_ESCALATION: ['DECISION', 'DLA_AUDIT_RECORD'],
  ACTION_FAILURE: ['ACTION_OUTCOME', 'DLA_AUDIT_RECORD'],
  ANOMALY: ['DLA_AUDIT_RECORD'],
  EXTERNAL_SIGNAL: ['EXTERNAL_REF'],
  MANUAL_ASSERTION: ['EXTERNAL_REF'],
};

/** The case's subject: one case per (run, event class, source event). */
export const CaseSubjectKey = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  event_class: SafeText(64),
  event_id: SafeText(256),
});
export type CaseSubjectKey = z.infer<typeof CaseSubjectKey>;

/** §4.1 case_id = recipe cm.case_id.v1 {platform_run_id, event_class, event_id}. */
export const caseId = (subject: CaseSubjectKey) =>
  recipeId('cm.case_id.v1', {
    platform_run_id: subject.platform_run_id,
    event_class: subject.event_class,
    event_id: subject.event_id,
  });

/** §4.1 case_trigger_id = recipe cm.case_trigger_id.v1 {case_id, trigger_type, source_ref_id}. */
export const caseTriggerId = (caseIdValue: string, triggerType: TriggerType, sourceRefId: string) =>
  recipeId('cm.case_trigger_id.v1', {
    case_id: caseIdValue,
    trigger_type: triggerType,
    source_ref_id: sourceRefId,
  });

export interface CaseTriggerHashBasis {
  case_subject_key: CaseSubjectKey;
  trigger_type: TriggerType;
  source_ref_id: string;
  pins: RtdlPins;
  observed_time: string;
  evidence_refs: readonly EvidenceRef[];
  trigger_payload: Record<string, unknown>;
}

/** §4.1 payload_hash = recipe cm.case_trigger_payload_hash.v1 {subject, type, source_ref_id, pins, observed_time, evidence sorted, trigger_payload}. */
export const caseTriggerPayloadHash = (basis: CaseTriggerHashBasis) =>
  recipeHash('cm.case_trigger_payload_hash.v1', {
    case_subject_key: basis.case_subject_key,
    trigger_type: basis.trigger_type,
    source_ref_id: basis.source_ref_id,
    pins: basis.pins,
    observed_time: basis.observed_time,
    evidence_refs: sortedEvidence(basis.evidence_refs),
    trigger_payload: basis.trigger_payload,
  });

export const CaseTriggerPayload = z.strictObject({
  case_trigger_id: Hex32,
  case_id: Hex32,
  trigger_type: z.enum(TRIGGER_TYPES),
  source_ref_id: SafeText(512),
  case_subject_key: CaseSubjectKey,
  pins: RtdlPins,
  observed_time: Rfc3339Micros,
  evidence_refs: z.array(EvidenceRef).min(1).max(32),
  trigger_payload: z.record(z.string(), z.unknown()),
  payload_hash: Hex64,
});
export type CaseTriggerPayload = z.infer<typeof CaseTriggerPayload>;

/** The envelope: event_id = case_trigger_id, type case_trigger v1, ts = observed_time, parent = source_ref_id. */
export const CaseTriggerEnvelope = CanonicalEnvelope.extend({
  event_id: Hex32,
  event_type: z.literal(CASE_TRIGGER_EVENT_TYPE),
  schema_version: z.literal(CASE_TRIGGER_SCHEMA_VERSION),
  producer: z.literal(CASE_TRIGGER_PRODUCER),
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  payload: CaseTriggerPayload,
});
export type CaseTriggerEnvelope = z.infer<typeof CaseTriggerEnvelope>;

/** What a reader finds wrong with a trigger's ids or hash (re-derived from its content); undefined when they hold. */
export function caseTriggerIdentityFault(payload: CaseTriggerPayload): string | undefined {
  const expectedCase = caseId(payload.case_subject_key);
  if (payload.case_id !== expectedCase) return 'CASE_ID_MISMATCH';
  if (payload.case_trigger_id !== caseTriggerId(expectedCase, payload.trigger_type, payload.source_ref_id))
    return 'CASE_TRIGGER_ID_MISMATCH';
  if (payload.payload_hash !== caseTriggerPayloadHash(payload)) return 'PAYLOAD_HASH_MISMATCH';
  const types = new Set(payload.evidence_refs.map((r) => r.ref_type));
  const missing = REQUIRED_EVIDENCE[payload.trigger_type].filter((t) => !types.has(t));
  if (missing.length > 0) return `EVIDENCE_MISSING:${missing.join(',')}`;
  return undefined;
}
