import { engineRunStore } from '../../lib/adapters/oracle-dependencies.ts';
import { withSortEngine } from '../../lib/adapters/oracle-sort-engine.ts';
import { SortWindowRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { sortWindow } from '../../lib/oracle-store/stream-sort/sort-output.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracle, oracleTask } from './oracle-context.ts';

/** oracle-stream-sort-window: one window of one output, sorted by DuckDB into part-NNNNNN.parquet. */
export const handler = taskHandler(
  SortWindowRequest,
  async ({ engine_run_prefix: prefix, prepared, window }, { logger }) => {
    const store = engineRunStore(deps.s3, env.ORACLE_STORE_BUCKET, prefix);
    const result = await withSortEngine(oracle, store, prefix, (engine, ws) =>
      sortWindow(engine, ws, prepared, window),
    );
    logger.info('window sorted', { outputId: prepared.outputId, window: window.index, rows: result.rows });
    return {
      output_id: prepared.outputId,
      window: window.index,
      windows: prepared.windows.length,
      ...result,
    };
  },
  oracleTask,
);
