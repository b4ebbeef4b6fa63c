import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  httpIngestionGateClient,
  postgresCheckpointStore,
  postgresReadyRunStore,
  s3EngineRunOpener,
  s3GovernanceSink,
  textAllowlistSource,
} from '../../../lib/adapters/world-streamer-stores.ts';
import { WSP_PRODUCER } from '../../../lib/contracts/envelope.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { platformRunIdAt } from '../../../lib/contracts/platform-run.ts';
import { runChunk } from '../../../lib/world-streamer/chunk.ts';
import { defaultSettings } from '../../../lib/world-streamer/settings.ts';
import type {
  ChunkLoopState,
  ChunkResult,
  StreamRunInput,
} from '../../../lib/world-streamer/stream-contracts.ts';
import { finishStream } from '../../../lib/world-streamer/stream-finish.ts';
import { prepareStream } from '../../../lib/world-streamer/stream-plan.ts';
import { runEnvelopes } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { STREAMED_ONLY } from '../../support/streamed-receipts.ts';
import {
  ACCEPTANCE_WORLD,
  BUS_STREAMS,
  type OracleWorld,
  openViews,
  oracleWorld,
  PLATFORM_BUCKET,
  viewEventIds,
  WSP_OUTPUTS,
} from '../../support/world-streamer.ts';

/**
 * Spec §9 check 11, the IG answers: the World Streamer's core (prepare, chunk, finish) run in the test process with
 * the real adapters — DuckDB reading the stream views from the stack's S3, checkpoints and the ready record in its
 * Postgres, governance in its S3 — pushing to a small HTTP server of this test that answers 429, 429 and then
 * passes the call on to the stack's IG, or 400. Each output is capped at one event. Both ways of pushing: one
 * envelope a call (`/v1/ingest/push`, the spec's) and IG's batch route (`/v1/ingest/batch`, as deployed).
 */

const { state } = inject('stack');
const { s3, sfn, kinesis } = clientsFor(state);
const HOUR = 3_600_000;
const stamp = Date.now() - 144 * HOUR - Math.floor(Math.random() * 1000) * 1000;
/** One push per event (the spec's), and IG's batch route as deployed (WSP_IG_PUSH_BATCH_SIZE 100). */
const BATCH_SIZES = [1, 100];
const settingsFor = (pushBatchSize: number) =>
  defaultSettings({ maxEventsPerOutput: 1, speedup: 0, pushBatchSize });
const ALLOWLIST = `# wsp/producer_allowlist_v0.txt\n${WSP_PRODUCER}\n`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsp-push-'));
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });
let oracle: OracleWorld;
let views: Awaited<ReturnType<typeof openViews>>;
let row0: Record<string, string[]>;

interface Pushed {
  route: string;
  /** The event ids of the call: one for a push, each envelope's for a batch. */
  eventIds: string[];
  body: string;
  apiKey: string | undefined;
}

/**
 * A stand-in for IG's push and batch routes: `answer(attempt, route, body)` decides what it says, `attempt` being
 * how many calls so far carried exactly these event ids.
 */
async function fakeGate(
  answer: (attempt: number, route: string, body: string) => Promise<{ status: number; body: string }>,
) {
  const pushed: Pushed[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const parsed = JSON.parse(body) as { event_id?: string; envelopes?: Array<{ event_id: string }> };
    const eventIds = parsed.envelopes ? parsed.envelopes.map((e) => e.event_id) : [parsed.event_id ?? ''];
    const route = req.url ?? '';
    pushed.push({ route, eventIds, body, apiKey: req.headers['x-ig-api-key'] as string | undefined });
    const same = pushed.filter((p) => p.route === route && p.eventIds.join() === eventIds.join()).length;
    const out = await answer(same, route, body);
    res.writeHead(out.status, { 'content-type': 'application/json' }).end(out.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    pushed,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One stream session as the state machine runs it (prepare → each output's chunk loop → finish), in process. */
async function stream(platformRunId: string, igUrl: string, pushBatchSize: number) {
  const SETTINGS = settingsFor(pushBatchSize);
  const scenarioRunId = sha256Hex(`wsp-push|${platformRunId}`).slice(0, 32);
  const messageId = sha256Hex(`wsp-push|ready|${platformRunId}`);
  const input: StreamRunInput = {
    message_id: messageId,
    run_id: scenarioRunId,
    platform_run_id: platformRunId,
    scenario_run_id: scenarioRunId,
    scenario_id: oracle.world.scenarioId,
    engine_run_root: oracle.engineRunRoot,
    session_id: messageId,
  };
  const prepared = await prepareStream(
    { engineRuns: s3EngineRunOpener(s3), allowlist: textAllowlistSource(ALLOWLIST) },
    input,
    SETTINGS,
  );
  if (prepared.kind !== 'plan') throw new Error(`stream checks failed: ${JSON.stringify(prepared.result)}`);
  const warnings: string[] = [];
  const deps = {
    checkpoints: postgresCheckpointStore(pool),
    views,
    ig: httpIngestionGateClient({ url: igUrl, apiKey: async () => 'local-parity-wsp', timeoutMs: 30_000 }),
    clock: { now: () => new Date() },
    sleeper: { sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) },
    random: Math.random,
    log: { info: () => undefined, warn: (line: string) => warnings.push(line) },
  };
  const outputs: ChunkResult[] = [];
  for (const { output_id } of prepared.plan.outputs) {
    let loop: Partial<ChunkLoopState> = {};
    for (;;) {
      const last = await runChunk(deps, { plan: prepared.plan, output_id, state: loop }, SETTINGS);
      if (last.status === 'DONE' || last.status === 'FAILED') {
        outputs.push(last);
        break;
      }
      loop = last.state;
    }
  }
  const result = await finishStream(
    {
      readyRuns: postgresReadyRunStore(pool),
      governance: s3GovernanceSink(s3, PLATFORM_BUCKET),
      clock: { now: () => new Date() },
    },
    { run: input, plan: prepared.plan, outputs },
    SETTINGS,
  );
  const checkpoints = await pool.query<{ output_id: string; next_row: string; reason: string }>(
    'SELECT output_id, next_row, reason FROM wsp_checkpoint WHERE pack_key = $1 ORDER BY output_id',
    [prepared.plan.checkpoint_scope_key],
  );
  const lines = await pool.query<{ status: string; reason: string | null; emitted: string }>(
    'SELECT status, reason, emitted FROM wsp_ready_record WHERE message_id = $1 ORDER BY line_id',
    [messageId],
  );
  return { outputs, result, warnings, checkpoints: checkpoints.rows, lines: lines.rows };
}

const receiptsOf = async (platformRunId: string) =>
  (
    await pool.query<{ event_id: string; decision: string }>(
      `SELECT event_id, decision FROM ig_receipts WHERE platform_run_id = $1 AND ${STREAMED_ONLY} ORDER BY event_id`,
      [platformRunId],
    )
  ).rows;

const row0Ids = () => WSP_OUTPUTS.flatMap((id) => row0[id] ?? []).sort();

beforeAll(async () => {
  oracle = await oracleWorld(sfn, state, path.join(dir, 'world'), ACCEPTANCE_WORLD);
  views = await openViews(s3, dir);
  row0 = await viewEventIds(views, oracle, 0, 1);
}, 300_000);

afterAll(async () => {
  views?.close();
  await pool.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(BATCH_SIZES)('§9.11 WSP push against IG answers, push batch size %i', (batchSize) => {
  const route = batchSize === 1 ? '/v1/ingest/push' : '/v1/ingest/batch';
  const offset = batchSize === 1 ? 0 : 2;

  it('429, 429, 200 → success on the third attempt with the same event_id and body; admitted once by the real IG', async () => {
    const prid = platformRunIdAt(new Date(stamp - offset * HOUR));
    const gate = await fakeGate(async (attempt, path, body) => {
      if (attempt <= 2) return { status: 429, body: '{"error":"RATE_LIMITED","detail":null}' };
      const res = await fetch(`${state.endpoints.http}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ig-api-key': 'local-parity-wsp' },
        body,
      });
      return { status: res.status, body: await res.text() };
    });
    try {
      const run = await stream(prid, gate.url, batchSize);
      expect(run.result).toEqual({ status: 'STREAMED', emitted: 4, reason: null });
      for (const o of run.outputs)
        expect(o).toMatchObject({ status: 'DONE', reason: 'max_events', pushed: 1 });

      // Cap 1: every call carries one envelope, the first row of an output; each is sent three times, unchanged.
      expect(gate.pushed.every((p) => p.route === route && p.eventIds.length === 1)).toBe(true);
      const ids = [...new Set(gate.pushed.flatMap((p) => p.eventIds))].sort();
      expect(ids).toEqual(row0Ids());
      expect(gate.pushed).toHaveLength(12);
      for (const id of ids) {
        const attempts = gate.pushed.filter((p) => p.eventIds[0] === id);
        expect(attempts).toHaveLength(3);
        expect(new Set(attempts.map((a) => a.body)).size).toBe(1);
        expect(attempts.every((a) => a.apiKey === 'local-parity-wsp')).toBe(true);
      }
      expect(run.warnings.filter((w) => w.includes('reason=http_429'))).toHaveLength(8);

      expect(await receiptsOf(prid)).toEqual(ids.map((event_id) => ({ event_id, decision: 'ADMIT' })));
      const onBus = (await runEnvelopes(kinesis, BUS_STREAMS, prid)).map((e) => e.envelope.event_id).sort();
      expect(onBus).toEqual(ids);
      expect(run.checkpoints).toEqual(
        [...WSP_OUTPUTS].sort().map((output_id) => ({ output_id, next_row: '1', reason: 'max_events' })),
      );
      expect(run.lines).toEqual([{ status: 'STREAMED', reason: null, emitted: '4' }]);
    } finally {
      await gate.close();
    }
  });

  it('400 → one attempt, the output stops and the stream is FAILED IG_PUSH_REJECTED; nothing acknowledged, nothing admitted', async () => {
    const prid = platformRunIdAt(new Date(stamp - (offset + 1) * HOUR));
    const refusal = '{"error":"NOT_AN_ENVELOPE","detail":"refused by the test gate"}';
    const gate = await fakeGate(async () => ({ status: 400, body: refusal }));
    try {
      const run = await stream(prid, gate.url, batchSize);
      expect(run.result).toEqual({
        status: 'FAILED',
        emitted: 0,
        reason: 'IG_PUSH_REJECTED',
        detail: refusal,
      });
      for (const o of run.outputs)
        expect(o).toMatchObject({ status: 'FAILED', reason: 'IG_PUSH_REJECTED', pushed: 0, next_row: 0 });
      // One attempt per event, the first event of each output, and never a retry.
      expect(gate.pushed.every((p) => p.route === route)).toBe(true);
      expect(gate.pushed.flatMap((p) => p.eventIds).sort()).toEqual(row0Ids());
      expect(run.warnings.filter((w) => w.includes('retry'))).toEqual([]);
      expect(run.checkpoints).toEqual([]);
      expect(run.lines).toEqual([{ status: 'FAILED', reason: 'IG_PUSH_REJECTED', emitted: '0' }]);
      expect(await receiptsOf(prid)).toEqual([]);
      expect(await runEnvelopes(kinesis, BUS_STREAMS, prid)).toEqual([]);
    } finally {
      await gate.close();
    }
  });
});
