import { z } from 'zod';
import { WSP_PRODUCER } from '../contracts/envelope.ts';
import { MAX_CHUNKS_PER_SEGMENT } from '../world-streamer/segments.ts';
import { MAX_ALIGN_WINDOW_SECONDS, WorldStreamerSettings } from '../world-streamer/settings.ts';
import { parseConfig, type Stage } from './config.ts';

/**
 * Settings of the World Streamer functions (control-ingress.md §4.5–§4.7, §7), parsed once at cold start.
 * Defaults are the parity profile's, except the pacing speedup, which is 0 (no pacing) on the local stage and
 * 600 elsewhere unless `WSP_STREAM_SPEEDUP` says otherwise. An empty value means "not set" (serverless.yml
 * writes '' for stage-specific keys).
 */

const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** A number given as text; "" and absent are undefined, anything unparseable fails with the key's name. */
const numeric = text.transform((v) => (v === undefined ? undefined : Number(v)));

const int = (min: number, fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  numeric.pipe(z.number().int().min(min).max(max).optional()).transform((v) => v ?? fallback);

const flag = (fallback: boolean) =>
  text
    .pipe(z.enum(['true', 'false', '1', '0']).optional())
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));

const csv = text.transform((v) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
);

/** A state machine ARN; anything else (an unresolved intrinsic rendered as text) counts as absent. */
/** The stream-run state machine's ARN (serverless.yml builds it from the name; the local cloud resolves it). */
export const StateMachineArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:states:[^:]+:\d{12}:stateMachine:[\w-]{1,80}$/,
    'a Step Functions state machine ARN',
  );

export const WorldStreamerEnvironment = z
  .object({
    /** The IG HTTP API base URL (`/v1/ingest/push` is appended). */
    IG_URL: text.pipe(z.url()),
    WSP_IG_API_KEY: text,
    WSP_IG_API_KEY_SSM_PARAMETER: text,
    WSP_IG_TIMEOUT_MS: int(1, 30_000),
    STREAM_RUN_STATE_MACHINE_ARN: StateMachineArn,
    WSP_STREAM_SPEEDUP: numeric.pipe(z.number().finite().min(0).optional()),
    WSP_MAX_EVENTS_PER_OUTPUT: int(0, 0),
    WSP_CHUNK_ROWS: int(1, 1024, 100_000),
    WSP_CHUNKS_PER_SEGMENT: int(1, 500, MAX_CHUNKS_PER_SEGMENT),
    WSP_CHUNK_BUDGET_MS: int(1, 60_000),
    /** Seconds of event time every output goes through before any goes further; 0 = outputs stream on their own. */
    WSP_ALIGN_WINDOW_SECONDS: int(0, 600, MAX_ALIGN_WINDOW_SECONDS),
    WSP_WAIT_THRESHOLD_MS: int(0, 10_000),
    WSP_OUTPUT_CONCURRENCY: int(0, 2),
    WSP_IG_PUSH_CONCURRENCY: int(1, 1, 64),
    WSP_IG_PUSH_BATCH_SIZE: int(1, 1, 500),
    WSP_RETRY_MAX_ATTEMPTS: int(1, 5, 20),
    WSP_RETRY_BASE_DELAY_MS: int(0, 250),
    WSP_RETRY_MAX_DELAY_MS: int(0, 5000),
    WSP_PROGRESS_EVERY: int(1, 1000),
    WSP_PROGRESS_SECONDS: int(1, 30),
    WSP_LANE_COUNT: int(1, 1),
    WSP_LANE_INDEX: int(0, 0),
    WSP_CHECKPOINT_ATTEMPT_ID: text,
    WSP_STRICT_SEAL: flag(false),
    WSP_REQUIRE_GATE_PASS: flag(true),
    WSP_TRAFFIC_OUTPUT_IDS: csv,
    WSP_PRODUCER_ID: text,
    /** The producer allowlist text (wsp/producer_allowlist_v0.txt: one id a line, `#` comments). */
    WSP_PRODUCER_ALLOWLIST: z.string().default(`# wsp/producer_allowlist_v0.txt\n${WSP_PRODUCER}\n`),
    /** §4.1 step 4: an explicit active run wins over the pinned one in Postgres. */
    PLATFORM_RUN_ID: text,
    WSP_ENGINE_RUN_ROOT: text,
    WSP_SCENARIO_ID: text,
    WSP_SERVICE_RELEASE_ID: text,
    WSP_ENVIRONMENT: text,
    /** Where stream-view parts are staged (Lambda /tmp). */
    WSP_WORKSPACE_DIR: z.string().min(1).default('/tmp/wsp-workspace'),
  })
  .refine((e) => e.WSP_IG_API_KEY !== undefined || e.WSP_IG_API_KEY_SSM_PARAMETER !== undefined, {
    path: ['WSP_IG_API_KEY'],
    message: 'set WSP_IG_API_KEY or WSP_IG_API_KEY_SSM_PARAMETER',
  });
export type WorldStreamerEnvironment = z.infer<typeof WorldStreamerEnvironment>;

/** The core's settings from the environment; a bad combination (lane index ≥ count, …) names its key. */
export function settingsFromEnvironment(env: WorldStreamerEnvironment, stage: Stage): WorldStreamerSettings {
  return parseConfig(
    WorldStreamerSettings,
    {
      ...(env.WSP_PRODUCER_ID ? { producerId: env.WSP_PRODUCER_ID } : {}),
      speedup: env.WSP_STREAM_SPEEDUP ?? (stage === 'local' ? 0 : 600),
      maxEventsPerOutput: env.WSP_MAX_EVENTS_PER_OUTPUT,
      chunkRows: env.WSP_CHUNK_ROWS,
      chunksPerSegment: env.WSP_CHUNKS_PER_SEGMENT,
      chunkBudgetMs: env.WSP_CHUNK_BUDGET_MS,
      alignWindowSeconds: env.WSP_ALIGN_WINDOW_SECONDS,
      waitThresholdMs: env.WSP_WAIT_THRESHOLD_MS,
      pushConcurrency: env.WSP_IG_PUSH_CONCURRENCY,
      pushBatchSize: env.WSP_IG_PUSH_BATCH_SIZE,
      outputConcurrency: env.WSP_OUTPUT_CONCURRENCY,
      retry: {
        maxAttempts: env.WSP_RETRY_MAX_ATTEMPTS,
        baseDelayMs: env.WSP_RETRY_BASE_DELAY_MS,
        maxDelayMs: env.WSP_RETRY_MAX_DELAY_MS,
      },
      progressEvery: env.WSP_PROGRESS_EVERY,
      progressSeconds: env.WSP_PROGRESS_SECONDS,
      laneCount: env.WSP_LANE_COUNT,
      laneIndex: env.WSP_LANE_INDEX,
      checkpointAttemptId: env.WSP_CHECKPOINT_ATTEMPT_ID ?? '',
      strictSeal: env.WSP_STRICT_SEAL,
      requireGatePass: env.WSP_REQUIRE_GATE_PASS,
      ...(env.WSP_TRAFFIC_OUTPUT_IDS ? { trafficOverride: env.WSP_TRAFFIC_OUTPUT_IDS } : {}),
      ...(env.WSP_SCENARIO_ID ? { scenarioIdOverride: env.WSP_SCENARIO_ID } : {}),
      ...(env.WSP_ENGINE_RUN_ROOT ? { engineRunRootOverride: env.WSP_ENGINE_RUN_ROOT } : {}),
      provenance: {
        service_release_id: env.WSP_SERVICE_RELEASE_ID ?? 'dev-local',
        environment: env.WSP_ENVIRONMENT ?? 'local_parity',
      },
    },
    'world streamer settings',
  );
}

let cached: WorldStreamerEnvironment | undefined;
export function worldStreamerEnvironment(
  source: Record<string, unknown> = process.env,
): WorldStreamerEnvironment {
  cached ??= parseConfig(WorldStreamerEnvironment, source, 'world streamer environment');
  return cached;
}
