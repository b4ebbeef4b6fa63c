import type { ObjectReader, ObjectStore } from '../oracle-store/object-store.ts';
import type { SortWorkspace, StreamSortEngine } from '../oracle-store/stream-sort/engine.ts';
import type { OracleEnvironment } from '../runtime/oracle-config.ts';
import { openStreamSortEngine } from './duckdb/stream-sort-engine.ts';
import { storeWorkspace } from './store-workspace.ts';

/**
 * The stream sort's DuckDB engine, apart from oracle-dependencies.ts so that only the functions that sort (and
 * have the DuckDB layer) load @duckdb/node-api; sync, seal and check never do.
 */

/** A DuckDB engine per invocation (closed after use) and a workspace per engine run under /tmp. */
export async function withSortEngine<T>(
  env: OracleEnvironment,
  /** Writable (`put`) only for the functions that upload a part; the workspace of the others is read-only. */
  store: ObjectReader & Partial<Pick<ObjectStore, 'put'>>,
  engineRunPrefix: string,
  work: (engine: StreamSortEngine, workspace: SortWorkspace) => Promise<T>,
): Promise<T> {
  const engine = await openStreamSortEngine({
    memoryLimit: env.DUCKDB_MEMORY_LIMIT,
    threads: env.DUCKDB_THREADS,
    tempDirectory: env.DUCKDB_TEMP_DIRECTORY,
  });
  try {
    return await work(
      engine,
      storeWorkspace(store, `${env.ORACLE_WORKSPACE_DIR}/${engineRunPrefix.replace(/[^\w.-]+/g, '_')}`),
    );
  } finally {
    engine.close();
  }
}
