import {
  type ContextPins,
  ContextQueryRequest,
  type ContextQueryResponse,
  type ContextRole,
  type FlowBinding,
  type JoinFrameKey,
  type SourceEvent,
} from '../contracts/context-store.ts';
import { pythonStr } from '../contracts/python-format.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { describeIssues } from '../errors/platform-error.ts';
import type { ContextCheckpoint, ContextStore, JoinFrameRecord, JoinFrameState } from './ports.ts';

/**
 * §2.4 queries for the decision lane: `resolve_flow_binding(flow_id)` and `fetch_join_frame(key)`, answering
 * READY | MISSING_BINDING (FLOW_BINDING_NOT_FOUND) | MISSING_JOIN_FRAME (JOIN_FRAME_NOT_FOUND, JOIN_FRAME_INCOMPLETE)
 * | CONFLICT (PINS_MISMATCH) | INVALID_REQUEST, with the binding, the join frame key and evidence refs.
 * `fetch_join_frame` answers READY for any frame it finds (its `context_complete` says whether it is whole), as the
 * reference does; `resolve_flow_binding` is READY only for a complete frame.
 */

const PINS = [
  'platform_run_id',
  'scenario_run_id',
  'manifest_fingerprint',
  'parameter_hash',
  'scenario_id',
  'seed',
] as const;

const asText = (value: unknown) => (value === null || value === undefined ? 'None' : pythonStr(value));

/** The request's pins against the binding's: the six must be equal (as Python `str`), run_id when both have one. */
export function pinsMismatch(request: ContextPins, binding: FlowBinding['pins']): boolean {
  if (PINS.some((pin) => asText(request[pin]) !== asText(binding[pin]))) return true;
  const [a, b] = [request.run_id, binding.run_id];
  return !(a === undefined || b === undefined || b === null || b === '') && asText(a) !== asText(b);
}

function sourceRef(kind: string, source: SourceEvent) {
  const { eb_ref: e } = source;
  return {
    kind,
    ref:
      `topic=${e.topic};partition=${e.partition};offset=${e.offset};offset_kind=${e.offset_kind};` +
      `event_id=${source.event_id};event_type=${source.event_type}`,
  };
}

function checkpointRef(checkpoint: ContextCheckpoint | undefined) {
  if (!checkpoint) return [];
  const c = checkpoint;
  return [
    {
      kind: 'join_checkpoint',
      ref:
        `topic=${c.topic};partition=${c.partition};next_offset=${c.next_offset};offset_kind=${c.offset_kind};` +
        `watermark_ts_utc=${c.watermark_ts_utc ?? 'None'}`,
    },
  ];
}

function contextRefs(state: JoinFrameState): Partial<Record<ContextRole, EbRef>> {
  const refs: Partial<Record<ContextRole, EbRef>> = {};
  if (state.arrival_event_ref) refs.arrival_events = state.arrival_event_ref;
  if (state.arrival_entities_ref) refs.arrival_entities = state.arrival_entities_ref;
  if (state.flow_anchor_ref) refs.flow_anchor = state.flow_anchor_ref;
  return refs;
}

async function frameEvidence(store: ContextStore, frame: JoinFrameRecord) {
  const { topic, partition } = frame.source_event.eb_ref;
  const checkpoint = (await store.checkpoints()).find((c) => c.topic === topic && c.partition === partition);
  return [sourceRef('join_frame_source_event', frame.source_event), ...checkpointRef(checkpoint)];
}

type Answer = Omit<ContextQueryResponse, 'request_id' | 'pins' | 'resolved_at_utc'>;

async function resolveFlowBinding(
  store: ContextStore,
  pins: ContextPins,
  flowId: string,
): Promise<Answer & { join_frame_key?: JoinFrameKey }> {
  const binding = await store.readFlowBinding(pins.platform_run_id, pins.scenario_run_id, flowId);
  if (!binding)
    return {
      status: 'MISSING_BINDING',
      reason_codes: ['FLOW_BINDING_NOT_FOUND'],
      flow_id: flowId,
      evidence_refs: [],
    };
  const found = {
    flow_id: flowId,
    join_frame_key: binding.join_frame_key,
    flow_binding: binding,
  };
  const bindingEvidence = [sourceRef('flow_binding_source_event', binding.source_event)];
  if (pinsMismatch(pins, binding.pins))
    return { status: 'CONFLICT', reason_codes: ['PINS_MISMATCH'], ...found, evidence_refs: bindingEvidence };
  const frame = await store.readJoinFrame(binding.join_frame_key);
  if (!frame)
    return {
      status: 'MISSING_JOIN_FRAME',
      reason_codes: ['JOIN_FRAME_NOT_FOUND'],
      ...found,
      evidence_refs: bindingEvidence,
    };
  const evidence = [...bindingEvidence, ...(await frameEvidence(store, frame))];
  const complete = frame.state.context_complete;
  return {
    status: complete ? 'READY' : 'MISSING_JOIN_FRAME',
    reason_codes: [complete ? 'READY' : 'JOIN_FRAME_INCOMPLETE'],
    ...found,
    context_complete: complete,
    ...(complete ? { context_refs: contextRefs(frame.state) } : {}),
    evidence_refs: evidence,
  };
}

async function fetchJoinFrame(store: ContextStore, pins: ContextPins, key: JoinFrameKey): Promise<Answer> {
  const frame = await store.readJoinFrame(key);
  if (!frame)
    return {
      status: 'MISSING_JOIN_FRAME',
      reason_codes: ['JOIN_FRAME_NOT_FOUND'],
      join_frame_key: key,
      evidence_refs: [],
    };
  const binding = await store.readFlowBindingForJoinFrame(key);
  const withBinding = binding ? { flow_id: binding.flow_id, flow_binding: binding } : {};
  const frameSource = [sourceRef('join_frame_source_event', frame.source_event)];
  if (binding && pinsMismatch(pins, binding.pins))
    return {
      status: 'CONFLICT',
      reason_codes: ['PINS_MISMATCH'],
      join_frame_key: key,
      ...withBinding,
      evidence_refs: frameSource,
    };
  const evidence = [
    ...(binding ? [sourceRef('flow_binding_source_event', binding.source_event)] : []),
    ...(await frameEvidence(store, frame)),
  ];
  return {
    status: 'READY',
    reason_codes: ['READY'],
    join_frame_key: key,
    ...withBinding,
    context_complete: frame.state.context_complete,
    context_refs: contextRefs(frame.state),
    evidence_refs: evidence,
  };
}

/** Answers a query (any JSON value): a request that does not parse is INVALID_REQUEST, never an exception. */
export async function queryContext(
  store: ContextStore,
  request: unknown,
  now: Date,
): Promise<ContextQueryResponse> {
  const resolvedAt = now.toISOString();
  const parsed = ContextQueryRequest.safeParse(request);
  if (!parsed.success) {
    const raw = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
    const requestId =
      typeof raw.request_id === 'string' && raw.request_id !== '' ? raw.request_id : 'invalid-request';
    return {
      request_id: requestId,
      status: 'INVALID_REQUEST',
      reason_codes: ['INVALID_REQUEST'],
      resolved_at_utc: resolvedAt,
      evidence_refs: [],
      detail: describeIssues(parsed.error.issues).slice(0, 1024),
    };
  }
  const query = parsed.data;
  const answer =
    query.query_kind === 'resolve_flow_binding'
      ? await resolveFlowBinding(store, query.pins, query.flow_id)
      : await fetchJoinFrame(store, query.pins, query.join_frame_key);
  return { request_id: query.request_id, pins: query.pins, resolved_at_utc: resolvedAt, ...answer };
}

/** `resolve_flow_binding`: the binding of a flow and whether its join frame is complete. */
export function resolveFlowBindingQuery(
  store: ContextStore,
  request: { request_id: string; pins: unknown; flow_id: unknown },
  now: Date,
): Promise<ContextQueryResponse> {
  return queryContext(store, { ...request, query_kind: 'resolve_flow_binding' }, now);
}

/** `fetch_join_frame`: the join frame of a key, with the binding made on it if any. */
export function fetchJoinFrameQuery(
  store: ContextStore,
  request: { request_id: string; pins: unknown; join_frame_key: unknown },
  now: Date,
): Promise<ContextQueryResponse> {
  return queryContext(store, { ...request, query_kind: 'fetch_join_frame' }, now);
}
