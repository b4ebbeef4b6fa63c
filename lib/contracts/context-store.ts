import { z } from 'zod';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './identity.ts';
import type { EbRef } from './receipts.ts';
import { Hex32, Hex64, PlatformRunIdPattern, SafeText, Uint64 } from './wire-primitives.ts';

/**
 * Context Store + FlowBinding wire shapes (downstream.md §2.4): the bus record it consumes, the join frame key,
 * the flow binding, the query request and answer, and the binding hash recipe.
 */

/** The checkpoint / metric scope base: stream ids are `csfb.v0::<platform_run_id>` (§1). */
export const CONTEXT_STORE_STREAM_BASE = 'csfb.v0';

/** One record read from a context topic: where it sits on the bus and its data (an envelope, still unchecked). */
export interface ContextBusRecord {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: EbRef['offset_kind'];
  published_at_utc?: string;
  /** The record's data as parsed (lossless JSON); the core checks it against the canonical envelope. */
  envelope: unknown;
}

/** An unsigned integer as a JSON number, a bigint or a string of digits (`arrival_seq`), read as a bigint. */
const UnsignedInteger = z
  .union([Uint64, z.string().regex(/^[0-9]{1,20}$/, 'expected a decimal integer')])
  .transform((value) => BigInt(value));

/** JoinFrameKey = (platform run, scenario run, merchant_id as Python `str`, arrival_seq as an int). */
export const JoinFrameKey = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  merchant_id: SafeText(128),
  arrival_seq: UnsignedInteger,
});
export type JoinFrameKey = z.output<typeof JoinFrameKey>;

/** ContextPins of a query (§1): the six pins, run_id optional. */
export const ContextPins = z.strictObject({
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  scenario_id: z.union([SafeText(256), Uint64]),
  seed: Uint64,
  run_id: Hex32.optional(),
});
export type ContextPins = z.output<typeof ContextPins>;

/** The event a join frame role or a binding came from, with its place on the bus. */
export interface SourceEvent {
  event_id: string;
  event_type: string;
  ts_utc: string;
  eb_ref: EbRef;
}

/** The pins a binding was made under, as the flow anchor's envelope carried them (absent ones are null). */
export type BindingPins = Record<
  'platform_run_id' | 'scenario_run_id' | 'manifest_fingerprint' | 'parameter_hash' | 'scenario_id' | 'seed',
  unknown
> & { run_id?: unknown };

export interface FlowBinding {
  flow_id: string;
  join_frame_key: JoinFrameKey;
  source_event: SourceEvent;
  authoritative_source_event_type: string;
  /** binding hash = sha256(CJ({flow_id, join_frame_key, source_event_id})). */
  payload_hash: string;
  pins: BindingPins;
  bound_at_utc: string;
}

/** §2.4 binding hash = sha256 of canonical `{flow_id, join_frame_key, source_event_id}` (the full 64 hex). */
export function flowBindingHash(flowId: string, key: JoinFrameKey, sourceEventId: string): string {
  return sha256Hex(canonicalJson({ flow_id: flowId, join_frame_key: key, source_event_id: sourceEventId }));
}

const QueryBase = {
  request_id: SafeText(256),
  pins: ContextPins,
  as_of_ts_utc: SafeText(64).optional(),
};

/** A query names exactly one selector, the one its kind reads: a flow_id or a join frame key. */
export const ContextQueryRequest = z.discriminatedUnion('query_kind', [
  z.strictObject({ ...QueryBase, query_kind: z.literal('resolve_flow_binding'), flow_id: SafeText(256) }),
  z.strictObject({ ...QueryBase, query_kind: z.literal('fetch_join_frame'), join_frame_key: JoinFrameKey }),
]);
export type ContextQueryRequest = z.output<typeof ContextQueryRequest>;

export const CONTEXT_QUERY_STATUSES = [
  'READY',
  'MISSING_BINDING',
  'MISSING_JOIN_FRAME',
  'CONFLICT',
  'INVALID_REQUEST',
] as const;
export type ContextQueryStatus = (typeof CONTEXT_QUERY_STATUSES)[number];

/** The role of a context event in its join frame. */
export type ContextRole = 'arrival_events' | 'arrival_entities' | 'flow_anchor';

export interface ContextQueryResponse {
  request_id: string;
  status: ContextQueryStatus;
  reason_codes: string[];
  /** Absent only on an INVALID_REQUEST whose pins did not parse. */
  pins?: ContextPins;
  resolved_at_utc: string;
  flow_id?: string;
  join_frame_key?: JoinFrameKey;
  flow_binding?: FlowBinding;
  context_complete?: boolean;
  context_refs?: Partial<Record<ContextRole, EbRef>>;
  evidence_refs: { kind: string; ref: string }[];
  /** On INVALID_REQUEST: what did not parse. */
  detail?: string;
}
