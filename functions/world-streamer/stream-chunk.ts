import { openStreamViewReader } from '../../lib/adapters/duckdb/stream-view-reader.ts';
import { s3ObjectReader } from '../../lib/adapters/s3-object-store.ts';
import { streamChunkPorts } from '../../lib/adapters/world-streamer-dependencies.ts';
import { parseS3Uri } from '../../lib/adapters/world-streamer-stores.ts';
import { oracleEnvironment } from '../../lib/runtime/oracle-config.ts';
import { runChunk } from '../../lib/world-streamer/chunk.ts';
import { ChunkInput } from '../../lib/world-streamer/stream-contracts.ts';
import { deps, log, logger, parseRequest, settings, wsp } from './world-streamer-context.ts';

const ports = streamChunkPorts(wsp, deps);

/**
 * world-streamer-stream-chunk: one chunk of one output (control-ingress.md §4.4–§4.7): read from the checkpoint,
 * build envelopes, pace, push to IG, advance the checkpoint. The state machine loops on CONTINUE / WAIT.
 */

const duckdb = oracleEnvironment();
let reader: ReturnType<typeof openStreamViewReader> | undefined;
const views = () => {
  reader ??= openStreamViewReader({
    open(root) {
      const uri = parseS3Uri(root);
      if (!uri) throw new Error(`engine_run_root ${root}: expected s3://bucket/prefix`);
      return s3ObjectReader(deps.s3, uri.bucket, uri.key);
    },
    duckdb: {
      memoryLimit: duckdb.DUCKDB_MEMORY_LIMIT,
      threads: duckdb.DUCKDB_THREADS,
      tempDirectory: duckdb.DUCKDB_TEMP_DIRECTORY,
    },
    workspaceDir: wsp.WSP_WORKSPACE_DIR,
  }).catch((error) => {
    reader = undefined;
    throw error;
  });
  return reader;
};

export const handler = async (event: unknown) => {
  const input = parseRequest(ChunkInput, event);
  const result = await runChunk(
    {
      checkpoints: await ports.checkpoints(),
      views: await views(),
      ig: ports.ig,
      clock: ports.clock,
      sleeper: ports.sleeper,
      random: ports.random,
      log,
    },
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
};
