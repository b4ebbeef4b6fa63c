import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresRunRegistry } from '../../../lib/adapters/run-registry.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { readyMessageId, sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import { pythonIsoformat } from '../../../lib/contracts/python-format.ts';
import {
  controlRecordText,
  type ReadySignal,
  type RunFactsView,
  readyControlRecord,
} from '../../../lib/contracts/ready.ts';
import { generateWorld, type WorldSummary } from '../../../lib/world/generate.ts';
import type { MappingStatus } from '../../../local/event-source-mapping/poller.ts';
import { runOraclePipeline } from '../../../local/oracle-pipeline-runner.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * The World Streamer on the local cloud, READY to bus: a generated world through the oracle pipeline, a pinned
 * active run, a run facts view in S3 and a READY on `sr-control-bus` → the ready-consumer mapping → the stream-run
 * state machine (prepare, a Map of chunk loops with DuckDB reading the stream views, finish) → the IG HTTP API →
 * Kinesis. The integration setup caps every output at WSP_MAX_EVENTS_PER_OUTPUT = 20.
 */

const { state } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const oracleMachine = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
const streamMachine = state.stateMachines.find((m) => m.name.endsWith('-stream-run'));
const PLATFORM_BUCKET = 'fraud-platform';
const CONTROL_STREAM = 'sr-control-bus';
const CAP = 20;
const OUTPUTS = [
  'arrival_events_5B',
  's1_arrival_entities_6B',
  's3_flow_anchor_with_fraud_6B',
  's3_event_stream_with_fraud_6B',
];
const CONSUMER = `${state.service}-${state.stage}-world-streamer-ready-consumer`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'world-streamer-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
const now = new Date();
const PRID = platformRunIdAt(now);
const SCENARIO_RUN_ID = sha256Hex(`world-streamer-test|${PRID}`).slice(0, 32);
const hex = (label: string) => sha256Hex(`world-streamer-test|${label}|${PRID}`);

let world: WorldSummary;
let engineRunRoot: string;
let ready: ReadySignal;
let controlData: string;
let executionArn: string;
let execution: { status?: string; output?: string; error?: string; cause?: string };

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query<T>(sql, params)).rows;
}

async function putControl(data: string, partitionKey: string): Promise<string> {
  const out = await kinesis.send(
    new PutRecordCommand({ StreamName: CONTROL_STREAM, PartitionKey: partitionKey, Data: Buffer.from(data) }),
  );
  return out.SequenceNumber ?? '';
}

async function consumerMapping(): Promise<MappingStatus> {
  const res = await fetch(`${state.endpoints.esm}/status`);
  const body = (await res.json()) as { mappings: MappingStatus[] };
  const m = body.mappings.find((x) => x.functionName === CONSUMER);
  if (!m) throw new Error(`no mapping for ${CONSUMER}`);
  return m;
}

const completed = (m: MappingStatus) => m.shards.reduce((n, s) => n + s.recordsCompleted, 0);

/** Every record of a stream whose envelope names this platform run, with the event ids. */
async function busRecords(stream: string): Promise<string[]> {
  const ids: string[] = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shard.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator;
    for (let i = 0; i < 50 && iterator; i++) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        const envelope = JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8')) as {
          event_id: string;
          platform_run_id?: string;
        };
        if (envelope.platform_run_id === PRID) ids.push(envelope.event_id);
      }
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return ids;
}

const BUS_STREAMS = [
  'fp.bus.traffic.fraud.v1',
  'fp.bus.context.arrival_events.v1',
  'fp.bus.context.arrival_entities.v1',
  'fp.bus.context.flow_anchor.fraud.v1',
];

describe('world streamer on the local cloud: READY → stream-run → IG → bus', () => {
  beforeAll(async () => {
    world = await generateWorld({ out: path.join(dir, 'world'), events: 1000, seed: 913_131n });
    const oracle = await runOraclePipeline(
      sfn,
      oracleMachine?.arn ?? 'missing',
      { world_source: `file://${path.join(dir, 'world')}`, scenario_id: world.scenarioId },
      () => undefined,
    );
    expect(oracle.error ?? oracle.status).toBe('SUCCEEDED');
    engineRunRoot = oracle.summary?.engine_run_root ?? 'missing';

    // The run WSP is scoped to (P1): pinned in Postgres.
    const registry = postgresRunRegistry(pool);
    await registry.createRun({
      platform_run_id: PRID,
      pinned_at_utc: now.toISOString(),
      pinned_by: 'world-streamer-test',
    });
    await registry.setActiveRun(PRID);

    // The run facts view and READY that SR would write (control-ingress.md §3.6).
    const bundleHash = hex('bundle');
    const provenance = { service_release_id: 'dev-local', environment: 'local_parity' };
    const factsRef = `${PRID}/sr/run_facts_view/${SCENARIO_RUN_ID}.json`;
    const facts: RunFactsView = {
      run_id: SCENARIO_RUN_ID,
      platform_run_id: PRID,
      scenario_run_id: SCENARIO_RUN_ID,
      pins: {
        manifest_fingerprint: world.manifestFingerprint,
        parameter_hash: world.parameterHash,
        seed: world.seed,
        scenario_id: world.scenarioId,
        run_id: SCENARIO_RUN_ID,
        platform_run_id: PRID,
        scenario_run_id: SCENARIO_RUN_ID,
      },
      locators: [],
      output_roles: Object.fromEntries(
        OUTPUTS.map((id) => [id, id.includes('event_stream') ? 'business_traffic' : 'non_traffic']),
      ),
      intended_outputs: OUTPUTS,
      gate_receipts: [],
      policy_rev: { policy_id: 'sr_policy', revision: 'v0-local', content_digest: hex('policy') },
      bundle_hash: bundleHash,
      run_config_digest: hex('policy'),
      service_release_id: 'dev-local',
      environment: 'local_parity',
      provenance,
      plan_ref: `${PRID}/sr/run_plan/${SCENARIO_RUN_ID}.json`,
      record_ref: `${PRID}/sr/run_record/${SCENARIO_RUN_ID}.jsonl`,
      status_ref: `${PRID}/sr/run_status/${SCENARIO_RUN_ID}.json`,
      oracle_pack_ref: {
        engine_run_root: engineRunRoot,
        scenario_id: world.scenarioId,
        oracle_pack_id: oracle.summary?.oracle_pack_id ?? hex('pack'),
      },
    };
    await s3.send(
      new PutObjectCommand({ Bucket: PLATFORM_BUCKET, Key: factsRef, Body: `${canonicalJson(facts)}\n` }),
    );
    ready = {
      run_id: SCENARIO_RUN_ID,
      platform_run_id: PRID,
      scenario_run_id: SCENARIO_RUN_ID,
      facts_view_ref: factsRef,
      bundle_hash: bundleHash,
      message_id: readyMessageId(PRID, SCENARIO_RUN_ID, bundleHash),
      run_config_digest: hex('policy'),
      manifest_fingerprint: world.manifestFingerprint,
      parameter_hash: world.parameterHash,
      scenario_id: world.scenarioId,
      emitted_at_utc: pythonIsoformat(new Date()),
      oracle_pack_ref: { engine_run_root: engineRunRoot, scenario_id: world.scenarioId },
    };
    controlData = controlRecordText(readyControlRecord(ready, pythonIsoformat(new Date())));
    await putControl(controlData, ready.run_id);

    const arn = streamMachine?.arn ?? 'missing';
    executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${ready.message_id}`;
    execution = await eventually(
      async () => {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
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
    }>('SELECT event_id, event_type, decision, eb_ref FROM ig_receipts WHERE platform_run_id = $1', [PRID]);
    expect(receipts.filter((r) => r.decision !== 'ADMIT')).toEqual([]);
    const perOutput = new Map<string, number>();
    for (const r of receipts) perOutput.set(r.event_type, (perOutput.get(r.event_type) ?? 0) + 1);
    expect(Object.fromEntries(perOutput)).toEqual(Object.fromEntries(OUTPUTS.map((id) => [id, CAP])));
    expect(new Set(receipts.map((r) => r.event_id)).size).toBe(CAP * OUTPUTS.length);

    for (const r of receipts) {
      expect(r.eb_ref.offset_kind).toBe('kinesis_sequence');
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: r.eb_ref.topic,
          ShardId: `shardId-${String(r.eb_ref.partition).padStart(12, '0')}`,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: r.eb_ref.offset,
        }),
      );
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
      const record = out.Records?.[0];
      expect(record?.SequenceNumber).toBe(r.eb_ref.offset);
      const envelope = parseJsonLossless(Buffer.from(record?.Data ?? new Uint8Array()).toString('utf8')) as {
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
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: r.eb_ref.topic,
        ShardId: `shardId-${String(r.eb_ref.partition).padStart(12, '0')}`,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: r.eb_ref.offset,
      }),
    );
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
    const text = Buffer.from(out.Records?.[0]?.Data ?? new Uint8Array()).toString('utf8');
    const envelope = parseJsonLossless(text) as { seed: unknown; payload: Record<string, unknown> };
    expect(BigInt(envelope.seed as bigint | number)).toBe(world.seed);
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
      { status: 'STREAMED', emitted: String(CAP * OUTPUTS.length), engine_run_root: engineRunRoot },
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
  });

  it('sets a malformed control-bus record aside without blocking the shard', async () => {
    const sequence = await putControl('this is not a control-bus record', 'poison');
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
    const before = completed(await consumerMapping());
    await putControl(controlData, ready.run_id);
    await eventually(
      async () => (completed(await consumerMapping()) > before ? true : undefined),
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

    const onBus: string[] = [];
    for (const stream of BUS_STREAMS) onBus.push(...(await busRecords(stream)));
    expect(onBus.length).toBe(CAP * OUTPUTS.length);
    expect(new Set(onBus).size).toBe(onBus.length);
  });
});
