import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaClient } from '../../../lib/adapters/aws-clients.ts';
import { runOraclePipeline } from '../../../tools/oracle-pipeline-runner.ts';
import { generateWorld } from '../../../tools/world/generate.ts';
import { clientsFor } from '../../support/clients.ts';

/**
 * The oracle-pipeline state machine on the local cloud, on a generated world: sync -> seal -> check -> per output
 * plan, Map(sort windows with DuckDB) and finalize, through the real Step Functions runner and Lambdas.
 */

const { state } = inject('stack');
const { s3, sfn } = clientsFor(state);
const machine = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
const BUCKET = 'oracle-store';
const EVENTS_OUTPUT = 's3_event_stream_with_fraud_6B';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oracle-pipeline-'));
const world = path.join(dir, 'world');
let db: Awaited<ReturnType<typeof DuckDBInstance.create>>;

async function rowsOf(sql: string): Promise<{ columns: string[]; rows: string[] }> {
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    const rows = reader.getRowsJson().map((r) => JSON.stringify(r));
    return { columns, rows };
  } finally {
    connection.closeSync();
  }
}

/** Every key under a prefix of the oracle-store bucket. */
async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

/** Downloads a committed view's parts; returns local paths in part order. */
async function downloadView(engineRunPrefix: string, outputId: string, into: string): Promise<string[]> {
  const prefix = `${engineRunPrefix}/stream_view/ts_utc/output_id=${outputId}/`;
  const parts = (await listKeys(prefix)).filter((k) => k.endsWith('.parquet'));
  fs.mkdirSync(into, { recursive: true });
  const out: string[] = [];
  for (const key of parts) {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const local = path.join(into, path.posix.basename(key));
    fs.writeFileSync(local, await (got.Body?.transformToByteArray() ?? new Uint8Array()));
    out.push(local);
  }
  return out;
}

async function receiptOf(engineRunPrefix: string, outputId: string) {
  const got = await s3.send(
    new GetObjectCommand({
      Bucket: BUCKET,
      Key: `${engineRunPrefix}/stream_view/ts_utc/output_id=${outputId}/_stream_sort_receipt.json`,
    }),
  );
  return JSON.parse((await got.Body?.transformToString()) ?? '{}');
}

/** The one-window sort, by definition: DuckDB over the world's own part files. */
function sourceFiles(outputId: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet') && p.includes(`/${outputId}/`)) found.push(p);
    }
  };
  walk(world);
  return found.sort();
}

const list = (paths: string[]) => `[${paths.map((p) => `'${p}'`).join(', ')}]`;

describe('oracle-pipeline on the local cloud', () => {
  let first: Awaited<ReturnType<typeof runOraclePipeline>>;
  const progress: string[] = [];

  beforeAll(async () => {
    db = await DuckDBInstance.create(':memory:');
    await generateWorld({ out: world, events: 20_000, seed: 4242n });
    // A budget of 1 MiB makes the event stream need several windows.
    first = await runOraclePipeline(
      sfn,
      machine?.arn ?? 'missing',
      { world_source: `file://${world}`, scenario_id: 'baseline_v1', sort_budget_bytes: 1 << 20 },
      (p) => progress.push(p.line),
    );
  }, 300_000);

  afterAll(() => {
    db?.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('succeeds with the check OK and a view per context and traffic output', () => {
    expect(first.error ?? first.status).toBe('SUCCEEDED');
    expect(first.summary?.check).toBe('OK');
    expect(first.summary?.views.map((v) => v.output_id).sort()).toEqual(
      [
        'arrival_events_5B',
        's1_arrival_entities_6B',
        's3_event_stream_with_fraud_6B',
        's3_flow_anchor_with_fraud_6B',
      ].sort(),
    );
    expect(progress.some((l) => l.startsWith('sync'))).toBe(true);
    expect(progress.filter((l) => l.includes('view validated and committed'))).toHaveLength(4);
    // Every window sorted is also validated by its own worker.
    const sorted = progress.filter((l) => / window \d+ sorted/.test(l)).length;
    expect(sorted).toBeGreaterThan(4);
    expect(progress.filter((l) => / window \d+ validated/.test(l))).toHaveLength(sorted);
  });

  it('sorts the event stream in several windows into exactly the one-window order, with the source columns', async () => {
    const prefix = first.summary?.engine_run_prefix ?? '';
    const view = first.summary?.views.find((v) => v.output_id === EVENTS_OUTPUT);
    expect(view?.parts).toBeGreaterThan(1);
    const parts = await downloadView(prefix, EVENTS_OUTPUT, path.join(dir, 'view'));
    const sources = sourceFiles(EVENTS_OUTPUT);
    expect(sources.length).toBeGreaterThan(1);
    const fromView = await rowsOf(
      `SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet(${list(parts)}, hive_partitioning = false, file_row_number = true, filename = true) ORDER BY filename, file_row_number`,
    );
    const bare = await rowsOf(
      `SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet(${list(sources)}, hive_partitioning = false, filename = true, file_row_number = true) ORDER BY ts_utc, filename, file_row_number`,
    );
    const sourceColumns = await rowsOf(
      `SELECT * FROM read_parquet('${sources[0]}', hive_partitioning = false) LIMIT 0`,
    );
    expect(fromView.columns).toEqual(sourceColumns.columns);
    expect(fromView.rows.length).toBe(bare.rows.length);
    expect(fromView.rows).toEqual(bare.rows);
    // Ties exist across part files, so the file/row tie-break is exercised.
    const ties = await rowsOf(
      `SELECT count(*) AS n FROM (SELECT ts_utc FROM read_parquet(${list(sources)}, hive_partitioning = false, filename = true) GROUP BY ts_utc HAVING count(DISTINCT filename) > 1)`,
    );
    expect(Number(JSON.parse(ties.rows[0] ?? '[]')[0])).toBeGreaterThan(0);
  });

  it('records matching source and view stats in each receipt', async () => {
    const prefix = first.summary?.engine_run_prefix ?? '';
    for (const v of first.summary?.views ?? []) {
      const receipt = await receiptOf(prefix, v.output_id);
      expect(receipt.status).toBe('OK');
      expect(receipt.sorted_stats).toEqual(receipt.raw_stats);
      expect(receipt.raw_stats.row_count).toBe(v.rows);
      expect(receipt.sort_keys.slice(-2)).toEqual(['filename', 'file_row_number']);
    }
  });

  it('a second run syncs nothing, re-seals identically and skips every view', async () => {
    const again = await runOraclePipeline(
      sfn,
      machine?.arn ?? 'missing',
      { world_source: `file://${world}`, scenario_id: 'baseline_v1' },
      () => undefined,
    );
    expect(again.error ?? again.status).toBe('SUCCEEDED');
    expect(again.summary?.oracle_pack_id).toBe(first.summary?.oracle_pack_id);
    expect(again.summary?.views.every((v) => v.decision === 'skip')).toBe(true);
    expect(again.summary?.views.map((v) => v.rows)).toEqual(first.summary?.views.map((v) => v.rows));
    const syncOut = again.history.map((e) => e.stateExitedEventDetails).find((d) => d?.name === 'Sync');
    const sync = JSON.parse(syncOut?.output ?? '{}').sync;
    expect(sync.copied).toBe(0);
    expect(sync.skipped).toBe(sync.objects);
  }, 300_000);

  it('§9.6 on the oracle-seal Lambda: the same inputs re-seal as a no-op, another engine_release is MANIFEST_MISMATCH', async () => {
    const lambda = lambdaClient({ region: state.region, lambda: state.endpoints.lambda });
    const seal = async (engineRelease: string) => {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: state.functions.find((f) => f.endsWith('-oracle-seal')) ?? 'oracle-seal',
          Payload: Buffer.from(
            JSON.stringify({
              engine_run_prefix: first.summary?.engine_run_prefix,
              scenario_id: 'baseline_v1',
              engine_release: engineRelease,
            }),
          ),
        }),
      );
      return {
        error: out.FunctionError,
        text: Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'),
      };
    };
    const same = await seal('synthetic-world-v1');
    expect(same.error).toBeUndefined();
    expect(JSON.parse(same.text)).toMatchObject({
      oracle_pack_id: first.summary?.oracle_pack_id,
      created: false,
    });
    const other = await seal('another-engine-release');
    expect(other.error).toBeTruthy();
    expect(other.text).toContain('MANIFEST_MISMATCH');
    // The sealed manifest is unchanged.
    const again = await seal('synthetic-world-v1');
    expect(JSON.parse(again.text)).toMatchObject({
      oracle_pack_id: first.summary?.oracle_pack_id,
      created: false,
    });
  });

  it('sorts the truth outputs by their key overrides when asked for them', async () => {
    const done = await runOraclePipeline(
      sfn,
      machine?.arn ?? 'missing',
      {
        world_source: `file://${world}`,
        scenario_id: 'baseline_v1',
        output_ids: ['s4_event_labels_6B'],
      },
      () => undefined,
    );
    expect(done.error ?? done.status).toBe('SUCCEEDED');
    const receipt = await receiptOf(done.summary?.engine_run_prefix ?? '', 's4_event_labels_6B');
    expect(receipt.sort_keys).toEqual(['flow_id', 'event_seq', 'filename', 'file_row_number']);
  }, 300_000);

  it('stops at the check when a gate bundle was tampered with, naming the gate', async () => {
    const tampered = path.join(dir, 'tampered');
    fs.cpSync(world, tampered, { recursive: true });
    const bundle = fs
      .readdirSync(path.join(tampered, 'data/layer1/1B/validation'), { recursive: true })
      .map(String)
      .find((f) => f.endsWith('s9_summary_1B.json'));
    const member = path.join(tampered, 'data/layer1/1B/validation', bundle ?? 'missing');
    fs.writeFileSync(member, `${fs.readFileSync(member, 'utf8')} `);
    const done = await runOraclePipeline(
      sfn,
      machine?.arn ?? 'missing',
      {
        world_source: `file://${tampered}`,
        engine_run_prefix: 'engine-runs/tampered-world',
        scenario_id: 'baseline_v1',
      },
      () => undefined,
    );
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ORACLE_CHECK_FAILED');
    expect(done.cause).toMatch(/1B/);
    expect(await listKeys('engine-runs/tampered-world/stream_view/')).toEqual([]);
  }, 300_000);
});
