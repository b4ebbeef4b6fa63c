import type { PlatformEnvironment } from '../runtime/config.ts';
import type { WorldStreamerEnvironment } from '../runtime/world-streamer-config.ts';
import type { Clock, Sleeper, StreamLog } from '../world-streamer/ports.ts';
import { sfnClient } from './aws-clients.ts';
import { configuredSecret, ssmSecrets } from './parameters.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import {
  activeRunReader,
  httpIngestionGateClient,
  postgresCheckpointStore,
  postgresReadyRunStore,
  postgresRunStreamSettings,
  s3EngineRunOpener,
  s3GovernanceSink,
  s3RunFactsReader,
  sfnStreamRunStarter,
  textAllowlistSource,
} from './world-streamer-stores.ts';

/**
 * The World Streamer's ports wired to Postgres, S3, Step Functions and the IG HTTP API, one builder per handler:
 * each function's bundle then holds only the AWS calls it makes, and the deploy-readiness check holds its role to
 * them. DuckDB (the stream-view reader) is not here: only the chunk function loads it, with its layer.
 */

const clock: Clock = { now: () => new Date() };

/** READY consumer: dedupe, facts, run scope, governance, and the start of the stream-run execution. */
export function readyConsumerPorts(
  env: PlatformEnvironment,
  wsp: WorldStreamerEnvironment,
  deps: PlatformDependencies,
) {
  return {
    clock,
    readyRuns: async () => postgresReadyRunStore(await deps.pool()),
    activeRun: activeRunReader(deps.pool, wsp.PLATFORM_RUN_ID),
    facts: s3RunFactsReader(deps.s3, env.PLATFORM_BUCKET),
    governance: s3GovernanceSink(deps.s3, env.PLATFORM_BUCKET),
    starter: sfnStreamRunStarter(sfnClient(deps.endpoints), wsp.STREAM_RUN_STATE_MACHINE_ARN),
  };
}

/** Stream checks and plan: the engine run root (read-only), the producer allowlist, the run's stream settings. */
export function streamPreparePorts(wsp: WorldStreamerEnvironment, deps: PlatformDependencies) {
  return {
    engineRuns: s3EngineRunOpener(deps.s3),
    allowlist: textAllowlistSource(wsp.WSP_PRODUCER_ALLOWLIST),
    runSettings: postgresRunStreamSettings(deps.pool),
  };
}

/** One chunk: checkpoints, the IG client (its key from the environment or SSM), pacing. */
export function streamChunkPorts(wsp: WorldStreamerEnvironment, deps: PlatformDependencies) {
  const apiKey = configuredSecret(ssmSecrets(deps.endpoints), {
    plain: wsp.WSP_IG_API_KEY,
    parameter: wsp.WSP_IG_API_KEY_SSM_PARAMETER,
    what: 'WSP_IG_API_KEY_SSM_PARAMETER',
  });
  const sleeper: Sleeper = { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  return {
    clock,
    sleeper,
    random: Math.random,
    checkpoints: async () => postgresCheckpointStore(await deps.pool()),
    ig: httpIngestionGateClient({ url: wsp.IG_URL, apiKey, timeoutMs: wsp.WSP_IG_TIMEOUT_MS }),
  };
}

/** End of a session: the ready record and governance RUN_ENDED. */
export function streamFinishPorts(env: PlatformEnvironment, deps: PlatformDependencies) {
  return {
    clock,
    readyRuns: async () => postgresReadyRunStore(await deps.pool()),
    governance: s3GovernanceSink(deps.s3, env.PLATFORM_BUCKET),
  };
}

/** Narrative lines (§4.8) through the structured logger. */
export function streamLog(logger: { info(message: string): void; warn(message: string): void }): StreamLog {
  return { info: (line) => logger.info(line), warn: (line) => logger.warn(line) };
}
