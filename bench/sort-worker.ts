import path from 'node:path';
import { openStreamSortEngine } from '../lib/adapters/duckdb/stream-sort-engine.ts';
import { fileObjectStore } from '../lib/adapters/file-object-store.ts';
import { storeWorkspace } from '../lib/adapters/store-workspace.ts';
import {
  finalizeOutputSort,
  prepareOutputSort,
  sortWindow,
} from '../lib/oracle-store/stream-sort/sort-output.ts';

// One stream-sort worker process (bench): `pipeline ROOT KEYS_JSON BUDGET_BYTES MEMORY_LIMIT` or `bare ROOT KEYS_JSON MEMORY_LIMIT`.
const [mode, root = '', keysJson = '[]', a = '', b = ''] = process.argv.slice(2);
const keys = JSON.parse(keysJson) as string[];
const seconds = (t: number) => (performance.now() - t) / 1000;

if (mode === 'bare') {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', {
    memory_limit: a,
    threads: '2',
    temp_directory: path.join(root, 'duck-bare'),
  });
  const c = await db.connect();
  const files = keys.map((k) => `'${path.join(root, k)}'`).join(', ');
  const t = performance.now();
  await c.run(`COPY (SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet([${files}], filename = true, file_row_number = true)
    ORDER BY CAST(ts_utc AS TIMESTAMP), filename, file_row_number) TO '${path.join(root, 'bare.parquet')}' (FORMAT parquet, COMPRESSION zstd)`);
  console.log(
    JSON.stringify({ sortSeconds: seconds(t), maxRssBytes: process.resourceUsage().maxRSS * 1024 }),
  );
} else {
  const store = fileObjectStore(root);
  const engine = await openStreamSortEngine({
    memoryLimit: b,
    threads: 2,
    tempDirectory: path.join(root, 'duck-pipeline'),
  });
  const ws = storeWorkspace(store, path.join(root, 'workspace'));
  const req = {
    outputId: 's3_event_stream_with_fraud_6B',
    scenarioId: 'baseline_v1',
    sourceKeys: keys,
    budgetBytes: Number(a),
  };
  const t0 = performance.now();
  const prepared = await prepareOutputSort(store, engine, ws, req);
  let rows = 0;
  for (const w of prepared.windows) rows += (await sortWindow(engine, ws, prepared, w)).rows;
  const sortSeconds = seconds(t0);
  const t1 = performance.now();
  const receipt = await finalizeOutputSort(store, engine, ws, prepared, {
    engineRunId: 'bench',
    worldKey: { manifest_fingerprint: 'm', parameter_hash: 'p', seed: 1, scenario_id: 'baseline_v1' },
    scenarioId: 'baseline_v1',
    now: new Date(),
  });
  console.log(
    JSON.stringify({
      sortSeconds,
      finalizeSeconds: seconds(t1),
      windows: prepared.windows.length,
      rows,
      validated: receipt.raw_stats.row_count,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    }),
  );
  engine.close();
}
