import { z } from 'zod';
import { OUTCOME_STATUSES } from './action-layer.ts';
import { canonicalJson } from './canonical-json.ts';
import {
  ACTION_INTENT,
  ACTION_OUTCOME,
  BundleRef,
  DECISION_RESPONSE,
  OffsetRef,
  RTDL_SCHEMA_VERSION,
  RtdlPins,
  recipeId,
} from './decision-lane.ts';
import { CanonicalEnvelope } from './envelope.ts';
import { sha256Hex } from './identity.ts';
import { PARTITION_PROFILES } from './partitioning.ts';
import { EbRef } from './receipts.ts';
import { Hex32, Hex64, PlatformRunIdPattern, Rfc3339Micros, SafeText } from './wire-primitives.ts';

/**
 * Wire and stored shapes of the Decision Log & Audit (downstream.md §3.4): the bus record it reads from
 * fp.bus.rtdl.v1, the lineage chain it keeps per decision_id (decision, intents, outcomes, each as a link: where the
 * event sits and what it hashed to), the audit record written once per resolved chain (audit_id = recipe
 * `dla.audit_id.v1` {decision_id, platform_run_id}), and the audit event for fp.bus.audit.v1 (`dla.audit_record.v1`,
 * our addition: the reference writes nothing there). Stored JSON is canonical JSON text (64-bit seeds stay exact).
 */

/** The checkpoint / metric scope base: stream ids are `dla.v0::<platform_run_id>` (§1). */
export const DECISION_LOG_STREAM_BASE = 'dla.v0';
export const decisionLogStreamId = (platformRunId: string) => `${DECISION_LOG_STREAM_BASE}::${platformRunId}`;

/** The one topic the decision log reads (decisions, intents and outcomes share it). */
export const DECISION_LOG_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.rtdl.decision'].stream;
/** Where audit events go (IG's governance events share it). */
export const AUDIT_TOPIC = PARTITION_PROFILES['ig.partitioning.v0.audit'].stream;
export const AUDIT_RECORD_EVENT_TYPE = 'dla.audit_record.v1';
export const AUDIT_SCHEMA_VERSION = 'v1';
export const DECISION_LOG_PRODUCER = 'decision_log_audit';
export const AUDIT_ID_RECIPE = 'dla.audit_id.v1';

/** One record read from fp.bus.rtdl.v1 (the event-bus edge's `BusRecord` fits it). */
export interface DecisionLogBusRecord {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: EbRef['offset_kind'];
  published_at_utc?: string;
  /** The data parsed as lossless JSON (undefined when it is not JSON); the core checks it. */
  envelope: unknown;
}

/** The event families of a chain, each at schema v1. */
export const LINEAGE_EVENT_TYPES = [DECISION_RESPONSE, ACTION_INTENT, ACTION_OUTCOME] as const;
export type LineageEventType = (typeof LINEAGE_EVENT_TYPES)[number];
export const LINEAGE_SCHEMA_VERSION = RTDL_SCHEMA_VERSION;

/** Where an event of a chain sits and what its envelope hashed to (sha256 of {event_type, schema_version, payload}). */
export const EventLink = z.strictObject({
  event_id: SafeText(256),
  event_type: z.enum(LINEAGE_EVENT_TYPES),
  schema_version: SafeText(64),
  ts_utc: Rfc3339Micros,
  payload_hash: Hex64,
  eb_ref: EbRef,
});
export type EventLink = z.infer<typeof EventLink>;

/** The decision of a chain: its link and what an auditor reads first (action, reasons, bundle, posture, source). */
export const DecisionLink = z.strictObject({
  event: EventLink,
  action_kind: SafeText(64),
  reason_codes: z.array(SafeText(256)),
  decided_at_utc: Rfc3339Micros,
  bundle_ref: BundleRef,
  snapshot_hash: Hex64.nullable(),
  degrade_mode: SafeText(64),
  posture_seq: z.number().int().min(0),
  policy_rev: z.record(z.string(), z.unknown()),
  source_event: z.strictObject({
    event_id: SafeText(256),
    event_type: SafeText(256),
    ts_utc: Rfc3339Micros,
    origin_offset: OffsetRef,
  }),
});
export type DecisionLink = z.infer<typeof DecisionLink>;

export const IntentLink = z.strictObject({
  action_id: Hex32,
  action_kind: SafeText(64),
  idempotency_key: Hex32,
  requested_at_utc: Rfc3339Micros,
  event: EventLink,
});
export type IntentLink = z.infer<typeof IntentLink>;

export const OutcomeLink = z.strictObject({
  outcome_id: Hex32,
  action_id: Hex32,
  action_kind: SafeText(64),
  status: z.enum(OUTCOME_STATUSES),
  completed_at_utc: Rfc3339Micros,
  event: EventLink,
});
export type OutcomeLink = z.infer<typeof OutcomeLink>;

/** §3.4 why a chain is unresolved; none ⇒ RESOLVED. */
export const LINEAGE_REASONS = ['MISSING_DECISION', 'MISSING_INTENT_LINK', 'MISSING_OUTCOME_LINK'] as const;
export type LineageReason = (typeof LINEAGE_REASONS)[number];
export const CHAIN_STATUSES = ['RESOLVED', 'UNRESOLVED'] as const;
export type ChainStatus = (typeof CHAIN_STATUSES)[number];

/** One chain per decision_id: whatever of it has arrived, in any order, and its status. */
export const LineageChain = z.strictObject({
  decision_id: Hex32,
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  /** The pins of the first event of the chain (every later one must name the same run and scenario run). */
  pins: RtdlPins,
  run_config_digest: Hex64,
  decision: DecisionLink.nullable(),
  intents: z.array(IntentLink),
  outcomes: z.array(OutcomeLink),
  chain_status: z.enum(CHAIN_STATUSES),
  unresolved_reasons: z.array(z.enum(LINEAGE_REASONS)),
  /** When the chain last became UNRESOLVED (null while RESOLVED): the age the health rules read. */
  unresolved_since_utc: z.iso.datetime({ offset: true }).nullable(),
  /** Set once its audit record was written (write-once: a chain is audited at most once). */
  audit_id: Hex32.nullable(),
});
export type LineageChain = z.infer<typeof LineageChain>;

/** audit_id = recipe `dla.audit_id.v1` {decision_id, platform_run_id} (first 32 hex). */
export const auditId = (decisionId: string, platformRunId: string) =>
  recipeId(AUDIT_ID_RECIPE, { decision_id: decisionId, platform_run_id: platformRunId });

/**
 * The audit record of a resolved chain: the decision, its intents and their outcomes (each a link with its payload
 * hash), the chain's status and reasons. Deterministic (no wall-clock field): built again from the same chain it is
 * byte-identical, so writing it twice is harmless. `resolved_at_utc` is the latest event time of the chain.
 */
export const AuditRecord = z.strictObject({
  audit_id: Hex32,
  record_type: z.literal('dla.audit_record'),
  schema_version: z.literal(AUDIT_SCHEMA_VERSION),
  decision_id: Hex32,
  pins: RtdlPins,
  run_config_digest: Hex64,
  chain_status: z.literal('RESOLVED'),
  unresolved_reasons: z.array(z.enum(LINEAGE_REASONS)).max(0),
  decision: DecisionLink,
  intents: z.array(IntentLink).min(1),
  outcomes: z.array(OutcomeLink).min(1),
  resolved_at_utc: Rfc3339Micros,
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/** sha256 of the record's canonical JSON: what the write-once store compares. */
export const auditRecordDigest = (record: AuditRecord) => sha256Hex(canonicalJson(record));

/** The audit event's payload: the record's identity and digest and a summary (the record itself is in S3). */
export const AuditRecordEventPayload = z.strictObject({
  audit_id: Hex32,
  decision_id: Hex32,
  decision_event_id: SafeText(256),
  record_digest: Hex64,
  chain_status: z.literal('RESOLVED'),
  action_kind: SafeText(64),
  intent_count: z.number().int().min(1),
  outcome_count: z.number().int().min(1),
  outcome_statuses: z.array(z.enum(OUTCOME_STATUSES)),
  /** Where the record is: its segment object and byte range (`s3://bucket/key#bytes=<first>-<last>`). */
  record_ref: SafeText(2048).optional(),
});

/** `dla.audit_record.v1` on fp.bus.audit.v1: event_id = audit_id, parent = the decision's event, ts = resolved_at_utc. */
export const AuditRecordEvent = CanonicalEnvelope.extend({
  event_id: Hex32,
  event_type: z.literal(AUDIT_RECORD_EVENT_TYPE),
  schema_version: z.literal(AUDIT_SCHEMA_VERSION),
  producer: z.literal(DECISION_LOG_PRODUCER),
  parent_event_id: SafeText(256),
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  payload: AuditRecordEventPayload,
}).refine((e) => e.event_id === e.payload.audit_id, {
  message: 'event_id must be the audit_id',
  path: ['event_id'],
});
export type AuditRecordEvent = z.infer<typeof AuditRecordEvent>;

/** The audit event of a record (parsed, so a record that does not fit fails here, not on the bus). */
export function auditRecordEvent(record: AuditRecord, recordRef?: string): AuditRecordEvent {
  const { pins } = record;
  return AuditRecordEvent.parse({
    event_id: record.audit_id,
    event_type: AUDIT_RECORD_EVENT_TYPE,
    schema_version: AUDIT_SCHEMA_VERSION,
    ts_utc: record.resolved_at_utc,
    manifest_fingerprint: pins.manifest_fingerprint,
    parameter_hash: pins.parameter_hash,
    seed: pins.seed,
    scenario_id: pins.scenario_id,
    platform_run_id: pins.platform_run_id,
    scenario_run_id: pins.scenario_run_id,
    producer: DECISION_LOG_PRODUCER,
    parent_event_id: record.decision.event.event_id,
    payload: {
      audit_id: record.audit_id,
      decision_id: record.decision_id,
      decision_event_id: record.decision.event.event_id,
      record_digest: auditRecordDigest(record),
      chain_status: record.chain_status,
      action_kind: record.decision.action_kind,
      intent_count: record.intents.length,
      outcome_count: record.outcomes.length,
      outcome_statuses: [...new Set(record.outcomes.map((o) => o.status))].sort(),
      ...(recordRef === undefined ? {} : { record_ref: recordRef }),
    },
  });
}
