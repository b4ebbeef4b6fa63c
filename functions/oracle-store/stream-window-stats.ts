import { engineRunReader } from '../../lib/adapters/oracle-dependencies.ts';
import { withSortEngine } from '../../lib/adapters/oracle-sort-engine.ts';
import { SortWindowRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { windowStats } from '../../lib/oracle-store/stream-sort/sort-output.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { deps, env, oracle, oracleTask } from './oracle-context.ts';

/** oracle-stream-window-stats: one window's share of the validation (its source rows and its part's rows). */
export const handler = taskHandler(
  SortWindowRequest,
  async ({ engine_run_prefix: prefix, prepared, window }, { logger }) => {
    const store = engineRunReader(deps.s3, env.ORACLE_STORE_BUCKET, prefix);
    const result = await withSortEngine(oracle, store, prefix, (engine, ws) =>
      windowStats(engine, ws, prepared, window),
    );
    logger.info('window validated', {
      outputId: prepared.outputId,
      window: window.index,
      rows: result.source.row_count,
    });
    return { output_id: prepared.outputId, windows: prepared.windows.length, ...result };
  },
  oracleTask,
);
