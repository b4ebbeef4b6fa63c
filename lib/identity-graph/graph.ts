import { canonicalJson } from '../contracts/canonical-json.ts';
import {
  compareOffsets,
  advancedCheckpoint as consumerCheckpoint,
} from '../contracts/consumer-checkpoint.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { sha256Hex } from '../contracts/identity.ts';
import {
  FLOW_EDGE_ENTITY_TYPES,
  type GraphCheckpointBasis,
  type GraphPins,
  graphEdgeId,
  graphEntityId,
  type IdentityGraphBusRecord,
  type IdentityHintsPolicy,
} from '../contracts/identity-graph.ts';
import { pythonStr } from '../contracts/python-format.ts';
import type { EbRef } from '../contracts/receipts.ts';
import type { ArrivalKey, ArrivalMember, GraphApplyFailure, GraphCheckpoint } from './ports.ts';

/** Pure pieces of the §2.2 apply: identity hints, entity ids, arrival keys, edges, failure ids, checkpoints. */

export interface IdentityHint {
  identifier_type: string;
  identifier_value: string;
  entity_type: string;
  entity_id: string;
}

const blank = (value: unknown) => value === null || value === undefined || value === '';

function valueAt(envelope: Record<string, unknown>, path: string): unknown {
  let current: unknown = envelope;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * The identity hints of an event: in `field_map` mode one per mapped path holding a value (blank ones skipped;
 * values as Python `str`), in `observed_identifiers` mode from `payload.observed_identifiers[]`.
 */
export function identityHintsOf(
  envelope: CanonicalEnvelope,
  policy: IdentityHintsPolicy,
  pins: GraphPins,
): IdentityHint[] {
  const spec = policy.event_types[envelope.event_type] ?? { mode: policy.default_mode, mappings: [] };
  const raw: Omit<IdentityHint, 'entity_id'>[] = [];
  if (spec.mode === 'field_map') {
    for (const mapping of spec.mappings) {
      const value = valueAt(envelope as Record<string, unknown>, mapping.path);
      if (blank(value) || typeof value === 'object' || typeof value === 'boolean') continue;
      raw.push({
        identifier_type: mapping.identifier_type,
        identifier_value: pythonStr(value),
        entity_type: mapping.entity_type,
      });
    }
  } else {
    const observed = envelope.payload?.observed_identifiers;
    for (const item of Array.isArray(observed) ? observed : []) {
      if (typeof item !== 'object' || item === null) continue;
      const entry = item as Record<string, unknown>;
      const type = entry.identifier_type ?? entry.type;
      const value = entry.identifier_value ?? entry.value;
      if (blank(type) || blank(value) || typeof value === 'object') continue;
      raw.push({
        identifier_type: pythonStr(type),
        identifier_value: pythonStr(value),
        entity_type: pythonStr(entry.entity_type ?? type),
      });
    }
  }
  return raw.map((hint) => ({
    ...hint,
    entity_id: graphEntityId(hint.entity_type, hint.identifier_type, hint.identifier_value, pins),
  }));
}

export function graphPinsOf(envelope: CanonicalEnvelope, scenarioRunId: string): GraphPins {
  return {
    platform_run_id: envelope.platform_run_id as string,
    scenario_run_id: scenarioRunId,
    manifest_fingerprint: envelope.manifest_fingerprint,
    parameter_hash: envelope.parameter_hash ?? null,
    scenario_id: envelope.scenario_id ?? null,
    seed: envelope.seed ?? null,
    run_id: envelope.run_id ?? null,
  };
}

/** The arrival of a context event: payload.merchant_id and payload.arrival_seq, both scalar; else undefined. */
export function arrivalKeyOf(
  payload: Record<string, unknown>,
  scenarioRunId: string,
): ArrivalKey | undefined {
  const { merchant_id: merchantId, arrival_seq: arrivalSeq } = payload;
  const scalar = (v: unknown) => !blank(v) && typeof v !== 'object' && typeof v !== 'boolean';
  if (!scalar(merchantId) || !scalar(arrivalSeq)) return undefined;
  return {
    scenario_run_id: scenarioRunId,
    merchant_id: pythonStr(merchantId),
    arrival_seq: pythonStr(arrivalSeq),
  };
}

export interface GraphEdge {
  edge_id: string;
  edge_type: string;
  src_entity_id: string;
  dst_entity_id: string;
}

/**
 * The edges among the entities of one event or one arrival: each flow to each merchant, party, account,
 * instrument, device and ip (`flow_<type>`, from the flow), sorted by id so the writes have one order.
 */
export function flowEdgesOf(members: readonly ArrivalMember[]): GraphEdge[] {
  const unique = new Map(members.map((m) => [m.entity_id, m]));
  const flows = [...unique.values()].filter((m) => m.entity_type === 'flow');
  const others = [...unique.values()].filter((m) => FLOW_EDGE_ENTITY_TYPES.includes(m.entity_type));
  const edges = new Map<string, GraphEdge>();
  for (const flow of flows)
    for (const other of others) {
      const edgeType = `flow_${other.entity_type}`;
      const edgeId = graphEdgeId(edgeType, flow.entity_id, other.entity_id);
      edges.set(edgeId, {
        edge_id: edgeId,
        edge_type: edgeType,
        src_entity_id: flow.entity_id,
        dst_entity_id: other.entity_id,
      });
    }
  return [...edges.values()].sort((a, b) => (a.edge_id < b.edge_id ? -1 : 1));
}

/** Python `str()` of a value in an id preimage: null/undefined are `None`. */
const preimage = (value: unknown) => (value === null || value === undefined ? 'None' : pythonStr(value));

/**
 * The failure row id: sha256("{stream_id}:{run}:{scenario_run}:{topic}:{partition}:{offset}:{event_id}:{reason}:
 * {CJ(details)}")[:32], so a redelivered failing record writes the same row.
 */
export function graphFailureId(streamId: string, failure: Omit<GraphApplyFailure, 'failure_id'>): string {
  const parts = [
    streamId,
    failure.platform_run_id,
    failure.scenario_run_id,
    failure.topic,
    failure.partition,
    failure.offset,
    failure.event_id,
    failure.reason_code,
  ].map(preimage);
  return sha256Hex(`${parts.join(':')}:${canonicalJson(failure.details)}`).slice(0, 32);
}

export function ebRefOf(record: IdentityGraphBusRecord): EbRef {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    offset_kind: record.offset_kind,
    ...(record.published_at_utc === undefined ? {} : { published_at_utc: record.published_at_utc }),
  };
}

/** The checkpoint after a record (the shared consumer rule: higher offset, higher event time). */
export function advancedCheckpoint(
  current: GraphCheckpoint | undefined,
  record: IdentityGraphBusRecord,
  eventTsUtc: string | null,
): Omit<GraphCheckpoint, 'updated_at_utc'> {
  return consumerCheckpoint(current, record, eventTsUtc);
}

export { compareOffsets };

/** The §2.2 checkpoint basis of a stream (the graph_version preimage), or null before any checkpoint. */
export function checkpointBasisOf(
  streamId: string,
  checkpoints: readonly GraphCheckpoint[],
): GraphCheckpointBasis | null {
  if (checkpoints.length === 0) return null;
  const topics: GraphCheckpointBasis['topics'] = {};
  for (const c of checkpoints) {
    const entry = topics[c.topic] ?? { partitions: {} };
    topics[c.topic] = entry;
    entry.partitions[String(c.partition)] = { next_offset: c.next_offset, offset_kind: c.offset_kind };
  }
  return { stream_id: streamId, topics };
}
