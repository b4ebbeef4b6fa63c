import { z } from 'zod';
import {
  Hex32,
  Hex64,
  IsoTimestamp,
  OutputId,
  PlatformRunIdPattern,
  Provenance,
  Rfc3339Micros,
} from '../contracts/wire-primitives.ts';
import { ChunkPeer } from './alignment.ts';
import {
  CHECKPOINT_REASONS,
  GOVERNANCE_FAMILIES,
  READY_STATUSES,
  STREAM_REASON_CODES,
  type StreamReasonCode,
} from './reason-codes.ts';
import { MAX_CHUNKS_PER_SEGMENT, SEGMENT_NAME_PREFIX_MAX } from './segments.ts';

/**
 * Shapes the World Streamer passes between its Lambdas and the `stream-run` state machine, and the evidence it
 * writes (control-ingress.md §4.1, §4.2, §4.6, §4.8). State-machine payloads are JSON: the seed travels as an
 * exact decimal string, never as a lossy number.
 */

/** An exact uint64 decimal. */
const DecimalUint64 = z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'expected a uint64 decimal');

/** The input of one `stream-run` execution, built by the READY consumer (§4.1 step 7). */
export const StreamRunInput = z.strictObject({
  message_id: Hex64,
  /** READY `run_id` (= scenario_run_id). */
  run_id: Hex32,
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  scenario_id: z.string().min(1),
  engine_run_root: z.string().min(1),
  /** The execution name: checkpoints count the cap and pace per session (§4.5). */
  session_id: z.string().min(1).max(80),
});
export type StreamRunInput = z.infer<typeof StreamRunInput>;

export const OutputRole = z.enum(['context', 'traffic']);
export type OutputRole = z.infer<typeof OutputRole>;

export const PlannedOutput = z.strictObject({
  output_id: OutputId,
  role: OutputRole,
  /** Catalogue `primary_key` (§4.4 event_id). */
  primary_key: z.array(z.string().min(1)).min(1),
});
export type PlannedOutput = z.infer<typeof PlannedOutput>;

/**
 * The run's own stream settings as the plan carries them (contracts/platform-run.ts `RunStreamSettings`, pinned at
 * P1), plus the alignment window, which a run may pin too once P1 knows the key.
 */
export const RunStreamOverrides = z.strictObject({
  max_events_per_output: z.number().int().min(0).optional(),
  speedup: z.number().finite().min(0).optional(),
  align_window_seconds: z.number().int().min(0).optional(),
});
export type RunStreamOverrides = z.infer<typeof RunStreamOverrides>;

/** §4.2 what passed the stream checks: everything a chunk needs to build envelopes (§4.4). */
export const StreamPlan = z.strictObject({
  message_id: Hex64,
  run_id: Hex32,
  session_id: z.string().min(1).max(80),
  engine_run_root: z.string().min(1),
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  scenario_id: z.string().min(1),
  /** Engine run id (run_receipt.run_id): the envelope `run_id`. */
  engine_run_id: Hex32,
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  seed: DecimalUint64,
  /** `oracle_pack_id`, else sha256(engine root) (§4.2 step 4). */
  pack_key: z.string().min(1),
  engine_release: z.string().min(1).optional(),
  /** §4.6 stored checkpoint key (contracts/identity.ts `checkpointScopeKey`). */
  checkpoint_scope_key: Hex64,
  /** Context outputs, then traffic outputs, de-duplicated (§4.2 step 5). */
  outputs: z.array(PlannedOutput).min(1),
  traffic_output_ids: z.array(OutputId),
  context_output_ids: z.array(OutputId),
  /** The Map's MaxConcurrency (§4.5 `WSP_OUTPUT_CONCURRENCY`). */
  output_concurrency: z.number().int().min(1),
  /**
   * Ours: chunks one `stream-output` execution (a segment of the session, every output) runs, and the prefix of their
   * names. Optional only so that the chunks of a session planned before segments existed still parse; prepare always
   * sets both.
   */
  chunks_per_segment: z.number().int().min(1).max(MAX_CHUNKS_PER_SEGMENT).optional(),
  segment_name_prefix: z.string().min(1).max(SEGMENT_NAME_PREFIX_MAX).optional(),
  /**
   * Ours: event-time alignment across the outputs (alignment.ts): no output pushes an event a whole window of event
   * time ahead of an output still streaming. The run's setting, else the deployment's `WSP_ALIGN_WINDOW_SECONDS`;
   * 0 (or absent, a session planned before alignment existed) streams each output on its own.
   */
  align_window_seconds: z.number().int().min(0).optional(),
  /** The run's own stream settings (pinned with the run at P1), over the deployment's. */
  stream_settings: RunStreamOverrides.optional(),
});
export type StreamPlan = z.infer<typeof StreamPlan>;

const ReasonCodeSchema = z.enum(STREAM_REASON_CODES);

/** §4.2 `StreamResult{status, emitted, reason}`. */
export const StreamResult = z.strictObject({
  status: z.enum(['STREAMED', 'FAILED']),
  emitted: z.number().int().min(0),
  reason: ReasonCodeSchema.nullable(),
  detail: z.string().max(256).optional(),
});
export type StreamResult = z.infer<typeof StreamResult>;

export const failed = (reason: StreamReasonCode, emitted = 0, detail?: string): StreamResult => ({
  status: 'FAILED',
  emitted,
  reason,
  ...(detail === undefined ? {} : { detail: detail.slice(0, 256) }),
});

/** Pacing, progress and segment state carried between the chunks of one output by the state machine. */
export const ChunkLoopState = z.strictObject({
  /** Epoch ms before which the next kept row must not be pushed (set when a chunk handed a wait over). */
  due_at_ms: z.number().int().min(0).optional(),
  /** Session emitted count at the last progress line, and when it was logged (epoch ms). */
  progress_emitted: z.number().int().min(0).default(0),
  progress_at_ms: z.number().int().min(0).optional(),
  /** The first view row not pushed yet and its event time, when the chunk read it (alignment: no read to skip). */
  ahead: z.strictObject({ row: z.number().int().min(0), ts_utc: Rfc3339Micros }).optional(),
  /** The segment (stream-output execution) the count is of, and the chunks this output has run in it. */
  segment: z.number().int().min(0).optional(),
  segment_chunks: z.number().int().min(0).optional(),
});
export type ChunkLoopState = z.infer<typeof ChunkLoopState>;

/** The input of one chunk Lambda: the plan, the output, and the loop state of the previous chunk. */
export const ChunkInput = z.strictObject({
  plan: StreamPlan,
  output_id: OutputId,
  state: ChunkLoopState.prefault({}),
  /** Every output's last chunk result when the round began (alignment.ts); absent: the output is not aligned. */
  peers: z.array(ChunkPeer).optional(),
  /** The segment running the chunk (0-based); absent: no segment bookkeeping (`segment_full` stays false). */
  segment: z.number().int().min(0).optional(),
});
export type ChunkInput = z.infer<typeof ChunkInput>;

/**
 * What the state machine does next for this output: CONTINUE (run the next chunk now), WAIT (`wait_seconds`
 * in a Wait state, then the next chunk), WINDOW_END (ours: the output reached its window's end; the next round goes
 * on), DONE (the output ended or reached its cap), FAILED (stop).
 */
export const ChunkStatus = z.enum(['CONTINUE', 'WAIT', 'WINDOW_END', 'DONE', 'FAILED']);
export type ChunkStatus = z.infer<typeof ChunkStatus>;

export const ChunkResult = z.strictObject({
  output_id: OutputId,
  status: ChunkStatus,
  /** FAILED: the reason code; DONE: `max_events` or `output_complete`. */
  reason: z.union([ReasonCodeSchema, z.enum(['max_events', 'output_complete'])]).nullable(),
  detail: z.string().max(256).optional(),
  /** Events this session has emitted for the output so far (acknowledged by IG). */
  emitted: z.number().int().min(0),
  /** Pushes acknowledged by this chunk. */
  pushed: z.number().int().min(0),
  /** The view row the checkpoint now points at. */
  next_row: z.number().int().min(0),
  wait_seconds: z.number().int().min(0).optional(),
  /**
   * Ours (alignment): a lower bound of the event time of any row the output pushes from now on - the first row not
   * pushed when read, else the last one pushed; null when not known (nothing read in this session yet) or DONE.
   */
  frontier_ts_utc: Rfc3339Micros.nullable().default(null),
  /** Ours (alignment): the end of the window this chunk streamed in; absent when the output was not held back. */
  window_end_ts_utc: Rfc3339Micros.optional(),
  /** Ours: the output has run its share of the segment's chunks (segments.ts) and is not done: the segment ends. */
  segment_full: z.boolean().default(false),
  state: ChunkLoopState,
});
export type ChunkResult = z.infer<typeof ChunkResult>;

/** §4.6 one output's cursor under a checkpoint scope, plus the session that last advanced it (ours). */
export const Checkpoint = z.strictObject({
  /** §4.6 stored `pack_key` = checkpointScopeKey(...). */
  scope_key: Hex64,
  output_id: OutputId,
  /** Ours: the next unread row of the view (parts by name, then row number). */
  next_row: z.number().int().min(0),
  last_file: z.string().nullable(),
  last_row_index: z.number().int().min(0).nullable(),
  last_ts_utc: Rfc3339Micros.nullable(),
  /** Ours: the stream session (execution) that saved it, and what that session has emitted for the output. */
  session_id: z.string().min(1),
  session_emitted: z.number().int().min(0),
  reason: z.enum(CHECKPOINT_REASONS),
  /** Ours: optimistic-concurrency version, 1 for the first save. */
  version: z.number().int().min(1),
  updated_at_utc: IsoTimestamp,
});
export type Checkpoint = z.infer<typeof Checkpoint>;

/** One row of a stream view as the reader hands it over. */
export const StreamViewRow = z.strictObject({
  /** The part's key or URI; parts sort by it. */
  file: z.string().min(1),
  /** Row number inside the part (0-based). */
  file_row_index: z.number().int().min(0),
  row: z.record(z.string(), z.unknown()),
});
export type StreamViewRow = z.infer<typeof StreamViewRow>;

/** §4.1 step 8 ready-record line `{message_id, run_id, status, reason, emitted, engine_run_root, scenario_id, ts_utc}`. */
export const ReadyRecordLine = z.strictObject({
  message_id: Hex64,
  run_id: z.string().min(1),
  status: z.enum(READY_STATUSES),
  reason: z.string().nullable(),
  emitted: z.number().int().min(0).nullable(),
  engine_run_root: z.string().nullable(),
  scenario_id: z.string().nullable(),
  ts_utc: IsoTimestamp,
});
export type ReadyRecordLine = z.infer<typeof ReadyRecordLine>;

/** §4.1 governance event `{event_id, event_family, ts_utc, actor, pins, provenance, details}`. */
export const GovernanceEvent = z.strictObject({
  event_id: Hex64,
  event_family: z.enum(GOVERNANCE_FAMILIES),
  ts_utc: IsoTimestamp,
  actor: z.strictObject({
    actor_id: z.literal('svc:wsp_ready_consumer'),
    source_type: z.literal('SYSTEM'),
    source_component: z.string().min(1),
  }),
  pins: z.strictObject({
    platform_run_id: PlatformRunIdPattern,
    scenario_run_id: z.string().min(1).optional(),
    manifest_fingerprint: Hex64.optional(),
    parameter_hash: Hex64.optional(),
    /** The writer stores the seed as `str(seed)`. */
    seed: DecimalUint64.optional(),
    scenario_id: z.string().min(1).optional(),
  }),
  provenance: Provenance,
  details: z.record(z.string(), z.unknown()),
});
export type GovernanceEvent = z.infer<typeof GovernanceEvent>;
