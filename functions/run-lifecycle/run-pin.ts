import { z } from 'zod';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { postgresRunRegistry, s3RunObjectStore } from '../../lib/adapters/run-registry.ts';
import { RunPinRequest } from '../../lib/contracts/platform-run.ts';
import { pinRequestedRun } from '../../lib/run-lifecycle/run-pin.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const store = s3RunObjectStore(deps.s3, env.PLATFORM_BUCKET);

/** P1: pins a fresh platform_run_id (or the requested one) as the active run in Postgres and S3. */
export const handler = taskHandler(
  z.preprocess((event) => event ?? {}, RunPinRequest),
  async (request, { logger }) => {
    const result = await pinRequestedRun(request, postgresRunRegistry(await deps.pool()), store, new Date());
    logger.info('run pinned', { platform_run_id: result.platform_run_id, active: result.active });
    return result;
  },
  { service: 'run-pin', invalid: 'INVALID_PLATFORM_RUN_ID' },
);
