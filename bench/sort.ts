import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * `npm run bench -- sort`: the pipeline's stream sort (window plan + windowed DuckDB sorts + validation, one
 * worker process) beside a bare DuckDB `COPY … ORDER BY ts_utc, filename, file_row_number` over the same local
 * files, with each process's peak RSS beside the worker's budget. Writes bench/results/sort.json.
 */

const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const SRC =
  'data/layer3/6B/s3_event_stream_with_fraud_6B/seed=1/parameter_hash=p/manifest_fingerprint=m/scenario_id=baseline_v1';
const GB = 1024 ** 3;

async function generate(root: string, rows: number, files: number): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '2GB' });
  const c = await db.connect();
  fs.mkdirSync(path.join(root, SRC), { recursive: true });
  const keys: string[] = [];
  const per = Math.ceil(rows / files);
  for (let f = 0; f < files; f++) {
    const key = `${SRC}/part-${String(f).padStart(5, '0')}.parquet`;
    await c.run(`COPY (SELECT (i + ${f * per})::BIGINT * 1000003 AS flow_id, (i % 7)::INTEGER AS event_seq, 'AUTH_REQUEST' AS event_type,
        strftime(TIMESTAMP '2026-01-01' + to_microseconds((hash(i, ${f}) % 86400000000)::BIGINT), '%Y-%m-%dT%H:%M:%S.%fZ') AS ts_utc,
        round((hash(i) % 100000) / 100.0, 2) AS amount, 1::BIGINT AS seed, 'm' AS manifest_fingerprint, 'p' AS parameter_hash, 'baseline_v1' AS scenario_id
      FROM range(${per}) r(i)) TO '${path.join(root, key)}' (FORMAT parquet, COMPRESSION zstd)`);
    keys.push(key);
  }
  c.closeSync();
  db.closeSync();
  return keys;
}

function worker(args: string[]): Record<string, number> {
  const out = execFileSync(process.execPath, [tsx, 'bench/sort-worker.ts', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

export async function benchSort(): Promise<void> {
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
  };
  const cases = [
    { name: '5M', rows: 5_000_000, files: 8, budget: 1 * GB, memoryLimit: '1GB', bare: true },
    { name: '20M', rows: 20_000_000, files: 16, budget: 1 * GB, memoryLimit: '1GB', bare: false },
  ];
  for (const k of cases) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `bench-sort-${k.name}-`));
    try {
      console.log(`bench sort ${k.name}: generating ${k.rows.toLocaleString()} rows in ${k.files} files`);
      const keys = await generate(root, k.rows, k.files);
      const row: Record<string, unknown> = {
        rows: k.rows,
        budgetBytes: k.budget,
        memoryLimit: k.memoryLimit,
      };
      if (k.bare) {
        const bare = worker(['bare', root, JSON.stringify(keys), k.memoryLimit]);
        row.bare = { ...bare, rowsPerSecond: Math.round(k.rows / (bare.sortSeconds ?? 1)) };
        console.log(
          `  bare DuckDB: ${bare.sortSeconds?.toFixed(2)} s, peak RSS ${((bare.maxRssBytes ?? 0) / GB).toFixed(2)} GB`,
        );
      }
      const p = worker(['pipeline', root, JSON.stringify(keys), String(k.budget), k.memoryLimit]);
      row.pipeline = {
        ...p,
        sortRowsPerSecond: Math.round(k.rows / (p.sortSeconds ?? 1)),
        endToEndRowsPerSecond: Math.round(k.rows / ((p.sortSeconds ?? 0) + (p.finalizeSeconds ?? 0))),
        rssOverBudget: Number(((p.maxRssBytes ?? 0) / k.budget).toFixed(2)),
      };
      console.log(
        `  pipeline: ${p.windows} windows, sort ${p.sortSeconds?.toFixed(2)} s + validation ${p.finalizeSeconds?.toFixed(2)} s, peak RSS ${((p.maxRssBytes ?? 0) / GB).toFixed(2)} GB (${(row.pipeline as { rssOverBudget: number }).rssOverBudget}× budget)`,
      );
      if (k.bare) {
        const ratio =
          (row.pipeline as { sortRowsPerSecond: number }).sortRowsPerSecond /
          (row.bare as { rowsPerSecond: number }).rowsPerSecond;
        row.sortSpeedVsBare = Number(ratio.toFixed(2));
        console.log(`  pipeline sort speed / bare DuckDB: ${row.sortSpeedVsBare}`);
      }
      results[k.name] = row;
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync('bench/results/sort.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('bench sort: results in bench/results/sort.json');
}
