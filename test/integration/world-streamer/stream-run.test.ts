import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import type { ReadySignal } from '../../../lib/contracts/ready.ts';
import { recordAt, runEnvelopes } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';
import { STREAMED_ONLY } from '../../support/streamed-receipts.ts';
import {
  BUS_STREAMS,
  type OracleWorld,
  oracleWorld,
  PLATFORM_BUCKET,
  pinRun,
  publishReady,
  putControl,
  readyFor,
  readyRecordsConsumed,
  streamExecutionArn,
  WSP_OUTPUTS,
} from '../../support/world-streamer.ts';

/**
 * The World Streamer on the local cloud, READY to bus: a generated world through the oracle pipeline, a pinned
 * active run, a run facts view in S3 and a READY on `sr-control-bus` → the ready-consumer mapping → the stream-run
 * state machine (prepare, a Map of chunk loops with DuckDB reading the stream views, finish) → the IG HTTP API →
 * Kinesis. The integration setup caps every output at WSP_MAX_EVENTS_PER_OUTPUT = 20.
 */

const { state } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const streamMachine = state.stateMachines.find((m) => m.name.endsWith('-stream-run'));
const CAP = 20;
const OUTPUTS = WSP_OUTPUTS;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'world-streamer-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
const PRID = platformRunIdAt(new Date());
const SCENARIO_RUN_ID = sha256Hex(`world-streamer-test|${PRID}`).slice(0, 32);

let oracle: OracleWorld;
let ready: ReadySignal;
let controlData: string;
let execution: { status?: string; output?: string; error?: string; cause?: string };

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query<T>(sql, params)).rows;
}

describe('world streamer on the local cloud: READY → stream-run → IG → bus', () => {
  beforeAll(async () => {
    oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), { events: 1000, seed: 913_131n });
    // The run WSP is scoped to (P1), pinned in Postgres; the facts view and READY that SR would write (§3.6).
    await pinRun(pool, PRID);
    const fixture = readyFor({
      platformRunId: PRID,
      scenarioRunId: SCENARIO_RUN_ID,
      oracle,
      bundleHash: sha256Hex(`world-streamer-test|bundle|${PRID}`),
    });
    ready = fixture.ready;
    controlData = await publishReady(s3, kinesis, fixture);
    execution = await eventually(
      async () => {
        const d = await sfn.send(
          new DescribeExecutionCommand({ executionArn: streamExecutionArn(state, ready.message_id) }),
        );
        return d.status === 'RUNNING' ? undefined : d;
      },
      'the stream-run execution of the READY to end',
      180_000,
    );
  }, 420_000);

  afterAll(async () => {
    await pool.end();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs one stream-run execution, named by the message_id, to SUCCEEDED with every output at the cap', () => {
    expect(execution.error ?? execution.status).toBe('SUCCEEDED');
    const output = JSON.parse(execution.output ?? '{}') as {
      result: { status: string; emitted: number; reason: string | null };
      outputs: Array<{ output_id: string; status: string; reason: string | null; emitted: number }>;
    };
    expect(output.result).toEqual({ status: 'STREAMED', emitted: CAP * OUTPUTS.length, reason: null });
    expect(output.outputs.map((o) => o.output_id).sort()).toEqual([...OUTPUTS].sort());
    for (const o of output.outputs) {
      expect(o).toMatchObject({ status: 'DONE', reason: 'max_events', emitted: CAP });
    }
  });

  it('admits exactly the cap per context and traffic output, each ADMIT receipt pointing at its record on the bus', async () => {
    const receipts = await query<{
      event_id: string;
      event_type: string;
      decision: string;
      eb_ref: { topic: string; partition: number; offset: string; offset_kind: string };
    }>(
      `SELECT event_id, event_type, decision, eb_ref FROM ig_receipts WHERE platform_run_id = $1 AND ${STREAMED_ONLY}`,
      [PRID],
    );
    expect(receipts.filter((r) => r.decision !== 'ADMIT')).toEqual([]);
    const perOutput = new Map<string, number>();
    for (const r of receipts) perOutput.set(r.event_type, (perOutput.get(r.event_type) ?? 0) + 1);
    expect(Object.fromEntries(perOutput)).toEqual(Object.fromEntries(OUTPUTS.map((id) => [id, CAP])));
    expect(new Set(receipts.map((r) => r.event_id)).size).toBe(CAP * OUTPUTS.length);

    for (const r of receipts) {
      expect(r.eb_ref.offset_kind).toBe('kinesis_sequence');
      const record = await recordAt(kinesis, r.eb_ref);
      expect(record?.sequenceNumber).toBe(r.eb_ref.offset);
      const envelope = parseJsonLossless(record?.data ?? '') as {
        event_id: string;
        event_type: string;
        platform_run_id: string;
        scenario_run_id: string;
        producer: string;
        payload: Record<string, unknown>;
      };
      expect(envelope).toMatchObject({
        event_id: r.event_id,
        event_type: r.event_type,
        platform_run_id: PRID,
        scenario_run_id: SCENARIO_RUN_ID,
        producer: 'svc:world_stream_producer',
      });
    }
  });

  it('keeps 64-bit ids exact in the payloads on the bus', async () => {
    const [r] = await query<{ eb_ref: { topic: string; partition: number; offset: string } }>(
      `SELECT eb_ref FROM ig_receipts WHERE platform_run_id = $1 AND event_type = 's3_event_stream_with_fraud_6B' LIMIT 1`,
      [PRID],
    );
    if (!r) throw new Error('no traffic receipt');
    const text = (await recordAt(kinesis, r.eb_ref))?.data ?? '';
    const envelope = parseJsonLossless(text) as { seed: unknown; payload: Record<string, unknown> };
    expect(BigInt(envelope.seed as bigint | number)).toBe(oracle.world.seed);
    // flow_id is a 63-bit hash: it parses back as a bigint and re-serialises byte-identically.
    expect(typeof envelope.payload.flow_id === 'bigint' || typeof envelope.payload.flow_id === 'number').toBe(
      true,
    );
    expect(canonicalJson(envelope)).toBe(text);
  });

  it('records the READY as STREAMED with the emitted count, and the governance facts of the session', async () => {
    const [run] = await query<{ status: string; attempt: number }>(
      'SELECT status, attempt FROM wsp_ready_runs WHERE message_id = $1',
      [ready.message_id],
    );
    expect(run).toEqual({ status: 'STREAMED', attempt: 1 });
    const lines = await query<{ status: string; emitted: string; engine_run_root: string }>(
      'SELECT status, emitted, engine_run_root FROM wsp_ready_record WHERE message_id = $1 ORDER BY line_id',
      [ready.message_id],
    );
    expect(lines).toEqual([
      { status: 'STREAMED', emitted: String(CAP * OUTPUTS.length), engine_run_root: oracle.engineRunRoot },
    ]);
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: PLATFORM_BUCKET, Prefix: `${PRID}/obs/governance/events/` }),
    );
    const families: string[] = [];
    for (const o of listed.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: PLATFORM_BUCKET, Key: o.Key }));
      families.push(
        (JSON.parse((await got.Body?.transformToString()) ?? '{}') as { event_family: string }).event_family,
      );
    }
    expect(families.sort()).toEqual(['RUN_ENDED', 'RUN_READY_SEEN', 'RUN_STARTED']);
    // The same three, once each, in the run's events.jsonl.
    const log = await s3.send(
      new GetObjectCommand({ Bucket: PLATFORM_BUCKET, Key: `${PRID}/obs/governance/events.jsonl` }),
    );
    const logged = ((await log.Body?.transformToString()) ?? '')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { event_family: string }).event_family);
    expect(logged.sort()).toEqual(['RUN_ENDED', 'RUN_READY_SEEN', 'RUN_STARTED']);
  });

  it('sets a malformed control-bus record aside without blocking the shard', async () => {
    const sequence = await putControl(kinesis, 'this is not a control-bus record', 'poison');
    const key = `wsp/control-bus-rejects/${sequence}.json`;
    const evidence = await eventually(
      async () => {
        try {
          const got = await s3.send(new GetObjectCommand({ Bucket: PLATFORM_BUCKET, Key: key }));
          return JSON.parse((await got.Body?.transformToString()) ?? '{}') as { reason: string };
        } catch {
          return undefined;
        }
      },
      'the rejected record evidence',
      30_000,
    );
    expect(evidence.reason).toMatch(/not JSON/);
  });

  it('replaying the same READY starts nothing new and puts nothing more on the bus', async () => {
    const before = await readyRecordsConsumed(state);
    await putControl(kinesis, controlData, ready.run_id);
    await eventually(
      async () => ((await readyRecordsConsumed(state)) > before ? true : undefined),
      'the replayed READY to be consumed',
      30_000,
    );
    const executions = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: streamMachine?.arn ?? 'missing', maxResults: 1000 }),
    );
    const ours = (executions.executions ?? []).filter((e) => e.name?.startsWith(ready.message_id));
    expect(ours.map((e) => e.name)).toEqual([ready.message_id]);
    const lines = await query<{ n: string }>(
      'SELECT count(*) AS n FROM wsp_ready_record WHERE message_id = $1',
      [ready.message_id],
    );
    expect(lines[0]?.n).toBe('1');

    const onBus = (await runEnvelopes(kinesis, BUS_STREAMS, PRID)).map((e) => e.envelope.event_id);
    expect(onBus.length).toBe(CAP * OUTPUTS.length);
    expect(new Set(onBus).size).toBe(onBus.length);
  });
});
