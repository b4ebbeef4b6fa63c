import { engineRunWriteOnceStore } from '../../lib/adapters/oracle-dependencies.ts';
import { withSortEngine } from '../../lib/adapters/oracle-sort-engine.ts';
import { FinalizeRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { readWorldKey } from '../../lib/oracle-store/seal.ts';
import { finalizeOutputSort } from '../../lib/oracle-store/stream-sort/sort-output.ts';
import { deps, env, logger, oracle, parseRequest } from './oracle-context.ts';

/** oracle-stream-finalize: source and view stats must match, then the receipt, then the manifest. */
export const handler = async (event: unknown) => {
  const request = parseRequest(FinalizeRequest, event);
  const { engine_run_prefix: prefix, scenario_id: scenarioId, prepared, window_stats: windows } = request;
  const store = engineRunWriteOnceStore(deps.s3, env.ORACLE_STORE_BUCKET, prefix);
  const world = await readWorldKey(store, scenarioId);
  const ctx = {
    engineRunId: prefix.split('/').at(-1) ?? prefix,
    worldKey: world,
    scenarioId,
    now: new Date(),
  };
  const receipt = await withSortEngine(oracle, store, prefix, (engine, ws) =>
    finalizeOutputSort(
      store,
      engine,
      ws,
      prepared,
      ctx,
      windows?.map((w) => ({ index: w.index, part: w.part, source: w.source, view: w.view })),
    ),
  );
  logger.info('stream view committed', { outputId: prepared.outputId, rows: receipt.sorted_stats.row_count });
  return {
    output_id: receipt.output_id,
    stream_view_id: receipt.stream_view_id,
    decision: prepared.decision,
    rows: receipt.sorted_stats.row_count,
    parts: receipt.parts.length,
    min_ts_utc: receipt.sorted_stats.min_ts_utc,
    max_ts_utc: receipt.sorted_stats.max_ts_utc,
  };
};
