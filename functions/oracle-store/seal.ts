import { engineRunWriteOnceStore } from '../../lib/adapters/oracle-dependencies.ts';
import { SealRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { sealRequestedPack } from '../../lib/oracle-store/seal.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracle, oracleTask } from './oracle-context.ts';

/** oracle-seal: pack manifest and seal, write-once; an identical re-seal is a no-op. */
export const handler = taskHandler(
  SealRequest,
  async (request, { logger }) => {
    const store = engineRunWriteOnceStore(deps.s3, env.ORACLE_STORE_BUCKET, request.engine_run_prefix);
    const answer = await sealRequestedPack(store, request, oracle.ORACLE_ENGINE_RELEASE, new Date());
    logger.info('pack sealed', { oracle_pack_id: answer.oracle_pack_id, created: answer.created });
    return answer;
  },
  oracleTask,
);
