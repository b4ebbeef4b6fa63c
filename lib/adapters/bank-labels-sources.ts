import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { RtdlPins } from '../contracts/decision-lane.ts';
import { InvariantViolation } from '../errors/platform-error.ts';
import type { BankViewLoadPorts } from '../label-store/bank-view-load.ts';
import { writeLabelAssertions } from '../label-store/writer.ts';
import { postgresLabelStore } from './label-store-stores.ts';
import { engineRunReader } from './oracle-dependencies.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import { storeWorkspace } from './store-workspace.ts';

/**
 * The bank-view load's ports: the engine run's outputs staged into /tmp and read with DuckDB — only the columns the
 * bank view reads (no truth column is selected) — the run's admitted traffic event ids and pins from Postgres, and the
 * label store's writer over its Postgres store.
 */

const S3_URI = /^s3:\/\/([^/]+)\/(.+?)\/?$/;
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

const OUTPUTS = {
  traffic: {
    prefix: 'data/layer3/6B/s3_event_stream_with_fraud_6B/',
    columns:
      'CAST(flow_id AS VARCHAR) AS flow_id, CAST(event_seq AS VARCHAR) AS event_seq, ts_utc, CAST(seed AS VARCHAR) AS seed, manifest_fingerprint, scenario_id',
  },
  eventLabels: {
    prefix: 'data/layer3/6B/s4_event_labels_6B/',
    columns:
      'CAST(flow_id AS VARCHAR) AS flow_id, CAST(event_seq AS VARCHAR) AS event_seq, is_fraud_bank_view',
  },
  caseTimeline: {
    prefix: 'data/layer3/6B/s4_case_timeline_6B/',
    columns:
      'CAST(case_id AS VARCHAR) AS case_id, CAST(case_event_seq AS VARCHAR) AS case_event_seq, CAST(flow_id AS VARCHAR) AS flow_id, case_event_type, ts_utc',
  },
} as const;

async function engineRows(s3: S3Client, engineRunRoot: string, scratch: string) {
  const match = S3_URI.exec(engineRunRoot);
  if (!match)
    throw new InvariantViolation(`engine run root is not an s3:// URI: ${engineRunRoot.slice(0, 200)}`);
  const [, bucket, prefix] = match as unknown as [string, string, string];
  const reader = engineRunReader(s3, bucket, prefix);
  const directory = fs.mkdtempSync(path.join(scratch, 'bank-labels-'));
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
  try {
    const connection = await instance.connect();
    const read = async (name: keyof typeof OUTPUTS) => {
      const output = OUTPUTS[name];
      const parts = (await reader.list(output.prefix)).filter((o) => o.key.endsWith('.parquet'));
      if (parts.length === 0) return [];
      const local = await storeWorkspace(reader, path.join(directory, name)).stage(
        parts.map((p, ordinal) => ({ key: p.key, ordinal })),
      );
      return (
        await connection.runAndReadAll(
          `SELECT ${output.columns} FROM read_parquet([${local.map(quote).join(', ')}], hive_partitioning = false)`,
        )
      ).getRowObjectsJson() as unknown[];
    };
    return {
      traffic: await read('traffic'),
      eventLabels: await read('eventLabels'),
      caseTimeline: await read('caseTimeline'),
    };
  } finally {
    instance.closeSync();
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

export function bankLabelsPorts(deps: PlatformDependencies): BankViewLoadPorts {
  return {
    engineRows: (root) => engineRows(deps.s3, root, os.tmpdir()),
    async admittedTrafficEventIds(run) {
      const pool = await deps.pool();
      const r = await pool.query<{ event_id: string }>(
        `SELECT event_id FROM ig_admissions
         WHERE platform_run_id = $1 AND event_type = 's3_event_stream_with_fraud_6B' AND state = 'ADMITTED'`,
        [run],
      );
      return new Set(r.rows.map((row) => row.event_id));
    },
    async runPins(run) {
      const pool = await deps.pool();
      const r = await pool.query<{ envelopes_json: string }>(
        'SELECT envelopes_json FROM df_decisions WHERE platform_run_id = $1 LIMIT 1',
        [run],
      );
      const json = r.rows[0]?.envelopes_json;
      if (json === undefined) return undefined;
      const [decision] = parseJsonLossless(json) as { payload?: { pins?: unknown } }[];
      return RtdlPins.parse(decision?.payload?.pins);
    },
    async write(inputs) {
      return writeLabelAssertions(postgresLabelStore(await deps.pool()), inputs);
    },
  };
}
