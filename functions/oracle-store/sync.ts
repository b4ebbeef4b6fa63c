import { engineRunStore, worldSourceStore } from '../../lib/adapters/oracle-dependencies.ts';
import { SyncRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { syncEngineRun } from '../../lib/oracle-store/sync.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracleTask } from './oracle-context.ts';

/** oracle-sync: copies a world into the oracle-store bucket under `engine-runs/<run_id>` (or the given prefix). */
export const handler = taskHandler(
  SyncRequest,
  async (request, { logger }) => {
    const answer = await syncEngineRun(
      {
        source: worldSourceStore(deps.s3, request.world_source),
        engineRunPrefix: request.engine_run_prefix,
        targetOf: (prefix) => engineRunStore(deps.s3, env.ORACLE_STORE_BUCKET, prefix),
      },
      { concurrency: 8 },
    );
    logger.info('world synced', {
      prefix: answer.engine_run_prefix,
      copied: answer.copied,
      bytes: answer.bytes,
    });
    return answer;
  },
  oracleTask,
);
