import { z } from 'zod';
import { WSP_PRODUCER } from '../contracts/envelope.ts';
import { OutputId, Provenance } from '../contracts/wire-primitives.ts';
import { FRAUD_CONTEXT_OUTPUT_IDS, TRAFFIC_OUTPUT_IDS } from '../oracle-store/interface-pack.ts';
import { MAX_CHUNKS_PER_SEGMENT } from './segments.ts';

/**
 * World Streamer knobs (control-ingress.md §4.5–§4.7, §7 profile `local_parity`), parsed once at cold start.
 * Defaults are the parity values; `speedup` 0 means no pacing, `maxEventsPerOutput` 0 means no cap.
 */

/** The widest alignment window: 31 days of event time (a world spans a day). */
export const MAX_ALIGN_WINDOW_SECONDS = 31 * 86_400;

/** wsp/context_baseline_outputs_v0.yaml: the context streamed when the traffic is baseline-only (§4.2 step 5). */
export const BASELINE_CONTEXT_OUTPUT_IDS = [
  'arrival_events_5B',
  's1_arrival_entities_6B',
  's2_flow_anchor_baseline_6B',
] as const;

/** §4.7 `wsp_retry{5, 250, 5000}`. */
export const RetrySettings = z.strictObject({
  maxAttempts: z.number().int().min(1).max(20).default(5),
  baseDelayMs: z.number().int().min(0).default(250),
  maxDelayMs: z.number().int().min(0).default(5000),
});
export type RetrySettings = z.infer<typeof RetrySettings>;

export const WorldStreamerSettings = z
  .strictObject({
    /** §4.2 step 7 `wsp_producer.producer_id`. */
    producerId: z.string().default(WSP_PRODUCER),
    /** §4.5 `stream_speedup` (parity 600); 0 = no pacing. */
    speedup: z.number().finite().min(0).default(600),
    /** §4.5 `WSP_MAX_EVENTS_PER_OUTPUT`, per output and per stream session; 0 = no cap. */
    maxEventsPerOutput: z.number().int().min(0).default(0),
    /** Rows one chunk Lambda reads (the reference reads batches of 1024); also the checkpoint granularity. */
    chunkRows: z.number().int().min(1).max(100_000).default(1024),
    /**
     * `WSP_CHUNKS_PER_SEGMENT` (our addition): chunks one `stream-output` execution runs before `stream-run` starts
     * the next, so that no execution's history nears AWS's 25,000 events (segments.ts).
     */
    chunksPerSegment: z.number().int().min(1).max(MAX_CHUNKS_PER_SEGMENT).default(500),
    /**
     * `WSP_ALIGN_WINDOW_SECONDS` (our addition, alignment.ts): every output of a session advances through the same
     * window of event time before any goes further, so nothing reaches the bus a whole window ahead of another
     * output. 0 = each output streams on its own.
     */
    alignWindowSeconds: z.number().int().min(0).max(MAX_ALIGN_WINDOW_SECONDS).default(600),
    /** Wall time a chunk may spend pushing and pacing before it hands back to the state machine. */
    chunkBudgetMs: z.number().int().min(1).default(60_000),
    /** A pacing delay at least this long is waited in a Wait state, not inside the Lambda. */
    waitThresholdMs: z.number().int().min(0).default(10_000),
    /** §4.5 `WSP_IG_PUSH_CONCURRENCY`: pushes in flight per output. */
    pushConcurrency: z.number().int().min(1).max(64).default(1),
    /**
     * `WSP_IG_PUSH_BATCH_SIZE` (our addition): envelopes sent together to IG's batch route. 1 = one push per
     * event as §4.7 (the default); more batches the events a chunk sends without pacing between them.
     */
    pushBatchSize: z.number().int().min(1).max(500).default(1),
    /** §4.5 `WSP_OUTPUT_CONCURRENCY` (the Map's MaxConcurrency); 0 = every output at once. */
    outputConcurrency: z.number().int().min(0).default(0),
    retry: RetrySettings.prefault({}),
    /** §4.8 `WSP_PROGRESS_EVERY` / `WSP_PROGRESS_SECONDS`. */
    progressEvery: z.number().int().min(1).default(1000),
    progressSeconds: z.number().min(1).default(30),
    /** §4.4 lanes `WSP_LANE_COUNT` / `WSP_LANE_INDEX`. */
    laneCount: z.number().int().min(1).default(1),
    laneIndex: z.number().int().min(0).default(0),
    /** §4.6 `WSP_CHECKPOINT_ATTEMPT_ID`. */
    checkpointAttemptId: z.string().default(''),
    /** §4.2 step 4: profiles dev/prod require a pack manifest and a seal. */
    strictSeal: z.boolean().default(false),
    /** §7 `require_gate_pass`. */
    requireGatePass: z.boolean().default(true),
    /** §4.2 step 5 policy lists (wsp/traffic_outputs_v0.yaml, context_*_outputs_v0.yaml). */
    trafficOutputIds: z
      .array(OutputId)
      .min(1)
      .default([...TRAFFIC_OUTPUT_IDS]),
    contextOutputIds: z.array(OutputId).default([...FRAUD_CONTEXT_OUTPUT_IDS]),
    contextBaselineOutputIds: z.array(OutputId).default([...BASELINE_CONTEXT_OUTPUT_IDS]),
    /** `WSP_TRAFFIC_OUTPUT_IDS`: must be a subset of `trafficOutputIds`. */
    trafficOverride: z.array(OutputId).optional(),
    /** Wiring `oracle_scenario_id` (§4.2 step 2). */
    scenarioIdOverride: z.string().min(1).optional(),
    /** Wiring `oracle_engine_run_root`: wins over the READY's `oracle_pack_ref` (§4.1 step 6). */
    engineRunRootOverride: z.string().min(1).optional(),
    /** Stamped on governance events. */
    provenance: Provenance.default({ service_release_id: 'dev-local', environment: 'local_parity' }),
  })
  .refine((s) => s.laneIndex < s.laneCount, {
    message: 'laneIndex must be below laneCount',
    path: ['laneIndex'],
  });
export type WorldStreamerSettings = z.infer<typeof WorldStreamerSettings>;

/** The parity defaults, for tests and the local cloud. */
export const defaultSettings = (
  overrides: z.input<typeof WorldStreamerSettings> = {},
): WorldStreamerSettings => WorldStreamerSettings.parse(overrides);
