import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './identity.ts';
import { pythonStr } from './python-format.ts';
import type { EbRef } from './receipts.ts';
import { Hex64, SafeText } from './wire-primitives.ts';

/**
 * Identity & Entity Graph wire shapes and recipes (downstream.md §2.2): the bus record it consumes, the reference
 * policy (`platform-config/ieg/classification_v0.yaml`, `identity_hints_v0.yaml`) as data checked by zod, the
 * entity id, dedupe key, edge id and graph version recipes, and the linked-entities query request.
 */

/** The checkpoint / metric scope base: stream ids are `ieg.v0::<platform_run_id>` (§1). */
export const IDENTITY_GRAPH_STREAM_BASE = 'ieg.v0';

/** One record read from a traffic or context topic: where it sits on the bus and its (unchecked) envelope. */
export interface IdentityGraphBusRecord {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: EbRef['offset_kind'];
  published_at_utc?: string;
  envelope: unknown;
}

// ---- the reference policy, as data ----

export const GraphClassificationPolicy = z.strictObject({
  version: z.string().min(1),
  default_action: z.literal('graph_unusable'),
  graph_mutating: z.array(z.string().min(1)).min(1),
  graph_irrelevant: z.array(z.string().min(1)),
});
export type GraphClassificationPolicy = z.infer<typeof GraphClassificationPolicy>;

const HintMapping = z.strictObject({
  identifier_type: z.string().regex(/^[a-z][a-z0-9_]*$/),
  path: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/),
  entity_type: z.string().regex(/^[a-z][a-z0-9_]*$/),
});
export type HintMapping = z.infer<typeof HintMapping>;

export const IdentityHintsPolicy = z.strictObject({
  version: z.string().min(1),
  default_mode: z.enum(['observed_identifiers', 'field_map']),
  event_types: z.record(
    z.string().min(1),
    z.strictObject({ mode: z.enum(['observed_identifiers', 'field_map']), mappings: z.array(HintMapping) }),
  ),
});
export type IdentityHintsPolicy = z.infer<typeof IdentityHintsPolicy>;

const map = (identifierType: string, entityType: string): HintMapping => ({
  identifier_type: identifierType,
  path: `payload.${identifierType}`,
  entity_type: entityType,
});
const ANCHOR_MAPPINGS = [
  map('flow_id', 'flow'),
  map('merchant_id', 'merchant'),
  map('party_id', 'party'),
  map('account_id', 'account'),
  map('instrument_id', 'instrument'),
  map('device_id', 'device'),
  map('ip_id', 'ip'),
];

/** `classification_v0.yaml` (v0.1.0), parsed at load: a bad edit fails at import, naming the field. */
export const GRAPH_CLASSIFICATION_V0: GraphClassificationPolicy = GraphClassificationPolicy.parse({
  version: '0.1.0',
  default_action: 'graph_unusable',
  graph_mutating: [
    's2_event_stream_baseline_6B',
    's3_event_stream_with_fraud_6B',
    'arrival_events_5B',
    's1_arrival_entities_6B',
    's2_flow_anchor_baseline_6B',
    's3_flow_anchor_with_fraud_6B',
  ],
  graph_irrelevant: [
    'decision_response',
    'action_intent',
    'action_outcome',
    'ig.policy.activation',
    'ig.quarantine.spike',
    'ig.pull.run',
    'ig.audit.verify',
  ],
});

/** `identity_hints_v0.yaml` (v0.1.0): the field map per mutating event type. */
export const IDENTITY_HINTS_V0: IdentityHintsPolicy = IdentityHintsPolicy.parse({
  version: '0.1.0',
  default_mode: 'observed_identifiers',
  event_types: {
    arrival_events_5B: { mode: 'field_map', mappings: [map('merchant_id', 'merchant')] },
    s1_arrival_entities_6B: {
      mode: 'field_map',
      mappings: [...ANCHOR_MAPPINGS.slice(1), map('session_id', 'session')],
    },
    s2_flow_anchor_baseline_6B: { mode: 'field_map', mappings: ANCHOR_MAPPINGS },
    s3_flow_anchor_with_fraud_6B: { mode: 'field_map', mappings: ANCHOR_MAPPINGS },
    s2_event_stream_baseline_6B: { mode: 'field_map', mappings: [map('flow_id', 'flow')] },
    s3_event_stream_with_fraud_6B: { mode: 'field_map', mappings: [map('flow_id', 'flow')] },
  },
});

/** The entity types a flow is linked to by an edge (the reference never writes `ieg_edges`; we do). */
export const FLOW_EDGE_ENTITY_TYPES: readonly string[] = [
  'merchant',
  'party',
  'account',
  'instrument',
  'device',
  'ip',
];

// ---- recipes ----

/** The pins an entity is scoped by; absent ones are null. */
export interface GraphPins {
  platform_run_id: string;
  scenario_run_id: string;
  manifest_fingerprint: string;
  parameter_hash: string | null;
  scenario_id: string | number | bigint | null;
  seed: number | bigint | null;
  run_id: string | null;
}

/** Python `str(value or "")`: a falsy pin (None, "", 0) is the empty string, as the reference's scope key. */
const scopeToken = (value: unknown) =>
  value === null || value === undefined || value === '' || value === 0 || value === 0n
    ? ''
    : pythonStr(value);

/** The scope of an entity id: `run|manifest|param|seed|scenario_id|scenario_run_id|run_id`. */
export function graphScopeKey(pins: GraphPins): string {
  return [
    pins.platform_run_id,
    pins.manifest_fingerprint,
    pins.parameter_hash,
    pins.seed,
    pins.scenario_id,
    pins.scenario_run_id,
    pins.run_id,
  ]
    .map(scopeToken)
    .join('|');
}

/** §2.2 `entity_id = sha256("<entity_type>:<identifier_type>:<value>:<scope key>")` (full 64 hex). */
export function graphEntityId(
  entityType: string,
  identifierType: string,
  identifierValue: string,
  pins: GraphPins,
): string {
  return sha256Hex(`${entityType}:${identifierType}:${identifierValue}:${graphScopeKey(pins)}`);
}

/** §2.2 dedupe key = `sha256("<platform_run_id>:<event_class>:<event_id>")`. */
export function graphDedupeKey(platformRunId: string, eventClass: string, eventId: string): string {
  return sha256Hex(`${platformRunId}:${eventClass}:${eventId}`);
}

export const GRAPH_EDGE_RECIPE = 'ieg.edge_id.v1';

/** Edge id (ours): the §1 recipe hash `sha256(CJ({recipe, payload: {edge_type, src, dst}}))[:32]`. */
export function graphEdgeId(edgeType: string, srcEntityId: string, dstEntityId: string): string {
  return sha256Hex(
    canonicalJson({
      recipe: GRAPH_EDGE_RECIPE,
      payload: { edge_type: edgeType, src_entity_id: srcEntityId, dst_entity_id: dstEntityId },
    }),
  ).slice(0, 32);
}

/** The canonical checkpoint basis `{stream_id, topics{t:{partitions{p:{next_offset, offset_kind}}}}}`. */
export interface GraphCheckpointBasis {
  stream_id: string;
  topics: Record<string, { partitions: Record<string, { next_offset: string; offset_kind: string }> }>;
}

/** §2.2 graph_version = sha256 of the canonical checkpoint basis. */
export function graphVersionOf(basis: GraphCheckpointBasis): string {
  return sha256Hex(canonicalJson(basis));
}

// ---- query ----

/** The most hops a linked-entities query may walk: a hub (a merchant) fans out fast. */
export const MAX_LINK_HOPS = 4;
export const MAX_LINKED_ENTITIES = 1000;

/** "Entities linked to X within N hops": X by its entity id, N in 1..MAX_LINK_HOPS, at most `limit` answers. */
export const LinkedEntitiesRequest = z.strictObject({
  request_id: SafeText(256),
  entity_id: Hex64,
  max_hops: z.number().int().min(1).max(MAX_LINK_HOPS),
  limit: z.number().int().min(1).max(MAX_LINKED_ENTITIES).default(100),
});
export type LinkedEntitiesRequest = z.output<typeof LinkedEntitiesRequest>;

export interface LinkedEntity {
  entity_id: string;
  entity_type: string;
  /** The fewest edges between X and this entity (1..max_hops). */
  hops: number;
}

export interface LinkedEntitiesResponse {
  request_id: string;
  status: 'READY' | 'ENTITY_NOT_FOUND' | 'INVALID_REQUEST';
  entity_id?: string;
  entity_type?: string;
  max_hops?: number;
  /** Nearest first, then by entity id. */
  linked: LinkedEntity[];
  /** True when more entities lie within the hops than `limit`. */
  truncated: boolean;
  detail?: string;
}
