import { engineRunWriteOnceStore } from '../../lib/adapters/oracle-dependencies.ts';
import { withSortEngine } from '../../lib/adapters/oracle-sort-engine.ts';
import { FinalizeRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { finalizeRequestedSort } from '../../lib/oracle-store/stream-sort/sort-output.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracle, oracleTask } from './oracle-context.ts';

/** oracle-stream-finalize: source and view stats must match, then the receipt, then the manifest. */
export const handler = taskHandler(
  FinalizeRequest,
  async (request, { logger }) => {
    const prefix = request.engine_run_prefix;
    const store = engineRunWriteOnceStore(deps.s3, env.ORACLE_STORE_BUCKET, prefix);
    const answer = await finalizeRequestedSort(store, request, new Date(), (finalize) =>
      withSortEngine(oracle, store, prefix, finalize),
    );
    logger.info('stream view committed', { outputId: answer.output_id, rows: answer.rows });
    return answer;
  },
  oracleTask,
);
