import { z } from 'zod';

/** Wire shapes of the oracle-pipeline state machine's steps (each a Lambda input). */

const OutputId = z.string().regex(/^[A-Za-z0-9_]+$/, 'an output_id of the catalogue');
const EngineRunPrefix = z.string().regex(/^[\w.=/-]+$/, 'a key prefix in the oracle-store bucket');

export const SyncRequest = z.object({
  world_source: z.string().regex(/^(file:\/\/\/|s3:\/\/)/, 'file:///dir or s3://bucket/prefix'),
  engine_run_prefix: EngineRunPrefix.optional(),
});
export const SealRequest = z.object({
  engine_run_prefix: EngineRunPrefix,
  scenario_id: z.string().min(1).max(512),
  engine_release: z.string().min(1).optional(),
});
export const CheckRequest = z.object({
  engine_run_prefix: EngineRunPrefix,
  scenario_id: z.string().min(1).max(512),
  strict_seal: z.boolean().default(true),
  /** "default" or absent: the context and traffic outputs. */
  output_ids: z.union([z.literal('default'), z.array(OutputId).min(1)]).optional(),
});
export const PlanRequest = z.object({
  engine_run_prefix: EngineRunPrefix,
  scenario_id: z.string().min(1),
  output_id: OutputId,
  /** "configured" or absent: the worker's STREAM_SORT_BUDGET_BYTES. */
  budget_bytes: z
    .union([
      z.literal('configured'),
      z
        .number()
        .int()
        .min(1 << 20),
    ])
    .optional(),
});
/** A window as it travels through Step Functions (bigint bounds as decimal strings). */
export const SerializedWindow = z.object({
  index: z.number().int().min(0),
  startMicros: z.string(),
  endMicros: z.string(),
  last: z.boolean(),
  files: z.array(z.string()),
  estimatedRows: z.number(),
  estimatedBytes: z.number(),
  /** False for the single window used when the sources carry no time statistics (no filter applied). */
  bounded: z.boolean(),
});
export type SerializedWindow = z.infer<typeof SerializedWindow>;
export const PreparedSort = z.object({
  outputId: OutputId,
  decision: z.enum(['run', 'skip']),
  streamViewId: z.string(),
  sortKeys: z.array(z.string()),
  recordedKeys: z.array(z.string()),
  timeKey: z.string().optional(),
  sourceKeys: z.array(z.string()),
  windows: z.array(SerializedWindow),
  /** Rows in the source files, from their footers (set when the decision is run). */
  sourceRows: z.number().int().min(0).optional(),
});
export type PreparedSort = z.infer<typeof PreparedSort>;
export const SortWindowRequest = z.object({
  engine_run_prefix: EngineRunPrefix,
  prepared: PreparedSort,
  window: SerializedWindow,
});
const Stats = z.object({
  row_count: z.number().int().min(0),
  hash_sum: z.string().regex(/^\d+$/),
  hash_sum2: z.string().regex(/^\d+$/),
  min_ts_utc: z.string().nullable(),
  max_ts_utc: z.string().nullable(),
});
export const WindowStats = z.object({
  index: z.number().int().min(0),
  part: z.string().optional(),
  source: Stats,
  view: Stats.optional(),
});
export const FinalizeRequest = z.object({
  engine_run_prefix: EngineRunPrefix,
  scenario_id: z.string().min(1),
  prepared: PreparedSort,
  /** The windows' validation shares (oracle-stream-window-stats); absent: validate the whole output here. */
  window_stats: z.array(WindowStats).optional(),
});
