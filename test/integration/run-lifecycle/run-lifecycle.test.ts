import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stackDown, stackUp } from '../../../local/stack.ts';
import { stackConfig } from '../../../local/stack-config.ts';
import { generateWorld } from '../../../tools/world/generate.ts';
import { runEnvelopes } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { waitForExecution } from '../../support/executions.ts';
import { BUS_STREAMS } from '../../support/world-streamer.ts';
import { expectRunClosed } from './closeout-expectations.ts';

const { state, env } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const lifecycle = state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'));
const stateMachineArn = lifecycle?.arn ?? 'missing';

async function run(input: Record<string, unknown>) {
  const start = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }));
  return waitForExecution(sfn, start.executionArn ?? '');
}

/** Every ADMIT receipt of the run: the record at its eb_ref (shard, sequence number) is that event. */
async function admittedEventsOnTheBus(platformRunId: string) {
  const db = new pg.Client({ connectionString: state.databaseUrl });
  await db.connect();
  try {
    const rows = (
      await db.query<{ event_id: string; eb_ref: { topic: string; partition: number; offset: string } }>(
        `SELECT event_id, eb_ref FROM ig_receipts WHERE platform_run_id = $1 AND decision = 'ADMIT'`,
        [platformRunId],
      )
    ).rows;
    let onTheBus = 0;
    for (const r of rows) {
      const { ShardIterator } = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: r.eb_ref.topic,
          ShardId: `shardId-${String(r.eb_ref.partition).padStart(12, '0')}`,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          StartingSequenceNumber: r.eb_ref.offset,
        }),
      );
      const got = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
      const data = Buffer.from(got.Records?.[0]?.Data ?? new Uint8Array()).toString('utf8');
      if (
        data.includes(`"event_id":"${r.event_id}"`) &&
        data.includes(`"platform_run_id":"${platformRunId}"`)
      )
        onTheBus++;
    }
    return { receipts: rows.length, onTheBus };
  } finally {
    await db.end();
  }
}

const worlds = fs.mkdtempSync(path.join(os.tmpdir(), 'run-lifecycle-'));
const world = path.join(worlds, 'world');

/** P8: every projector applied or accounted for each event IG admitted, per topic; the evidence says so. */
async function expectProjectorsReconciled(
  output: {
    platform_run_id: string;
    rtdl: Record<
      string,
      { counts: Record<string, number>; topics: { topic: string; admitted: number; accounted: number }[] }
    >;
  },
  perTopic: number,
) {
  expect(Object.keys(output.rtdl).sort()).toEqual([
    'archive-writer',
    'context-store',
    'identity-graph',
    'online-features',
  ]);
  const topics = (name: string) => output.rtdl[name]?.topics.map((t) => t.topic).sort();
  expect(topics('archive-writer')).toEqual([...BUS_TOPICS].sort());
  expect(topics('identity-graph')).toEqual([...BUS_TOPICS].sort());
  expect(topics('context-store')).toEqual(BUS_TOPICS.filter((t) => t.includes('context')).sort());
  expect(topics('online-features')).toEqual([
    'fp.bus.context.flow_anchor.fraud.v1',
    'fp.bus.traffic.fraud.v1',
  ]);
  for (const [name, projector] of Object.entries(output.rtdl)) {
    for (const t of projector.topics)
      expect(t, `${name} ${t.topic}`).toEqual({ ...t, admitted: perTopic, accounted: perTopic });
    // The archive writer also archives the decision lane's topics (rtdl, audit) and the case topic, as far as the lane
    // and the case trigger had come at P8: per traffic event a decision, intent, outcome, audit event and case trigger.
    if (name === 'archive-writer') {
      expect(projector.counts.applied, name).toBeGreaterThanOrEqual(perTopic * projector.topics.length);
      expect(projector.counts.applied, name).toBeLessThanOrEqual(perTopic * (projector.topics.length + 5));
    } else expect(projector.counts.applied, name).toBe(perTopic * projector.topics.length);
    expect(projector.counts.failed, name).toBe(0);
  }
  const p8 = await s3.send(
    new GetObjectCommand({
      Bucket: 'fraud-platform',
      Key: `${output.platform_run_id}/lifecycle/P8_RTDL_CAUGHT_UP.json`,
    }),
  );
  expect(JSON.parse((await p8.Body?.transformToString()) ?? '{}')).toMatchObject({
    phase: 'P8',
    status: 'PASS',
    problems: [],
  });
  const reconciliation = await s3.send(
    new GetObjectCommand({
      Bucket: 'fraud-platform',
      Key: `${output.platform_run_id}/identity_entity_graph/reconciliation/reconciliation.json`,
    }),
  );
  expect(JSON.parse((await reconciliation.Body?.transformToString()) ?? '{}').platform_run_id).toBe(
    output.platform_run_id,
  );
}

/** P9: one decision per admitted traffic event, intents = outcomes, every chain resolved, the decision log GREEN. */
async function expectDecisionChainCommitted(
  output: { platform_run_id: string; decision_chain: unknown; decision_quality: { decisions: number } },
  traffic: number,
) {
  expect(output.decision_chain).toMatchObject({
    traffic_admitted: traffic,
    decided_events: traffic,
    decisions: traffic,
    decisions_admitted: traffic,
    intents_admitted: traffic,
    outcomes_admitted: traffic,
    lineage_unresolved: 0,
    decision_log_health: 'GREEN',
  });
  const p9 = await s3.send(
    new GetObjectCommand({
      Bucket: 'fraud-platform',
      Key: `${output.platform_run_id}/lifecycle/P9_DECISION_CHAIN_COMMITTED.json`,
    }),
  );
  expect(JSON.parse((await p9.Body?.transformToString()) ?? '{}')).toMatchObject({
    phase: 'P9',
    status: 'PASS',
    missing: [],
  });
  const quality = await s3.send(
    new GetObjectCommand({
      Bucket: 'fraud-platform',
      Key: `${output.platform_run_id}/decision_fabric/quality.json`,
    }),
  );
  const report = JSON.parse((await quality.Body?.transformToString()) ?? '{}');
  expect(report).toMatchObject({ platform_run_id: output.platform_run_id, decisions: traffic });
  expect(output.decision_quality.decisions).toBe(traffic);
}

const BUS_TOPICS = [
  'fp.bus.traffic.fraud.v1',
  'fp.bus.context.arrival_events.v1',
  'fp.bus.context.arrival_entities.v1',
  'fp.bus.context.flow_anchor.fraud.v1',
];

describe('run-lifecycle P0 -> P12 on the local cloud', () => {
  beforeAll(async () => {
    await generateWorld({ out: world, events: 2_000, seed: 11n });
  });
  afterAll(async () => {
    await stackUp(stackConfig(env), () => undefined); // leave the shared stack whole
    fs.rmSync(worlds, { recursive: true, force: true });
  });

  it('Gate-20: pins a fresh run, gets the world ready, publishes READY, streams it through the gate and reconciles', async () => {
    const done = await run({
      world_source: `file://${world}`,
      scenario_id: 'baseline_v1',
      stream: { max_events_per_output: 20 },
    });
    expect(done.error ?? done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}');
    expect(output.platform_run_id).toMatch(/^platform_\d{8}T\d{6}Z$/);
    expect(output.phases_completed).toEqual([
      'P0',
      'P1',
      'P2',
      'P3',
      'P4',
      'P5',
      'P6',
      'P7',
      'P8',
      'P9',
      'P10',
      'P11',
      'P12',
    ]);
    // The stream (20 per output in tests) reconciled with the gate's receipts, all admitted.
    expect(output.ingest.map((o: { output_id: string }) => o.output_id).sort()).toEqual([
      'arrival_events_5B',
      's1_arrival_entities_6B',
      's3_event_stream_with_fraud_6B',
      's3_flow_anchor_with_fraud_6B',
    ]);
    for (const o of output.ingest)
      expect(o).toMatchObject({ emitted: 20, admitted: 20, events: 20, quarantined: 0 });
    await expectProjectorsReconciled(output, 20);
    await expectDecisionChainCommitted(output, 20);
    await expectRunClosed(state, output, 20);
    for (const phase of [
      'P2_DAEMONS_READY',
      'P4_INGEST_READY',
      'P6_STREAMING_ACTIVE',
      'P7_INGEST_COMMITTED',
    ]) {
      const got = await s3.send(
        new GetObjectCommand({
          Bucket: 'fraud-platform',
          Key: `${output.platform_run_id}/lifecycle/${phase}.json`,
        }),
      );
      expect(JSON.parse((await got.Body?.transformToString()) ?? '{}').status, phase).toBe('PASS');
    }
    expect(output.oracle_pack_id).toMatch(/^[0-9a-f]{64}$/);
    expect(output.stream_views).toHaveLength(4);
    const p3 = await s3.send(
      new GetObjectCommand({
        Bucket: 'fraud-platform',
        Key: `${output.platform_run_id}/lifecycle/P3_ORACLE_READY.json`,
      }),
    );
    const evidence = JSON.parse((await p3.Body?.transformToString()) ?? '{}');
    expect(evidence).toMatchObject({ phase: 'P3', gate: 'ORACLE_READY', status: 'PASS' });
    expect(evidence.oracle_pack_id).toBe(output.oracle_pack_id);
    expect(output.evidence.oracle_ready_ref).toBe(
      `s3://fraud-platform/${output.platform_run_id}/lifecycle/P3_ORACLE_READY.json`,
    );

    const db = new pg.Client({ connectionString: state.databaseUrl });
    await db.connect();
    try {
      const runs = await db.query('SELECT 1 FROM platform_runs WHERE platform_run_id = $1', [
        output.platform_run_id,
      ]);
      expect(runs.rowCount).toBe(1);
    } finally {
      await db.end();
    }
    // The S3 pointer records the run P1 pinned (the object-store twin of the reference's ACTIVE_RUN_ID file).
    const pointer = await s3.send(new GetObjectCommand({ Bucket: 'fraud-platform', Key: 'ACTIVE_RUN_ID' }));
    expect((await pointer.Body?.transformToString())?.trim()).toBe(output.platform_run_id);
    const pin = await s3.send(
      new GetObjectCommand({ Bucket: 'fraud-platform', Key: `${output.platform_run_id}/run_pin.json` }),
    );
    expect(JSON.parse((await pin.Body?.transformToString()) ?? '{}').platform_run_id).toBe(
      output.platform_run_id,
    );
  });

  it('Gate-200: every context and traffic output emits exactly 200, each with an ADMIT receipt whose eb_ref holds it; pushing every event again leaves each once on the bus', async () => {
    const done = await run({
      world_source: `file://${world}`,
      scenario_id: 'baseline_v1',
      stream: { max_events_per_output: 200 },
    });
    expect(done.error ?? done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}');
    expect(output.ingest).toHaveLength(4);
    for (const o of output.ingest)
      expect(o).toMatchObject({ emitted: 200, admitted: 200, events: 200, quarantined: 0 });
    // The 800 streamed, and per traffic event the lane's decision, intent, outcome and audit event (P9 passed: all in),
    // and its case trigger (P10 passed).
    expect(await admittedEventsOnTheBus(output.platform_run_id)).toEqual({ receipts: 1800, onTheBus: 1800 });
    await expectProjectorsReconciled(output, 200);
    await expectDecisionChainCommitted(output, 200);
    await expectRunClosed(state, output, 200);

    // Pushing every event a second time (the bus records' exact bytes, IG batches of 200): all DUPLICATE, and the
    // bus still holds each event exactly once.
    const onBus = await runEnvelopes(kinesis, BUS_STREAMS, output.platform_run_id);
    expect(onBus).toHaveLength(800);
    const decisions: string[] = [];
    for (let i = 0; i < onBus.length; i += 200) {
      const body = `{"envelopes":[${onBus
        .slice(i, i + 200)
        .map((x) => x.record.data)
        .join(',')}]}`;
      const res = await fetch(`${state.endpoints.http}/v1/ingest/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ig-api-key': 'local-parity-wsp' },
        body,
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { results: { decision?: string; error?: string }[] };
      decisions.push(...answer.results.map((r) => r.decision ?? r.error ?? '?'));
    }
    expect(decisions.filter((d) => d === 'DUPLICATE')).toHaveLength(800);
    const after = await runEnvelopes(kinesis, BUS_STREAMS, output.platform_run_id);
    expect(after).toHaveLength(800);
    expect(new Set(after.map((x) => x.envelope.event_id)).size).toBe(800);
  }, 600_000);

  it('refuses a malformed platform_run_id', async () => {
    const done = await run({ platform_run_id: 'platform_20261399T000000Z' });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('INVALID_PLATFORM_RUN_ID');
    expect(done.cause).toContain('platform_20261399T000000Z');
  });

  it('stops before P3 with WORLD_SOURCE_MISSING when no world is given', async () => {
    const done = await run({});
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('WORLD_SOURCE_MISSING');
  });

  it('fails P3 with ORACLE_NOT_READY when a world would change a sealed pack (a tampered gate flag)', async () => {
    const tampered = path.join(worlds, 'tampered');
    fs.cpSync(world, tampered, { recursive: true });
    const flag = fs
      .readdirSync(path.join(tampered, 'data/layer1/2A/validation'), { recursive: true })
      .map(String)
      .find((f) => f.endsWith('_passed.flag'));
    fs.writeFileSync(
      path.join(tampered, 'data/layer1/2A/validation', flag ?? 'missing'),
      'sha256_hex = 00\n',
    );
    const done = await run({ world_source: `file://${tampered}`, scenario_id: 'baseline_v1' });
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ORACLE_NOT_READY');
    expect(done.cause).toMatch(/SEALED_PACK_CHANGED/);
  });

  it('refuses to re-pin a run id that exists', async () => {
    const id = 'platform_20260101T000000Z';
    await run({ platform_run_id: id });
    const again = await run({ platform_run_id: id });
    expect(again.status).toBe('FAILED');
    expect(again.error).toBe('RUN_ALREADY_PINNED');
  });

  it('fails P0 with a cause naming Postgres when Postgres is stopped', async () => {
    await stackDown(stackConfig(env), () => undefined, ['postgres']);
    const done = await run({});
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('SUBSTRATE_NOT_READY');
    expect(done.cause).toMatch(/Postgres: unreachable/);
  });
});
