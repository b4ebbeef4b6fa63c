import { canonicalJson } from '../contracts/canonical-json.ts';
import {
  type ContextBusRecord,
  type FlowBinding,
  flowBindingHash,
  type JoinFrameKey,
  type SourceEvent,
} from '../contracts/context-store.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { sha256Hex } from '../contracts/identity.ts';
import { pythonStr } from '../contracts/python-format.ts';
import type { EbRef } from '../contracts/receipts.ts';
import type { ApplyFailure, JoinFrameState } from './ports.ts';

/** Pure pieces of the §2.4 apply: join key, frame merge, flow binding, ids, offsets and watermarks. */

/** Flow anchors are the only authoritative source of flow bindings. */
export const FLOW_ANCHOR_EVENT_TYPES: ReadonlySet<string> = new Set([
  's2_flow_anchor_baseline_6B',
  's3_flow_anchor_with_fraud_6B',
]);

const blank = (value: unknown) => value === null || value === undefined || value === '';

/** Python `int(value)` for the integers a payload can hold (number, bigint, decimal string); else undefined. */
function integerOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^\s*[+-]?[0-9]+\s*$/.test(value)) return BigInt(value.trim());
  return undefined;
}

/**
 * §2.4 JoinFrameKey from the payload: needs payload.merchant_id, payload.arrival_seq (an integer ≥ 0) and the
 * scenario run; undefined when one is missing (JOIN_KEY_MISSING).
 */
export function joinFrameKeyOf(
  payload: Record<string, unknown>,
  platformRunId: string,
  scenarioRunId: string | undefined,
): JoinFrameKey | undefined {
  const merchantId = payload.merchant_id;
  const arrivalSeq = integerOf(payload.arrival_seq);
  if (blank(merchantId) || arrivalSeq === undefined || arrivalSeq < 0n || !scenarioRunId) return undefined;
  if (typeof merchantId === 'object' || typeof merchantId === 'boolean') return undefined;
  return {
    platform_run_id: platformRunId,
    scenario_run_id: scenarioRunId,
    merchant_id: pythonStr(merchantId),
    arrival_seq: arrivalSeq,
  };
}

export function ebRefOf(record: ContextBusRecord): EbRef {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    offset_kind: record.offset_kind,
    ...(record.published_at_utc === undefined ? {} : { published_at_utc: record.published_at_utc }),
  };
}

export function sourceEventOf(record: ContextBusRecord, envelope: CanonicalEnvelope): SourceEvent {
  return {
    event_id: envelope.event_id,
    event_type: envelope.event_type,
    ts_utc: envelope.ts_utc,
    eb_ref: ebRefOf(record),
  };
}

/**
 * The frame after one more event: its role (payload + eb_ref) set, `context_complete = arrival_event &&
 * flow_anchor`. Only roles are kept (no "last event" fields), so the frame is the same whatever order its events
 * arrived in.
 */
export function mergeJoinFrame(
  existing: JoinFrameState | undefined,
  key: JoinFrameKey,
  eventType: string,
  payload: Record<string, unknown>,
  ebRef: EbRef,
): JoinFrameState {
  const state: JoinFrameState = { ...(existing ?? {}), join_frame_key: key, context_complete: false };
  if (eventType === 'arrival_events_5B') {
    state.arrival_event = payload;
    state.arrival_event_ref = ebRef;
  } else if (eventType === 's1_arrival_entities_6B') {
    state.arrival_entities = payload;
    state.arrival_entities_ref = ebRef;
  } else if (FLOW_ANCHOR_EVENT_TYPES.has(eventType)) {
    state.flow_anchor = payload;
    state.flow_anchor_ref = ebRef;
    if (!blank(payload.flow_id)) state.flow_id = pythonStr(payload.flow_id);
  }
  state.context_complete = state.arrival_event !== undefined && state.flow_anchor !== undefined;
  return state;
}

export function joinFrameHash(state: JoinFrameState): string {
  return sha256Hex(canonicalJson(state));
}

/** The binding a flow anchor makes; undefined when its payload has no flow_id (FLOW_ID_MISSING). */
export function flowBindingOf(
  envelope: CanonicalEnvelope,
  payload: Record<string, unknown>,
  key: JoinFrameKey,
  source: SourceEvent,
): FlowBinding | undefined {
  const flowId = payload.flow_id;
  if (blank(flowId) || typeof flowId === 'object' || typeof flowId === 'boolean') return undefined;
  const id = pythonStr(flowId);
  return {
    flow_id: id,
    join_frame_key: key,
    source_event: source,
    authoritative_source_event_type: envelope.event_type,
    payload_hash: flowBindingHash(id, key, envelope.event_id),
    pins: {
      platform_run_id: envelope.platform_run_id ?? null,
      scenario_run_id: envelope.scenario_run_id ?? envelope.run_id ?? null,
      manifest_fingerprint: envelope.manifest_fingerprint,
      parameter_hash: envelope.parameter_hash ?? null,
      scenario_id: envelope.scenario_id ?? null,
      seed: envelope.seed ?? null,
      run_id: envelope.run_id ?? null,
    },
    bound_at_utc: envelope.ts_utc,
  };
}

/** Python `str()` of a value in an id preimage: null/undefined are `None`. */
const preimage = (value: unknown) => (value === null || value === undefined ? 'None' : pythonStr(value));

/**
 * The failure row id: sha256("{stream_id}:{run}:{scenario_run}:{topic}:{partition}:{offset}:{event_id}:{reason}:
 * {CJ(details)}")[:32], so a redelivered failing record writes the same row.
 */
export function applyFailureId(streamId: string, failure: Omit<ApplyFailure, 'failure_id'>): string {
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

export { advancedCheckpoint, compareOffsets } from '../contracts/consumer-checkpoint.ts';
