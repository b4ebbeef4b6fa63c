import { s3StreamViews } from '../../lib/adapters/duckdb/s3-stream-views.ts';
import { streamChunkPorts, streamLog } from '../../lib/adapters/world-streamer-dependencies.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { oracleEnvironment } from '../../lib/runtime/oracle-config.ts';
import { runChunk } from '../../lib/world-streamer/chunk.ts';
import { ChunkInput } from '../../lib/world-streamer/stream-contracts.ts';
import { deps, settings, streamTask, wsp } from './world-streamer-context.ts';

const ports = streamChunkPorts(wsp, deps);
const duckdb = oracleEnvironment();
const views = s3StreamViews(
  deps.s3,
  {
    memoryLimit: duckdb.DUCKDB_MEMORY_LIMIT,
    threads: duckdb.DUCKDB_THREADS,
    tempDirectory: duckdb.DUCKDB_TEMP_DIRECTORY,
  },
  wsp.WSP_WORKSPACE_DIR,
);

/**
 * world-streamer-stream-chunk: one chunk of one output (control-ingress.md §4.4–§4.7): read from the checkpoint,
 * build envelopes, pace, push to IG, advance the checkpoint. The state machine loops on CONTINUE / WAIT.
 */
export const handler = taskHandler(
  ChunkInput,
  async (input, { logger }) => {
    const { checkpoints, ...rest } = ports;
    const result = await runChunk(
      { ...rest, checkpoints: await checkpoints(), views: await views(), log: streamLog(logger) },
      input,
      settings,
    );
    logger.debug('chunk', {
      session: input.plan.session_id,
      outputId: result.output_id,
      status: result.status,
      pushed: result.pushed,
      emitted: result.emitted,
      nextRow: result.next_row,
    });
    return result;
  },
  streamTask,
);
