import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './identity.ts';
import { Hex32, Hex64, PlatformRunIdPattern, Rfc3339Micros, SafeText, Uint64 } from './wire-primitives.ts';

/**
 * Wire shapes of the decision lane (downstream.md §3.2–§3.4): the pins the rtdl events carry, the id recipes, and
 * the payloads of `decision_response`, `action_intent` and `action_outcome` (schema v1, topic fp.bus.rtdl.v1).
 * Producers build them here, consumers (action layer, decision log, case trigger) parse them here.
 */

export const DECISION_RESPONSE = 'decision_response';
export const ACTION_INTENT = 'action_intent';
export const ACTION_OUTCOME = 'action_outcome';
export const RTDL_SCHEMA_VERSION = 'v1';
export const DECISION_FABRIC_PRODUCER = 'decision_fabric';
export const ACTION_LAYER_PRODUCER = 'action_layer';
/** The actor every DF intent names (§3.3 authz: origin DF ⇒ this principal). */
export const DECISION_FABRIC_ACTOR = 'SYSTEM::decision_fabric';
/** §3.2 decision scope: `<mode>.<bundle slot>`. */
export const DECISION_SCOPE = 'fraud.primary';

/** The six pins of an rtdl event (run_id is not one). */
export const RtdlPins = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  scenario_id: z.union([SafeText(256), Uint64]),
  seed: Uint64,
});
export type RtdlPins = z.infer<typeof RtdlPins>;

/** §1 recipe hash: sha256 of canonical `{"recipe": R, "payload": P}` (the full 64 hex). */
export const recipeHash = (recipe: string, payload: unknown) => sha256Hex(canonicalJson({ recipe, payload }));
/** An id from a recipe: its first 32 hex. */
export const recipeId = (recipe: string, payload: unknown) => recipeHash(recipe, payload).slice(0, 32);

/** §3.2 pin_scope: the six pins as strings. */
export function pinScope(pins: RtdlPins): Record<keyof RtdlPins, string> {
  return {
    platform_run_id: pins.platform_run_id,
    scenario_run_id: pins.scenario_run_id,
    manifest_fingerprint: pins.manifest_fingerprint,
    parameter_hash: pins.parameter_hash,
    scenario_id: String(pins.scenario_id),
    seed: String(pins.seed),
  };
}

export const OffsetRef = z.strictObject({
  topic: SafeText(256),
  partition: z.number().int().min(0),
  offset: SafeText(128),
  offset_kind: SafeText(64),
});
export type OffsetRef = z.infer<typeof OffsetRef>;

export const BundleRef = z.strictObject({
  bundle_id: Hex64,
  bundle_version: SafeText(128),
  registry_ref: SafeText(512),
});
export type BundleRef = z.infer<typeof BundleRef>;

/** §3.2 decision_id = recipe df.decision_id.v2 {source_event_id, platform_run_id, decision_scope, bundle_ref, origin_offset}. */
export function decisionId(input: {
  sourceEventId: string;
  platformRunId: string;
  bundleRef: BundleRef;
  originOffset: OffsetRef;
}): string {
  return recipeId('df.decision_id.v2', {
    source_event_id: input.sourceEventId,
    platform_run_id: input.platformRunId,
    decision_scope: DECISION_SCOPE,
    bundle_ref: {
      id: input.bundleRef.bundle_id,
      version: input.bundleRef.bundle_version,
      registry_ref: input.bundleRef.registry_ref,
    },
    origin_offset: input.originOffset,
  });
}

/** §3.2 the decision's envelope event_id: recipe df.decision_response.event_id.v1 {source_event_id, decision_scope, pin_scope}. */
export const decisionEventId = (sourceEventId: string, pins: RtdlPins) =>
  recipeId('df.decision_response.event_id.v1', {
    source_event_id: sourceEventId,
    decision_scope: DECISION_SCOPE,
    pin_scope: pinScope(pins),
  });

const intentBasis = (sourceEventId: string, actionKind: string, pins: RtdlPins) => ({
  source_event_id: sourceEventId,
  action_domain: actionKind.toLowerCase(),
  pin_scope: pinScope(pins),
});

/** §3.2 the intent's envelope event_id: recipe df.action_intent.event_id.v1 {source_event_id, action_domain, pin_scope}. */
export const intentEventId = (sourceEventId: string, actionKind: string, pins: RtdlPins) =>
  recipeId('df.action_intent.event_id.v1', intentBasis(sourceEventId, actionKind, pins));

/** §3.2 idempotency_key: recipe df.action_intent.idempotency_key.v1 over the intent's event id basis. */
export const intentIdempotencyKey = (sourceEventId: string, actionKind: string, pins: RtdlPins) =>
  recipeId('df.action_intent.idempotency_key.v1', intentBasis(sourceEventId, actionKind, pins));

/** §3.2 action_id = sha256("<decision_id>:<action_kind>")[:32]. */
export const actionId = (decisionIdValue: string, actionKind: string) =>
  sha256Hex(`${decisionIdValue}:${actionKind}`).slice(0, 32);

export const DegradePostureRef = z.strictObject({
  mode: SafeText(64),
  capabilities_mask: z.record(z.string(), z.unknown()),
  policy_rev: z.record(z.string(), z.unknown()),
  posture_seq: z.number().int().min(0),
  decided_at_utc: SafeText(64),
  reason: SafeText(2048),
});

export const DecisionResponsePayload = z.strictObject({
  decision_id: Hex32,
  decision_kind: z.literal('fraud_decision_v0'),
  bundle_ref: BundleRef,
  snapshot_hash: z.union([Hex64, z.null()]),
  snapshot_ref: SafeText(1024).optional(),
  graph_version: z.union([z.record(z.string(), z.unknown()), z.null()]),
  eb_offset_basis: z.union([z.record(z.string(), z.unknown()), z.null()]),
  degrade_posture: DegradePostureRef,
  pins: RtdlPins,
  decided_at_utc: Rfc3339Micros,
  policy_rev: z.record(z.string(), z.unknown()),
  run_config_digest: Hex64,
  source_event: z.strictObject({
    event_id: SafeText(256),
    event_type: SafeText(256),
    ts_utc: Rfc3339Micros,
    origin_offset: OffsetRef,
    eb_ref: z.record(z.string(), z.unknown()),
  }),
  decision: z.strictObject({
    action_kind: SafeText(64),
    context_status: SafeText(64),
    registry_outcome: SafeText(64),
    context_evidence_digest: Hex64,
    score: z.number().optional(),
  }),
  reason_codes: z.array(SafeText(256)),
});
export type DecisionResponsePayload = z.infer<typeof DecisionResponsePayload>;

export const ActionIntentPayload = z.strictObject({
  action_id: Hex32,
  decision_id: Hex32,
  action_kind: SafeText(64),
  idempotency_key: Hex32,
  pins: RtdlPins,
  requested_at_utc: Rfc3339Micros,
  actor_principal: SafeText(256),
  origin: SafeText(32),
  policy_rev: z.record(z.string(), z.unknown()),
  run_config_digest: Hex64,
  reason_ref: SafeText(256),
  action_payload: z.strictObject({
    source_event_id: SafeText(256),
    source_event_type: SafeText(256),
    action_posture: SafeText(64),
  }),
});
export type ActionIntentPayload = z.infer<typeof ActionIntentPayload>;

/** A bus record as the decision lane's consumers get it (the event-bus edge's `BusRecord` fits it). */
export interface LaneBusRecord {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: 'kinesis_sequence';
  /** When Kinesis accepted the record. */
  published_at_utc: string;
  /** The data parsed as lossless JSON; undefined when it is not JSON. */
  envelope: unknown;
}

/** How IG answered one published envelope. */
export type PublishDecision = 'ADMIT' | 'DUPLICATE' | 'QUARANTINE';
