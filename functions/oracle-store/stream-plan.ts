import { engineRunReader } from '../../lib/adapters/oracle-dependencies.ts';
import { withSortEngine } from '../../lib/adapters/oracle-sort-engine.ts';
import { PlanRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { outputSourceKeys } from '../../lib/oracle-store/output-sources.ts';
import { prepareOutputSort } from '../../lib/oracle-store/stream-sort/sort-output.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracle, oracleTask } from './oracle-context.ts';

/** oracle-stream-plan: idempotency, sort keys and the window plan of one output (windows fit the worker budget). */
export const handler = taskHandler(
  PlanRequest,
  async (request, { logger }) => {
    const { engine_run_prefix: prefix, scenario_id: scenarioId, output_id: outputId } = request;
    const store = engineRunReader(deps.s3, env.ORACLE_STORE_BUCKET, prefix);
    const sourceKeys = await outputSourceKeys(store, outputId, scenarioId);
    const budgetBytes =
      typeof request.budget_bytes === 'number' ? request.budget_bytes : oracle.STREAM_SORT_BUDGET_BYTES;
    const prepared = await withSortEngine(oracle, store, prefix, (engine, ws) =>
      prepareOutputSort(store, engine, ws, { outputId, scenarioId, sourceKeys, budgetBytes }),
    );
    logger.info('stream sort planned', {
      outputId,
      decision: prepared.decision,
      windows: prepared.windows.length,
    });
    return prepared;
  },
  oracleTask,
);
