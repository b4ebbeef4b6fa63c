import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { InvariantViolation } from '../errors/platform-error.ts';
import type { DecidedFlowEvent, TruthFlow } from '../run-lifecycle/decision-quality.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { engineRunReader } from './oracle-dependencies.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import type { Pool } from './postgres/pool.ts';
import { s3DocumentWriter } from './projector-dependencies.ts';
import { storeWorkspace } from './store-workspace.ts';

/**
 * The two sides of the quality report: the run's decisions (df_decisions) and the world's flow truth
 * (`s4_flow_truth_labels_6B` of the engine run the run streamed, staged into /tmp and read with DuckDB). The truth is
 * read here, after the decisions are made, and only to measure them.
 */

const TRUTH_OUTPUT = 'data/layer3/6B/s4_flow_truth_labels_6B/';
const S3_URI = /^s3:\/\/([^/]+)\/(.+?)\/?$/;
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function runDecisions(pool: Pool, platformRunId: string): Promise<DecidedFlowEvent[]> {
  const res = await pool.query<{
    flow_id: string | null;
    action_kind: string;
    bus: string;
    admitted: string | null;
  }>(
    `SELECT flow_id, action_kind, bus_arrival_ms::text AS bus, admitted_at_ms::text AS admitted
     FROM df_decisions WHERE platform_run_id = $1 AND published`,
    [platformRunId],
  );
  return res.rows.map((r) => ({
    flow_id: r.flow_id,
    action_kind: r.action_kind,
    bus_arrival_ms: Number(r.bus),
    admitted_at_ms: r.admitted === null ? null : Number(r.admitted),
  }));
}

export async function truthFlows(s3: S3Client, engineRunRoot: string, scratch: string): Promise<TruthFlow[]> {
  const match = S3_URI.exec(engineRunRoot);
  if (!match)
    throw new InvariantViolation(`engine run root is not an s3:// URI: ${engineRunRoot.slice(0, 200)}`);
  const [, bucket, prefix] = match as unknown as [string, string, string];
  const reader = engineRunReader(s3, bucket, prefix);
  const parts = (await reader.list(TRUTH_OUTPUT)).filter((o) => o.key.endsWith('.parquet'));
  if (parts.length === 0) throw new InvariantViolation(`no ${TRUTH_OUTPUT} parts under ${engineRunRoot}`);
  const directory = path.join(scratch, 'decision-quality');
  const local = await storeWorkspace(reader, directory).stage(
    parts.map((p, ordinal) => ({ key: p.key, ordinal })),
  );
  const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
  try {
    const connection = await instance.connect();
    const rows = (
      await connection.runAndReadAll(
        `SELECT CAST(flow_id AS VARCHAR) AS flow_id, is_fraud_truth, COALESCE(fraud_label, 'LEGIT') AS fraud_label
         FROM read_parquet([${local.map(quote).join(', ')}])`,
      )
    ).getRowObjectsJson();
    return rows.map((r) => ({
      flow_id: String(r.flow_id),
      is_fraud_truth: r.is_fraud_truth === true,
      fraud_label: String(r.fraud_label),
    }));
  } finally {
    instance.closeSync();
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

/** The quality step's ports: the run's decisions, the world's truth, the report's document. */
export function decisionQualityPorts(env: PlatformEnvironment, deps: PlatformDependencies) {
  const documents = s3DocumentWriter(deps.s3, env.PLATFORM_BUCKET);
  return {
    decisions: async (platformRunId: string) => runDecisions(await deps.pool(), platformRunId),
    truth: (engineRunRoot: string) => truthFlows(deps.s3, engineRunRoot, os.tmpdir()),
    write: (platformRunId: string, report: unknown) =>
      documents.write(`${platformRunId}/decision_fabric/quality.json`, report),
  };
}
