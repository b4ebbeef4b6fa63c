import { engineRunReader } from '../../lib/adapters/oracle-dependencies.ts';
import { CheckRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { checkRequestedPack } from '../../lib/oracle-store/check.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracleTask } from './oracle-context.ts';

/** oracle-check: the checker's report (gates verified by their hash law); the outputs to sort travel on. */
export const handler = taskHandler(
  CheckRequest,
  async (request, { logger }) => {
    const store = engineRunReader(deps.s3, env.ORACLE_STORE_BUCKET, request.engine_run_prefix);
    const answer = await checkRequestedPack(store, request);
    logger.info('pack checked', { status: answer.status, reason_codes: answer.reason_codes });
    return answer;
  },
  oracleTask,
);
