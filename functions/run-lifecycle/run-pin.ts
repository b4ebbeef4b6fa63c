import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { postgresRunRegistry, s3RunObjectStore } from '../../lib/adapters/run-registry.ts';
import { RunPinRequest } from '../../lib/contracts/platform-run.ts';
import { InvalidPlatformRunId, pinRun, type RunPinResult } from '../../lib/run-lifecycle/run-pin.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const logger = createLogger('run-pin');
const store = s3RunObjectStore(deps.s3, env.PLATFORM_BUCKET);

/** P1: pins a fresh platform_run_id (or the requested one) as the active run in Postgres and S3. */
export const handler = async (event: unknown): Promise<RunPinResult> => {
  const request = RunPinRequest.safeParse(event ?? {});
  if (!request.success) throw new InvalidPlatformRunId(request.error.issues.map((i) => i.message).join('; '));
  const registry = postgresRunRegistry(await deps.pool());
  const input = {
    requested: request.data.platform_run_id,
    pinnedBy: request.data.pinned_by ?? 'run-lifecycle',
    now: new Date(),
    stream: request.data.stream,
  };
  const result = await pinRun(input, registry, store);
  logger.info('run pinned', { platform_run_id: result.platform_run_id, active: result.active });
  return result;
};
