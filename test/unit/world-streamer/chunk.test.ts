import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChunkDeps, runChunk } from '../../../lib/world-streamer/chunk.ts';
import { defaultSettings, type WorldStreamerSettings } from '../../../lib/world-streamer/settings.ts';
import type {
  ChunkLoopState,
  ChunkResult,
  StreamPlan,
} from '../../../lib/world-streamer/stream-contracts.ts';
import {
  memoryCheckpoints,
  memoryIngestionGate,
  memoryLog,
  memoryStreamViews,
  virtualTime,
} from './fakes.ts';
import { PLATFORM_RUN_ID, SCENARIO_RUN_ID, sha, TRAFFIC, trafficPlan, trafficRow } from './stream-fixture.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const rowsAt = (offsetsMs: number[]) => offsetsMs.map((ms, i) => trafficRow(1000 + i, 1, at(ms)));

function harness(
  parts: Record<string, unknown>[][],
  script?: Parameters<typeof memoryIngestionGate>[0],
  itemError?: Parameters<typeof memoryIngestionGate>[1],
) {
  const time = virtualTime();
  const ig = memoryIngestionGate(script, itemError);
  const checkpoints = memoryCheckpoints();
  const views = memoryStreamViews({ [TRAFFIC]: parts });
  const log = memoryLog();
  const deps: ChunkDeps = {
    checkpoints: checkpoints.store,
    views: views.reader,
    ig: ig.client,
    clock: time.clock,
    sleeper: time.sleeper,
    random: () => 0,
    log,
  };
  return { time, ig, checkpoints, views, log, deps };
}

/** What the state machine does: loop on CONTINUE, wait on WAIT, stop on DONE/FAILED; retry a thrown chunk. */
async function streamOutput(
  h: ReturnType<typeof harness>,
  plan: StreamPlan,
  settings: WorldStreamerSettings,
  retries = 0,
): Promise<{ last: ChunkResult; chunks: number; crashes: number }> {
  let state: Partial<ChunkLoopState> = {};
  let chunks = 0;
  let crashes = 0;
  for (;;) {
    let result: ChunkResult;
    try {
      chunks += 1;
      result = await runChunk(h.deps, { plan, output_id: TRAFFIC, state }, settings);
    } catch (error) {
      crashes += 1;
      if (crashes > retries) throw error;
      continue;
    }
    if (result.status === 'DONE' || result.status === 'FAILED') return { last: result, chunks, crashes };
    if (result.status === 'WAIT') h.time.advance((result.wait_seconds ?? 0) * 1000);
    state = result.state;
    if (chunks > 10_000) throw new Error('no progress');
  }
}

const NO_PACE = defaultSettings({ speedup: 0 });
const flowOf = (e: { payload?: Record<string, unknown> | undefined }) => Number(e.payload?.flow_id);

describe('one chunk (control-ingress.md §4.4–§4.7)', () => {
  it('golden: the pushed envelope is §4.4 (spec §9 check 8 shape; Python-computed event_id)', async () => {
    const MF = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
    const PH = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';
    const row = {
      ...trafficRow(9007199254740993n, 3, '2026-01-01T00:00:05.25Z'),
      manifest_fingerprint: MF,
      parameter_hash: PH,
    };
    const plan = trafficPlan({
      manifest_fingerprint: MF,
      parameter_hash: PH,
      engine_run_id: '89abcdef0123456789abcdef01234567',
      pack_key: sha('s3://oracle-store/local_full_run-5/c25a2675fbfbacd952b13bb594880e92'),
    });
    const h = harness([[row]]);
    const result = await runChunk(h.deps, { plan, output_id: TRAFFIC }, NO_PACE);
    expect(result).toMatchObject({
      status: 'DONE',
      reason: 'output_complete',
      emitted: 1,
      pushed: 1,
      next_row: 1,
    });
    expect(h.ig.calls).toHaveLength(1);
    expect(h.ig.calls[0]).toEqual({
      event_id: 'c20e21fc01d4bb0d2008f35d5c5a12aa771f1cb8b9b64bf8081ec9a2245de148',
      event_type: TRAFFIC,
      schema_version: 'v1',
      ts_utc: '2026-01-01T00:00:05.250000Z',
      manifest_fingerprint: MF,
      parameter_hash: PH,
      seed: 42,
      scenario_id: 'baseline_v1',
      run_id: '89abcdef0123456789abcdef01234567',
      platform_run_id: PLATFORM_RUN_ID,
      scenario_run_id: SCENARIO_RUN_ID,
      producer: 'svc:world_stream_producer',
      trace_id: '3d715e502ebb506caa26d4ae618d2d07c4e751ffc606b2732a51c53ffdb37513',
      payload: row,
    });
  });

  it('spec §9 check 9: 2 rows, cap 1 → 1 push; rerun in the same platform run → only row 2; new platform run → row 1', async () => {
    const h = harness([rowsAt([0, 1000])]);
    const settings = defaultSettings({ speedup: 0, maxEventsPerOutput: 1 });
    const first = await streamOutput(h, trafficPlan(), settings);
    expect(first.last).toMatchObject({ status: 'DONE', reason: 'max_events', emitted: 1, next_row: 1 });
    expect(h.ig.calls.map((e) => e.payload?.flow_id)).toEqual([1000]);
    expect(h.log.lines).toContain(
      `WSP stream stop run_id=${trafficPlan().engine_run_id} output_id=${TRAFFIC} emitted=1 reason=max_events`,
    );
    // The same session again (a retried state): still capped, nothing pushed.
    await runChunk(h.deps, { plan: trafficPlan(), output_id: TRAFFIC }, settings);
    expect(h.ig.calls).toHaveLength(1);

    await streamOutput(h, trafficPlan({ session_id: `${trafficPlan().session_id}-2` }), settings);
    expect(h.ig.calls.map((e) => e.payload?.flow_id)).toEqual([1000, 1001]);

    const otherRun = 'platform_20260102T000000Z';
    const plan = trafficPlan({
      platform_run_id: otherRun,
      checkpoint_scope_key: sha(`${trafficPlan().pack_key}|${otherRun}|${SCENARIO_RUN_ID}|1|0|`),
    });
    await streamOutput(h, plan, settings);
    expect(h.ig.calls.map((e) => e.payload?.flow_id)).toEqual([1000, 1001, 1000]);
    expect(h.ig.calls[2]?.platform_run_id).toBe(otherRun);
  });

  it('paces by event time: Δt / speedup before each row after the first; speedup 0 never sleeps', async () => {
    const paced = harness([rowsAt([0, 60_000]), rowsAt([60_000, 180_000])]);
    await streamOutput(paced, trafficPlan(), defaultSettings({ speedup: 600 }));
    expect(paced.time.sleeps).toEqual([100, 200]);
    const unpaced = harness([rowsAt([0, 60_000, 180_000])]);
    await streamOutput(unpaced, trafficPlan(), NO_PACE);
    expect(unpaced.time.sleeps).toEqual([]);
  });

  it('keeps pacing across chunks of one session, and hands long gaps to a Wait state', async () => {
    const h = harness([rowsAt([0, 60_000, 7_260_000])]);
    const settings = defaultSettings({ speedup: 600, chunkRows: 1 });
    const plan = trafficPlan();
    const one = await runChunk(h.deps, { plan, output_id: TRAFFIC }, settings);
    expect(one).toMatchObject({ status: 'CONTINUE', emitted: 1, next_row: 1 });
    const two = await runChunk(h.deps, { plan, output_id: TRAFFIC, state: one.state }, settings);
    expect(h.time.sleeps).toEqual([100]);
    expect(two).toMatchObject({ status: 'CONTINUE', emitted: 2, next_row: 2 });
    // 2 h of event time / 600 = 12 s ≥ the 10 s threshold: waited by the state machine, not in the Lambda.
    const three = await runChunk(h.deps, { plan, output_id: TRAFFIC, state: two.state }, settings);
    expect(three).toMatchObject({ status: 'WAIT', wait_seconds: 12, pushed: 0, next_row: 2 });
    expect(three.state.due_at_ms).toBe(h.time.nowMs() + 12_000);
    h.time.advance(11_700);
    const four = await runChunk(h.deps, { plan, output_id: TRAFFIC, state: three.state }, settings);
    expect(h.time.sleeps).toEqual([100, 300]);
    expect(four).toMatchObject({ status: 'CONTINUE', emitted: 3, next_row: 3 });
    expect(four.state.due_at_ms).toBeUndefined();
  });

  it('a pacing delay that would overrun the chunk budget is handed to a Wait state, acknowledged rows checkpointed', async () => {
    const h = harness([rowsAt([0, 6000, 12_000, 18_000])]);
    const settings = defaultSettings({ speedup: 1, chunkBudgetMs: 10_000, waitThresholdMs: 0 });
    const first = await runChunk(h.deps, { plan: trafficPlan(), output_id: TRAFFIC }, settings);
    expect(first).toMatchObject({ status: 'WAIT', emitted: 2, next_row: 2 });
  });

  it('400 stops the output FAILED IG_PUSH_REJECTED; the checkpoint covers only the acknowledged row', async () => {
    let reject = true;
    const h = harness([rowsAt([0, 1000, 2000])], (_, envelope) =>
      reject && envelope.payload?.flow_id === 1001 ? 400 : undefined,
    );
    const failedRun = await streamOutput(h, trafficPlan(), NO_PACE);
    expect(failedRun.last).toMatchObject({
      status: 'FAILED',
      reason: 'IG_PUSH_REJECTED',
      emitted: 1,
      next_row: 1,
    });
    expect(failedRun.last.detail).toHaveLength(256);
    expect([...h.checkpoints.rows.values()][0]).toMatchObject({
      next_row: 1,
      reason: 'failed_prefix',
      last_row_index: 0,
    });
    reject = false;
    const retried = await streamOutput(h, trafficPlan({ session_id: 'retry-session' }), NO_PACE);
    expect(retried.last).toMatchObject({
      status: 'DONE',
      reason: 'output_complete',
      emitted: 2,
      next_row: 3,
    });
    expect(h.ig.calls.map((e) => e.payload?.flow_id)).toEqual([1000, 1001, 1001, 1002]);
  });

  it('a row without a primary-key value or a parseable ts_utc fails the output before it is pushed', async () => {
    const noKey = harness([[{ ...trafficRow(1, 1, at(0)), flow_id: null }]]);
    expect(await runChunk(noKey.deps, { plan: trafficPlan(), output_id: TRAFFIC }, NO_PACE)).toMatchObject({
      status: 'FAILED',
      reason: 'PRIMARY_KEY_MISSING',
      detail: 'flow_id',
    });
    const noTime = harness([[trafficRow(1, 1, 'soon')]]);
    expect(await runChunk(noTime.deps, { plan: trafficPlan(), output_id: TRAFFIC }, NO_PACE)).toMatchObject({
      status: 'FAILED',
      reason: 'TS_UTC_INVALID',
    });
    expect([...noKey.ig.calls, ...noTime.ig.calls]).toEqual([]);
  });

  it('another writer advancing the checkpoint fails the chunk CHECKPOINT_CONFLICT', async () => {
    const h = harness([rowsAt([0, 1000])]);
    const stale = { ...h.deps, checkpoints: { ...h.deps.checkpoints, load: async () => undefined } };
    await runChunk(
      h.deps,
      { plan: trafficPlan(), output_id: TRAFFIC },
      defaultSettings({ speedup: 0, chunkRows: 1 }),
    );
    const result = await runChunk(stale, { plan: trafficPlan(), output_id: TRAFFIC }, NO_PACE);
    expect(result).toMatchObject({ status: 'FAILED', reason: 'CHECKPOINT_CONFLICT' });
  });

  it('logs start, progress every N events and completion (§4.8)', async () => {
    const h = harness([rowsAt([0, 1, 2, 3, 4])]);
    await streamOutput(h, trafficPlan(), defaultSettings({ speedup: 0, progressEvery: 2, chunkRows: 2 }));
    const runId = trafficPlan().engine_run_id;
    expect(h.log.lines).toEqual([
      `WSP stream start run_id=${runId} output_id=${TRAFFIC} max_events=all speedup=0.00`,
      `WSP stream_view progress output_id=${TRAFFIC} emitted=2 last_file=part-000000.parquet row=1 ts=2026-01-01T00:00:00.001000Z`,
      `WSP stream_view progress output_id=${TRAFFIC} emitted=4 last_file=part-000000.parquet row=3 ts=2026-01-01T00:00:00.003000Z`,
      `WSP stream complete run_id=${runId} output_id=${TRAFFIC} emitted=5`,
    ]);
  });

  it('lanes split an output: each event goes to exactly one lane', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => trafficRow(i, 1, at(i)));
    const h = harness([rows]);
    for (const laneIndex of [0, 1, 2]) {
      const plan = trafficPlan({
        checkpoint_scope_key: sha(`lane ${laneIndex}`),
        session_id: `lane-${laneIndex}`,
      });
      await streamOutput(h, plan, defaultSettings({ speedup: 0, laneCount: 3, laneIndex, chunkRows: 7 }));
    }
    expect(h.ig.calls).toHaveLength(40);
    expect(h.ig.admitted.size).toBe(40);
  });

  it('property: the per-output cap is never exceeded, whatever the chunk size and push concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        async (n, chunkRows, cap, pushConcurrency, pushBatchSize) => {
          const h = harness([rowsAt(Array.from({ length: n }, (_, i) => i * 1000))]);
          const settings = defaultSettings({
            speedup: 0,
            chunkRows,
            maxEventsPerOutput: cap,
            pushConcurrency,
            pushBatchSize,
          });
          const { last } = await streamOutput(h, trafficPlan(), settings);
          const expected = cap === 0 ? n : Math.min(cap, n);
          expect(h.ig.calls).toHaveLength(expected);
          expect(last.emitted).toBe(expected);
          expect(last.reason).toBe(cap > 0 && n >= cap ? 'max_events' : 'output_complete');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: with crashes mid-chunk and before the checkpoint, every event reaches the idempotent IG exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        async (n, chunkRows, pushConcurrency, sleepCrashes, saveCrashes, pushBatchSize) => {
          // Events come in threes at one event time, so batches form between pacing sleeps.
          const h = harness([rowsAt(Array.from({ length: n }, (_, i) => Math.floor(i / 3) * 600))]);
          // A crash while pacing (mid-chunk, after earlier pushes) and a crash of the checkpoint write.
          let sleeps = 0;
          h.deps.sleeper = {
            async sleep(ms) {
              if (sleepCrashes[sleeps++]) throw new Error('Lambda timed out');
              h.time.advance(ms);
            },
          };
          let saves = 0;
          const save = h.deps.checkpoints.save.bind(h.deps.checkpoints);
          h.deps.checkpoints = {
            load: h.deps.checkpoints.load.bind(h.deps.checkpoints),
            async save(checkpoint, version) {
              if (saveCrashes[saves++]) throw new Error('connection reset');
              return save(checkpoint, version);
            },
          };
          const settings = defaultSettings({ speedup: 600, chunkRows, pushConcurrency, pushBatchSize });
          const { last, crashes } = await streamOutput(h, trafficPlan(), settings, 10_000);
          expect(last).toMatchObject({ status: 'DONE', reason: 'output_complete', next_row: n });
          expect(h.ig.admitted.size).toBe(n);
          expect(new Set(h.ig.calls.map((e) => e.event_id)).size).toBe(n);
          // Each crash re-sends at most one chunk.
          expect(h.ig.calls.length - n).toBeLessThanOrEqual(crashes * chunkRows);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('batches the envelopes a chunk sends without pacing between them; a sleep sends the batch first', async () => {
    const h = harness([rowsAt([0, 0, 0, 0, 0, 1200, 1200, 1200])]);
    const settings = defaultSettings({ speedup: 600, chunkRows: 100, pushBatchSize: 4 });
    const { last } = await streamOutput(h, trafficPlan(), settings);
    expect(last).toMatchObject({ status: 'DONE', reason: 'output_complete', emitted: 8 });
    // 4 + 1 at t=0, the 2 ms sleep, then 3 at t=1.2 s.
    expect(h.ig.batches).toEqual([4, 1, 3]);
    expect(h.ig.admitted.size).toBe(8);
  });

  it('a batch item IG marks retryable is sent again alone; one it refuses fails the output IG_PUSH_REJECTED', async () => {
    let refusals = 1;
    const h = harness([rowsAt([0, 0, 0])], undefined, (e) =>
      flowOf(e) === 1001 && refusals-- > 0 ? { error: 'PUBLISH_PENDING_RETRY', retryable: true } : undefined,
    );
    const settings = defaultSettings({ speedup: 0, pushBatchSize: 10 });
    expect((await streamOutput(h, trafficPlan(), settings)).last).toMatchObject({
      status: 'DONE',
      emitted: 3,
    });
    expect(h.ig.batches).toEqual([3, 1]);

    const g = harness([rowsAt([0, 0, 0])], undefined, (e) =>
      flowOf(e) === 1002 ? { error: 'NOT_AN_ENVELOPE', retryable: false } : undefined,
    );
    const { last } = await streamOutput(g, trafficPlan(), settings);
    expect(last).toMatchObject({ status: 'FAILED', reason: 'IG_PUSH_REJECTED', emitted: 0, next_row: 0 });
    expect(last.detail).toContain('NOT_AN_ENVELOPE');
  });
});
