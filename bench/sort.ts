import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Bench, type Ratio, type Row, ratio, row } from './report.ts';

/**
 * `npm run bench -- sort`: the pipeline's stream sort (window plan + windowed DuckDB sorts + validation, one
 * worker process) beside a bare DuckDB `COPY … ORDER BY ts_utc, filename, file_row_number` over the same local
 * files, with each process's peak RSS beside the worker's budget. `--smoke`: 200k rows in 4 files.
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

const CASES = {
  full: [
    { name: '5M', rows: 5_000_000, files: 8, budget: 1 * GB, memoryLimit: '1GB', bare: true },
    { name: '20M', rows: 20_000_000, files: 16, budget: 1 * GB, memoryLimit: '1GB', bare: false },
  ],
  smoke: [{ name: '200k', rows: 200_000, files: 4, budget: 1 * GB, memoryLimit: '1GB', bare: true }],
};

export const sortBench: Bench = {
  name: 'sort',
  summary: 'the stream sort (windows + DuckDB + validation, one worker) beside a bare DuckDB ORDER BY',
  async run({ smoke, say }) {
    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    const detail: Record<string, unknown> = {};
    const cases = smoke ? CASES.smoke : CASES.full;
    for (const k of cases) {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), `bench-sort-${k.name}-`));
      try {
        say(`bench sort ${k.name}: generating ${k.rows.toLocaleString()} rows in ${k.files} files`);
        const keys = await generate(root, k.rows, k.files);
        let bareRow: Row | undefined;
        if (k.bare) {
          const bare = worker(['bare', root, JSON.stringify(keys), k.memoryLimit]);
          bareRow = row(
            `${k.name}: bare DuckDB sort`,
            k.rows / (bare.sortSeconds ?? 1),
            'rows/s',
            `${bare.sortSeconds?.toFixed(2)} s, peak RSS ${((bare.maxRssBytes ?? 0) / GB).toFixed(2)} GB, memory_limit ${k.memoryLimit} (the ceiling)`,
          );
          rows.push(bareRow);
          detail[`${k.name}.bare`] = bare;
          say(`  ${bareRow.name}: ${bareRow.note}`);
        }
        const p = worker(['pipeline', root, JSON.stringify(keys), String(k.budget), k.memoryLimit]);
        detail[`${k.name}.pipeline`] = p;
        const sortRow = row(
          `${k.name}: pipeline sort`,
          k.rows / (p.sortSeconds ?? 1),
          'rows/s',
          `${p.windows} windows, ${p.sortSeconds?.toFixed(2)} s`,
        );
        const endRow = row(
          `${k.name}: pipeline sort + validation`,
          k.rows / ((p.sortSeconds ?? 0) + (p.finalizeSeconds ?? 0)),
          'rows/s',
          `validation ${p.finalizeSeconds?.toFixed(2)} s`,
        );
        const rssRow = row(
          `${k.name}: pipeline peak RSS`,
          (p.maxRssBytes ?? 0) / GB,
          'GB',
          `worker budget ${(k.budget / GB).toFixed(2)} GB`,
        );
        const budgetRow = row(`${k.name}: worker budget`, k.budget / GB, 'GB', 'the memory ceiling');
        rows.push(sortRow, endRow, rssRow, budgetRow);
        say(
          `  pipeline: ${p.windows} windows, sort ${p.sortSeconds?.toFixed(2)} s + validation ${p.finalizeSeconds?.toFixed(2)} s, peak RSS ${rssRow.value} GB`,
        );
        if (bareRow) ratios.push(ratio(sortRow, bareRow, 'pipeline sort speed / bare DuckDB sort speed'));
        ratios.push(ratio(rssRow, budgetRow, 'peak RSS / worker budget (≤ 1 holds the budget)'));
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    }
    return {
      rows,
      ratios,
      detail,
      notes: {
        cases,
        ceiling:
          'speed: a bare DuckDB COPY … ORDER BY ts_utc, filename, file_row_number over the same files in its own process; memory: the worker budget',
      },
    };
  },
};
