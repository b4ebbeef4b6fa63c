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
import { PACK_MANIFEST_KEY } from '../../../lib/oracle-store/pack-contracts.ts';
import { type BusEnvelope, runEnvelopes } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { copyEngineRun } from '../../support/engine-runs.ts';
import { eventually } from '../../support/eventually.ts';
import { historyOf } from '../../support/executions.ts';
import { STREAMED_ONLY } from '../../support/streamed-receipts.ts';
import {
  ACCEPTANCE_WORLD,
  BUS_STREAMS,
  expectedEventId,
  type OracleWorld,
  openViews,
  oracleWorld,
  PLATFORM_BUCKET,
  pinRun,
  publishReady,
  putControl,
  readyFor,
  readyRecordsConsumed,
  streamExecutionArn,
  viewEventIds,
  WSP_OUTPUTS,
} from '../../support/world-streamer.ts';

/**
 * Spec §9 checks 8–11 of the World Streamer on the local cloud: READYs on sr-control-bus → the ready-consumer
 * mapping → stream-run (prepare, chunk loops reading the stream views with DuckDB, finish) → the IG HTTP API →
 * Kinesis. Each platform run is pinned with its own cap (platform_runs.stream_settings, as P1 pins it).
 */

const { state } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const HOUR = 3_600_000;
const stamp = Date.now() - 96 * HOUR - Math.floor(Math.random() * 1000) * 1000;
const prid = (n: number) => platformRunIdAt(new Date(stamp - n * HOUR));
const PRID_A = prid(0);
const PRID_B = prid(1);
const PRID_OTHER = prid(2);
const PRID_GATE = prid(3);
const srid = (label: string) => sha256Hex(`wsp-acceptance|${label}|${stamp}`).slice(0, 32);
const SRID = srid('scenario-run');
const bundle = (label: string) => sha256Hex(`wsp-acceptance|bundle|${label}|${stamp}`);
const ENVELOPE_KEYS = [
  'event_id',
  'event_type',
  'manifest_fingerprint',
  'parameter_hash',
  'payload',
  'platform_run_id',
  'producer',
  'run_id',
  'scenario_id',
  'scenario_run_id',
  'schema_version',
  'seed',
  'span_id',
  'trace_id',
  'ts_utc',
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-acceptance-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
let oracle: OracleWorld;
let views: Awaited<ReturnType<typeof openViews>>;
let row0: Record<string, string[]>;
let row1: Record<string, string[]>;
const controlData = new Map<string, string>();

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  return (await pool.query<T>(sql, params)).rows;
}

/** Publishes a READY for `platformRunId` (its facts view first) and remembers its control record. */
async function ready(platformRunId: string, label: string, extra: Record<string, string> = {}) {
  const fixture = readyFor({
    platformRunId,
    scenarioRunId: extra.scenarioRunId ?? SRID,
    oracle,
    bundleHash: bundle(label),
    ...(extra.factsScenarioRunId ? { factsScenarioRunId: extra.factsScenarioRunId } : {}),
    ...(extra.engineRunRoot ? { engineRunRoot: extra.engineRunRoot } : {}),
  });
  controlData.set(fixture.ready.message_id, await publishReady(s3, kinesis, fixture));
  return fixture.ready;
}

async function finished(name: string) {
  return eventually(
    async () => {
      const d = await sfn.send(
        new DescribeExecutionCommand({ executionArn: streamExecutionArn(state, name) }),
      );
      return d.status === 'RUNNING' ? undefined : d;
    },
    `stream-run execution ${name} to end`,
    120_000,
  );
}

const readyRun = async (messageId: string) =>
  (
    await query<{ status: string; attempt: number }>(
      'SELECT status, attempt FROM wsp_ready_runs WHERE message_id = $1',
      [messageId],
    )
  )[0];

/** The READY's status once the consumer has handled it (a claim is IN_PROGRESS until then). */
const settled = (messageId: string) =>
  eventually(async () => {
    const status = (await readyRun(messageId))?.status;
    return status === 'IN_PROGRESS' ? undefined : status;
  }, `READY ${messageId} to be handled`);

const recordLines = (messageId: string) =>
  query<{ status: string; reason: string | null; emitted: string | null }>(
    'SELECT status, reason, emitted FROM wsp_ready_record WHERE message_id = $1 ORDER BY line_id',
    [messageId],
  );

const executionsOf = async (messageId: string) =>
  (
    (
      await sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: state.stateMachines.find((m) => m.name.endsWith('-stream-run'))?.arn,
          maxResults: 1000,
        }),
      )
    ).executions ?? []
  )
    .map((e) => e.name ?? '')
    .filter((n) => n.startsWith(messageId));

const envelopesOf = async (platformRunId: string) =>
  (await runEnvelopes(kinesis, BUS_STREAMS, platformRunId)).map((e) => e.envelope);

/** Event ids per output, from the envelopes on the bus. */
function byOutput(envelopes: BusEnvelope[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(WSP_OUTPUTS.map((id) => [id, []]));
  for (const e of envelopes) out[e.event_type]?.push(e.event_id);
  return out;
}

const admitted = async (platformRunId: string) =>
  query<{ event_id: string; decision: string }>(
    `SELECT event_id, decision FROM ig_receipts WHERE platform_run_id = $1 AND ${STREAMED_ONLY}`,
    [platformRunId],
  );

beforeAll(async () => {
  oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), ACCEPTANCE_WORLD);
  views = await openViews(s3, dir);
  row0 = await viewEventIds(views, oracle, 0, 1);
  row1 = await viewEventIds(views, oracle, 1, 2);
}, 300_000);

afterAll(async () => {
  views?.close();
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('§9.9 cap and resume, §9.8 the envelope', () => {
  it('cap 1 → one push per output: row 1 of each stream view', async () => {
    await pinRun(pool, PRID_A, { max_events_per_output: 1 });
    const r = await ready(PRID_A, 'a1');
    const done = await finished(r.message_id);
    expect(done.error ?? done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '{}').result).toEqual({ status: 'STREAMED', emitted: 4, reason: null });
    expect(byOutput(await envelopesOf(PRID_A))).toEqual(row0);
    expect((await admitted(PRID_A)).map((x) => x.decision)).toEqual(Array(4).fill('ADMIT'));
  });

  it('a rerun in the same platform run (another READY of the scenario run) → only the next row', async () => {
    const r = await ready(PRID_A, 'a2');
    const done = await finished(r.message_id);
    expect(JSON.parse(done.output ?? '{}').result).toEqual({ status: 'STREAMED', emitted: 4, reason: null });
    const onBus = byOutput(await envelopesOf(PRID_A));
    // Two records of one output may sit on two shards: compare as sets (each once).
    for (const id of WSP_OUTPUTS)
      expect([...(onBus[id] ?? [])].sort()).toEqual([...(row0[id] ?? []), ...(row1[id] ?? [])].sort());
    const receipts = await admitted(PRID_A);
    expect(receipts.filter((x) => x.decision === 'ADMIT')).toHaveLength(8);
    expect(receipts).toHaveLength(8);
  });

  it('a new platform run → from row 1 again', async () => {
    await pinRun(pool, PRID_B, { max_events_per_output: 1 });
    const r = await ready(PRID_B, 'b1');
    const done = await finished(r.message_id);
    expect(JSON.parse(done.output ?? '{}').result).toEqual({ status: 'STREAMED', emitted: 4, reason: null });
    expect(byOutput(await envelopesOf(PRID_B))).toEqual(row0);
    expect((await admitted(PRID_B)).map((x) => x.decision)).toEqual(Array(4).fill('ADMIT'));
  });

  it('§9.8 every envelope read back: event_type = output_id, µs-Z ts_utc, the 7 pins, producer, trace_id = pack key, v1, payload = the row, event_id by the recipe', async () => {
    const manifest = parseJsonLossless(
      (await (
        await s3.send(
          new GetObjectCommand({
            Bucket: 'oracle-store',
            Key: `${oracle.engineRunRoot.replace('s3://oracle-store/', '')}/${PACK_MANIFEST_KEY}`,
          }),
        )
      ).Body?.transformToString()) ?? '',
    ) as { oracle_pack_id: string; engine_release: string };
    expect(manifest.oracle_pack_id).toBe(oracle.oraclePackId);
    const envelopes = await envelopesOf(PRID_A);
    expect(envelopes).toHaveLength(8);
    for (const e of envelopes) {
      const at = row0[e.event_type]?.[0] === e.event_id ? 0 : 1;
      const [viewRow] = await views.read({
        engineRunRoot: oracle.engineRunRoot,
        outputId: e.event_type,
        fromRow: at,
        limit: 1,
      });
      if (!viewRow) throw new Error(`no row ${at} in the ${e.event_type} view`);
      expect(Object.keys(e).sort()).toEqual(ENVELOPE_KEYS);
      expect(WSP_OUTPUTS).toContain(e.event_type);
      expect(e.event_id).toBe(expectedEventId(e.event_type, viewRow.row, oracle.world));
      expect(e.ts_utc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      expect(Date.parse(String(e.ts_utc))).toBe(Date.parse(String(viewRow.row.ts_utc)));
      expect(e).toMatchObject({
        manifest_fingerprint: oracle.world.manifestFingerprint,
        parameter_hash: oracle.world.parameterHash,
        scenario_id: oracle.world.scenarioId,
        run_id: oracle.world.runId,
        platform_run_id: PRID_A,
        scenario_run_id: SRID,
        producer: 'svc:world_stream_producer',
        trace_id: oracle.oraclePackId,
        span_id: manifest.engine_release,
        schema_version: 'v1',
      });
      expect(BigInt(e.seed as bigint | number)).toBe(oracle.world.seed);
      expect(canonicalJson(e.payload)).toBe(canonicalJson(viewRow.row));
    }
  });
});

describe('§9.10 READY handling', () => {
  it('a READY already STREAMED → SKIPPED_DUPLICATE: no execution, no record line, no push', async () => {
    const [first] = [...controlData.keys()];
    if (!first) throw new Error('no READY published yet');
    const before = await readyRecordsConsumed(state);
    const busBefore = (await envelopesOf(PRID_A)).length;
    await putControl(kinesis, controlData.get(first) ?? '', SRID);
    await eventually(
      async () => ((await readyRecordsConsumed(state)) > before ? true : undefined),
      'the replayed READY to be consumed',
      30_000,
    );
    // The consumer's outcome is only in its log line (SKIPPED_DUPLICATE writes nothing, by design).
    const outcomes = () =>
      fs
        .readFileSync(path.join(state.dataDir, 'logs', 'lambda.log'), 'utf8')
        .split('\n')
        .filter((line) => line.includes('"READY handled"') && line.includes(first))
        .map((line) => (JSON.parse(line.slice(line.indexOf('{'))) as { status: string }).status);
    expect(
      await eventually(
        async () => (outcomes().length === 2 ? outcomes() : undefined),
        'the log line',
        10_000,
      ),
    ).toEqual(['STARTED', 'SKIPPED_DUPLICATE']);
    expect(await executionsOf(first)).toEqual([first]);
    expect(await readyRun(first)).toEqual({ status: 'STREAMED', attempt: 1 });
    expect(await recordLines(first)).toEqual([{ status: 'STREAMED', reason: null, emitted: '4' }]);
    expect((await envelopesOf(PRID_A)).length).toBe(busBefore);
  });

  it('a READY of another platform run than the active one → SKIPPED_OUT_OF_SCOPE + RUN_CANCELLED, nothing streamed', async () => {
    const otherRun = srid('other-run');
    const r = await ready(PRID_OTHER, 'other', { scenarioRunId: otherRun });
    expect(await settled(r.message_id)).toBe('SKIPPED_OUT_OF_SCOPE');
    expect(await recordLines(r.message_id)).toEqual([
      { status: 'SKIPPED_OUT_OF_SCOPE', reason: 'PLATFORM_RUN_SCOPE_MISMATCH', emitted: null },
    ]);
    const eventId = sha256Hex(
      `RUN_CANCELLED|${PRID_OTHER}|${otherRun}|world_streamer_producer|cancelled:${r.message_id}:scope_mismatch`,
    );
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: PLATFORM_BUCKET, Prefix: `${PRID_OTHER}/obs/governance/events/` }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([
      `${PRID_OTHER}/obs/governance/events/${eventId}.json`,
    ]);
    const got = await s3.send(
      new GetObjectCommand({
        Bucket: PLATFORM_BUCKET,
        Key: `${PRID_OTHER}/obs/governance/events/${eventId}.json`,
      }),
    );
    expect(JSON.parse((await got.Body?.transformToString()) ?? '{}')).toMatchObject({
      event_id: eventId,
      event_family: 'RUN_CANCELLED',
      pins: { platform_run_id: PRID_OTHER, scenario_run_id: otherRun },
      details: {
        message_id: r.message_id,
        reason: 'PLATFORM_RUN_SCOPE_MISMATCH',
        active_platform_run_id: PRID_B,
      },
    });
    expect(await executionsOf(r.message_id)).toEqual([]);
    expect(await envelopesOf(PRID_OTHER)).toEqual([]);
  });

  it('a READY whose scenario_run_id differs from its facts → FAILED SCENARIO_RUN_ID_MISMATCH, nothing streamed', async () => {
    const r: ReadySignal = await ready(PRID_B, 'mismatch', {
      scenarioRunId: srid('not-the-facts'),
      factsScenarioRunId: SRID,
    });
    expect(await settled(r.message_id)).toBe('FAILED');
    expect(await recordLines(r.message_id)).toEqual([
      { status: 'FAILED', reason: 'SCENARIO_RUN_ID_MISMATCH', emitted: null },
    ]);
    expect(await executionsOf(r.message_id)).toEqual([]);
    expect(await envelopesOf(PRID_B)).toHaveLength(4);
  });
});

describe('§9.11 gates', () => {
  it('a missing gate flag → GATE_PASS_MISSING before any push', async () => {
    const copy = await copyEngineRun(
      s3,
      oracle.engineRunRoot,
      `engine-runs/wsp-acceptance-no-6b-flag-${stamp}`,
      (key, body) => (/^data\/layer3\/6B\/validation\/[^/]+\/_passed\.flag$/.test(key) ? undefined : body),
    );
    expect(copy.left).toHaveLength(1);
    await pinRun(pool, PRID_GATE, { max_events_per_output: 1 });
    const r = await ready(PRID_GATE, 'gate', { engineRunRoot: copy.root });
    const done = await finished(r.message_id);
    expect(done).toMatchObject({ status: 'FAILED', error: 'WSP_STREAM_FAILED', cause: 'GATE_PASS_MISSING' });
    const history = await historyOf(sfn, streamExecutionArn(state, r.message_id));
    const entered = history.map((e) => e.stateEnteredEventDetails?.name).filter(Boolean);
    expect(entered).toContain('FinishChecksFailed');
    expect(entered).not.toContain('Segment');
    expect(await recordLines(r.message_id)).toEqual([
      { status: 'FAILED', reason: 'GATE_PASS_MISSING', emitted: '0' },
    ]);
    expect(await admitted(PRID_GATE)).toEqual([]);
    expect(await envelopesOf(PRID_GATE)).toEqual([]);
  });
});
