import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStreamViewReader } from '../../../lib/adapters/duckdb/stream-view-reader.ts';
import { fileObjectStore } from '../../../lib/adapters/file-object-store.ts';
import { canonicalJson, PyFloat } from '../../../lib/contracts/canonical-json.ts';

/** The DuckDB stream-view reader on real Parquet parts in a temporary engine run root (no S3). */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stream-view-reader-'));
const root = path.join(dir, 'engine-run');
const view = path.join(root, 'stream_view/ts_utc/output_id=demo_output');
let reader: Awaited<ReturnType<typeof openStreamViewReader>>;

beforeAll(async () => {
  fs.mkdirSync(view, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  // Part 0: rows 0..2, part 1: rows 3..4; 64-bit ids beyond 2^53, a float that is integer-valued, a NULL.
  await c.run(`COPY (SELECT * FROM (VALUES
      (9223372036854775807::BIGINT, 18446744073709551615::UBIGINT, 12.0::DOUBLE, 'a', true, NULL::VARCHAR, 0),
      (9007199254740993::BIGINT, 1::UBIGINT, 12.5::DOUBLE, 'b', false, 'x', 1),
      (3::BIGINT, 2::UBIGINT, 0.1::DOUBLE, 'c', true, NULL, 2)
    ) AS t(flow_id, merchant_id, amount, ts_utc, flag, campaign_id, n)) TO '${view}/part-000000.parquet' (FORMAT parquet)`);
  await c.run(`COPY (SELECT * FROM (VALUES
      (4::BIGINT, 3::UBIGINT, 1e-07::DOUBLE, 'd', false, NULL::VARCHAR, 3),
      (5::BIGINT, 4::UBIGINT, 1e16::DOUBLE, 'e', true, 'y', 4)
    ) AS t(flow_id, merchant_id, amount, ts_utc, flag, campaign_id, n)) TO '${view}/part-000001.parquet' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
  reader = await openStreamViewReader({
    open: () => fileObjectStore(root),
    duckdb: { memoryLimit: '256MB', threads: 1, tempDirectory: path.join(dir, 'duckdb') },
    workspaceDir: path.join(dir, 'workspace'),
  });
});

afterAll(() => {
  reader?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('stream-view reader', () => {
  it('reads rows in view order across parts from a global offset, with exact value types', async () => {
    const rows = await reader.read({ engineRunRoot: root, outputId: 'demo_output', fromRow: 1, limit: 3 });
    expect(rows.map((r) => [path.basename(r.file), r.file_row_index])).toEqual([
      ['part-000000.parquet', 1],
      ['part-000000.parquet', 2],
      ['part-000001.parquet', 0],
    ]);
    expect(rows[0]?.row).toEqual({
      flow_id: 9007199254740993n,
      merchant_id: 1n,
      amount: new PyFloat(12.5),
      ts_utc: 'b',
      flag: false,
      campaign_id: 'x',
      n: 1,
    });
    expect(rows.every((r) => !('file_row_number' in r.row) && !('output_id' in r.row))).toBe(true);
  });

  it('keeps 64-bit ids and Python float forms exact in canonical JSON', async () => {
    const [first] = await reader.read({ engineRunRoot: root, outputId: 'demo_output', fromRow: 0, limit: 1 });
    expect(canonicalJson(first?.row)).toBe(
      '{"amount":12.0,"campaign_id":null,"flag":true,"flow_id":9223372036854775807,"merchant_id":18446744073709551615,"n":0,"ts_utc":"a"}',
    );
    const tail = await reader.read({ engineRunRoot: root, outputId: 'demo_output', fromRow: 3, limit: 10 });
    expect(tail.map((r) => canonicalJson(r.row.amount))).toEqual(['1e-07', '1e+16']);
  });

  it('returns fewer rows than the limit only at the end of the view', async () => {
    expect(
      await reader.read({ engineRunRoot: root, outputId: 'demo_output', fromRow: 4, limit: 5 }),
    ).toHaveLength(1);
    expect(await reader.read({ engineRunRoot: root, outputId: 'demo_output', fromRow: 5, limit: 5 })).toEqual(
      [],
    );
  });
});
