import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../oracle-store/object-store.ts';
import type { SortWorkspace, StreamSortEngine } from '../oracle-store/stream-sort/engine.ts';
import type { OracleEnvironment } from '../runtime/oracle-config.ts';
import { openStreamSortEngine } from './duckdb/stream-sort-engine.ts';
import { fileObjectStore } from './file-object-store.ts';
import { s3ObjectStore } from './s3-object-store.ts';
import { storeWorkspace } from './store-workspace.ts';

/** Where the Oracle Store functions read and write: engine run roots in the oracle-store bucket, scratch in /tmp. */

/** `file:///abs/dir` (a world on the local disk: local cloud and CLI only) or `s3://bucket/prefix`. */
export function worldSourceStore(s3: S3Client, source: string): ObjectStore {
  if (source.startsWith('file://')) return fileObjectStore(new URL(source).pathname);
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source);
  if (!m?.[1])
    throw new Error(`WORLD_SOURCE_INVALID: ${source} (expected file:///dir or s3://bucket/prefix)`);
  return s3ObjectStore(s3, m[1], m[2] ?? '');
}

export function engineRunStore(s3: S3Client, bucket: string, engineRunPrefix: string): ObjectStore {
  return s3ObjectStore(s3, bucket, engineRunPrefix);
}

/** A DuckDB engine per invocation (closed after use) and a workspace per engine run under /tmp. */
export async function withSortEngine<T>(
  env: OracleEnvironment,
  store: ObjectStore,
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
