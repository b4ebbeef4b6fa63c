import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStreamSortEngine } from '../../../lib/adapters/duckdb/stream-sort-engine.ts';
import { fileObjectStore } from '../../../lib/adapters/file-object-store.ts';
import { storeWorkspace } from '../../../lib/adapters/store-workspace.ts';
import type { StreamSortEngine } from '../../../lib/oracle-store/stream-sort/engine.ts';
import { partName, viewPrefix } from '../../../lib/oracle-store/stream-sort/receipt.ts';
import {
  finalizeOutputSort,
  prepareOutputSort,
  sortOutput,
  sortWindow,
  verifyStreamView,
  windowStats,
} from '../../../lib/oracle-store/stream-sort/sort-output.ts';

// Real DuckDB over real Parquet files on disk: three part files with interleaved times and exact ties.
const OUTPUT = 's3_event_stream_with_fraud_6B';
const SRC = `data/layer3/6B/${OUTPUT}/seed=7/parameter_hash=p/manifest_fingerprint=m/scenario_id=baseline_v1`;
let dir: string;
let engine: StreamSortEngine;
const ctx = {
  engineRunId: 'r'.repeat(32),
  worldKey: { manifest_fingerprint: 'm', parameter_hash: 'p', seed: 7, scenario_id: 'baseline_v1' },
  scenarioId: 'baseline_v1',
  now: new Date('2026-01-02T00:00:00Z'),
};

async function writeSources(root: string, rowsPerFile: number): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const keys: string[] = [];
  for (let f = 0; f < 3; f++) {
    const key = `${SRC}/part-0000${f}.parquet`;
    fs.mkdirSync(path.join(root, SRC), { recursive: true });
    // time = (row * 3 + f) seconds, with every 10th row of each file on the same instant as its neighbours (ties across files)
    await c.run(`COPY (SELECT (${f} * 1000000 + i)::BIGINT AS flow_id, i::INTEGER AS event_seq, 'AUTH_REQUEST' AS event_type,
        strftime(TIMESTAMP '2026-01-01' + to_seconds(CASE WHEN i % 10 = 0 THEN i * 3 ELSE i * 3 + ${f} END), '%Y-%m-%dT%H:%M:%S.%fZ') AS ts_utc,
        round(i * 1.25 + ${f}, 2) AS amount, ${f} AS src
      FROM range(${rowsPerFile}) r(i) ORDER BY random()) TO '${path.join(root, key)}' (FORMAT parquet, ROW_GROUP_SIZE 500)`);
    keys.push(key);
  }
  c.closeSync();
  db.closeSync();
  return keys;
}

async function readView(root: string): Promise<Array<{ ts_utc: string; src: number; flow_id: string }>> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const rows = (
    await c.runAndReadAll(
      `SELECT ts_utc, src, flow_id::VARCHAR AS flow_id FROM read_parquet('${path.join(root, viewPrefix(OUTPUT))}part-*.parquet', filename = true) ORDER BY filename, file_row_number`,
    )
  ).getRowObjectsJson();
  c.closeSync();
  db.closeSync();
  return rows as Array<{ ts_utc: string; src: number; flow_id: string }>;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-sort-'));
  engine = await openStreamSortEngine({
    memoryLimit: '512MB',
    threads: 2,
    tempDirectory: path.join(dir, 'duck'),
  });
});
afterAll(() => {
  engine?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('stream sort (DuckDB, window plan, receipts)', () => {
  it('orders ties and interleaved times across three files by (ts_utc, file, row) with equal stats; a rerun skips', async () => {
    const root = path.join(dir, 'one');
    const sources = await writeSources(root, 3000);
    const store = fileObjectStore(root);
    const ws = storeWorkspace(store, path.join(dir, 'ws-one'));
    const { receipt, prepared } = await sortOutput(
      store,
      engine,
      ws,
      { outputId: OUTPUT, scenarioId: 'baseline_v1', sourceKeys: sources, budgetBytes: 1 << 30 },
      ctx,
    );
    expect(prepared.windows).toHaveLength(1);
    expect(receipt.raw_stats).toEqual(receipt.sorted_stats);
    expect(receipt.raw_stats.row_count).toBe(9000);
    expect(receipt.sort_keys).toEqual(['ts_utc', 'filename', 'file_row_number']);
    const view = await readView(root);
    for (let i = 1; i < view.length; i++) {
      const [a, b] = [view[i - 1], view[i]];
      if (!a || !b) continue;
      expect(a.ts_utc <= b.ts_utc).toBe(true);
      if (a.ts_utc === b.ts_utc) expect(a.src).toBeLessThanOrEqual(b.src); // ties: file order
    }
    expect(view.filter((r, i) => i > 0 && view[i - 1]?.ts_utc === r.ts_utc).length).toBeGreaterThan(100);
    const again = await sortOutput(
      store,
      engine,
      ws,
      { outputId: OUTPUT, scenarioId: 'baseline_v1', sourceKeys: sources, budgetBytes: 1 << 30 },
      ctx,
    );
    expect(again.prepared.decision).toBe('skip');
    expect(again.receipt).toEqual(receipt);
  });

  it('yields the same rows in the same order with many windows as with one', async () => {
    const one = path.join(dir, 'w1');
    const many = path.join(dir, 'wn');
    const sources = await writeSources(one, 20_000);
    await writeSources(many, 20_000);
    const run = (root: string, budget: number) => {
      const store = fileObjectStore(root);
      return sortOutput(
        store,
        engine,
        storeWorkspace(store, `${root}-ws`),
        { outputId: OUTPUT, scenarioId: 'baseline_v1', sourceKeys: sources, budgetBytes: budget },
        ctx,
      );
    };
    const single = await run(one, 1 << 30);
    const windowed = await run(many, 200_000);
    expect(single.prepared.windows).toHaveLength(1);
    expect(windowed.prepared.windows.length).toBeGreaterThan(3);
    expect(windowed.receipt.sorted_stats).toEqual(single.receipt.sorted_stats);
    const [a, b] = [await readView(one), await readView(many)];
    expect(b.length).toBe(60_000);
    expect(b).toEqual(a);
  });

  it('validates by window as the state machine does: same stats as the whole-output check, and gaps fail', async () => {
    const whole = path.join(dir, 'whole');
    const byWindow = path.join(dir, 'by-window');
    const sources = await writeSources(whole, 20_000);
    await writeSources(byWindow, 20_000);
    const reference = await sortOutput(
      fileObjectStore(whole),
      engine,
      storeWorkspace(fileObjectStore(whole), `${whole}-ws`),
      { outputId: OUTPUT, scenarioId: 'baseline_v1', sourceKeys: sources, budgetBytes: 200_000 },
      ctx,
    );
    const store = fileObjectStore(byWindow);
    const ws = storeWorkspace(store, `${byWindow}-ws`);
    const prepared = await prepareOutputSort(store, engine, ws, {
      outputId: OUTPUT,
      scenarioId: 'baseline_v1',
      sourceKeys: sources,
      budgetBytes: 200_000,
    });
    expect(prepared.sourceRows).toBe(60_000);
    expect(prepared.windows.length).toBeGreaterThan(3);
    for (const w of prepared.windows) await sortWindow(engine, ws, prepared, w);
    const shares = [];
    for (const w of prepared.windows) shares.push(await windowStats(engine, ws, prepared, w));

    // A window's share missing, or windows that do not hold every source row, fail before any receipt.
    await expect(finalizeOutputSort(store, engine, ws, prepared, ctx, shares.slice(1))).rejects.toThrow(
      /STREAM_SORT_VALIDATION_FAILED.*stats of windows/,
    );
    await expect(
      finalizeOutputSort(store, engine, ws, { ...prepared, sourceRows: 60_001 }, ctx, shares),
    ).rejects.toThrow(/STREAM_SORT_VALIDATION_FAILED.*hold 60000 of the 60001 source rows/);
    const [first, ...rest] = shares;
    const corrupt = { ...first, view: { ...(first?.view ?? reference.receipt.sorted_stats), hash_sum: '1' } };
    await expect(
      finalizeOutputSort(store, engine, ws, prepared, ctx, [corrupt as (typeof shares)[number], ...rest]),
    ).rejects.toThrow(/STREAM_SORT_VALIDATION_FAILED.*hash_sum/);
    expect(await store.get(`${viewPrefix(OUTPUT)}_stream_sort_receipt.json`)).toBeUndefined();

    const receipt = await finalizeOutputSort(store, engine, ws, prepared, ctx, shares);
    expect(receipt.raw_stats).toEqual(reference.receipt.raw_stats);
    expect(receipt.sorted_stats).toEqual(reference.receipt.sorted_stats);
    expect(receipt.parts).toEqual(reference.receipt.parts);
  });

  it('fails STREAM_VIEW_PARTIAL_EXISTS on a stray part without a receipt', async () => {
    const root = path.join(dir, 'stray');
    const sources = await writeSources(root, 100);
    const store = fileObjectStore(root);
    await store.put(viewPrefix(OUTPUT) + partName(0), 'not really parquet');
    await expect(
      sortOutput(
        store,
        engine,
        storeWorkspace(store, `${root}-ws`),
        { outputId: OUTPUT, scenarioId: 'baseline_v1', sourceKeys: sources, budgetBytes: 1 << 30 },
        ctx,
      ),
    ).rejects.toMatchObject({
      name: 'STREAM_VIEW_PARTIAL_EXISTS',
    });
  });

  it('fails the receipt check for a tampered view', async () => {
    const root = path.join(dir, 'tamper');
    const sources = await writeSources(root, 500);
    const store = fileObjectStore(root);
    const { receipt } = await sortOutput(
      store,
      engine,
      storeWorkspace(store, `${root}-ws`),
      { outputId: OUTPUT, scenarioId: 'baseline_v1', sourceKeys: sources, budgetBytes: 1 << 30 },
      ctx,
    );
    await expect(
      verifyStreamView(store, engine, storeWorkspace(store, `${root}-ws2`), OUTPUT, 'ts_utc'),
    ).resolves.toEqual(receipt);
    // replace the part by the view without its first row
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const part = path.join(root, viewPrefix(OUTPUT), partName(0));
    await c.run(`COPY (SELECT * FROM read_parquet('${part}') OFFSET 1) TO '${part}.new' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    fs.renameSync(`${part}.new`, part);
    await expect(
      verifyStreamView(store, engine, storeWorkspace(store, `${root}-ws3`), OUTPUT, 'ts_utc'),
    ).rejects.toMatchObject({ name: 'STREAM_RECEIPT_MISMATCH' });
  });
});
