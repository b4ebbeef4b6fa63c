import fs from 'node:fs';
import { ListExecutionsCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ChunkDeps, runChunk } from '../../../lib/world-streamer/chunk.ts';
import { envelopeEpochMicros } from '../../../lib/world-streamer/pacing.ts';
import { outputChunksPerSegment, segmentExecutionName } from '../../../lib/world-streamer/segments.ts';
import { defaultSettings } from '../../../lib/world-streamer/settings.ts';
import { brokenStreamDetail } from '../../../lib/world-streamer/stream-finish.ts';
import type { startStepFunctionsServer } from '../../../local/step-functions/server.ts';
import { historyOf } from '../../support/executions.ts';
import {
  type FakeLambdaEndpoint,
  lambdaArn,
  startFakeLambdaEndpoint,
  startLocalStepFunctions,
  stateMachineArn,
  waitForCompletion,
} from '../local/step-functions/fixtures.ts';
import {
  memoryCheckpoints,
  memoryIngestionGate,
  memoryLog,
  memoryStreamViews,
  virtualTime,
} from './fakes.ts';
import { ALIGNED_OUTPUTS, ANCHOR, ARRIVALS, alignedPlan, rowOf, tsAt } from './rounds.ts';
import { TRAFFIC } from './stream-fixture.ts';

/**
 * The stream-run and stream-output definitions themselves, on the local Step Functions server with a history limit
 * of 600 events, the chunk Lambda being the real core over in-memory ports. Three outputs (traffic every 10 s of
 * event time, anchors every 30 s, arrivals every 45 s) read 2 rows a chunk, aligned on 60 s windows: ~110 chunks in
 * ~25 rounds, far more history than one execution may hold. In segments of 24 chunks (8 an output) every execution
 * stays below 600, every row is pushed once, and no output runs a window ahead of another.
 */

const MAX_HISTORY_EVENTS = 600;
const CHUNKS_PER_SEGMENT = 24;
const WINDOW = 60;
const SESSION = 'a'.repeat(64);
const TIMES: Record<string, number[]> = {
  [ARRIVALS]: Array.from({ length: 30 }, (_, i) => 5 + i * 45),
  [ANCHOR]: Array.from({ length: 45 }, (_, i) => i * 30),
  [TRAFFIC]: Array.from({ length: 130 }, (_, i) => 3 + i * 10),
};
const ROWS = Object.values(TIMES).reduce((n, t) => n + t.length, 0);

type Json = Record<string, unknown>;

/** The YAML with each Lambda's Fn::GetAtt and the child machine's Ref resolved as the deploy would. */
function definitionOf(file: string): Json {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Json;
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return lambdaArn(String(getAtt[0]));
    if (o.Ref === 'StreamOutputStateMachine') return stateMachineArn('stream-output');
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve(parse(fs.readFileSync(file, 'utf8'))) as Json;
}

const plan = alignedPlan(WINDOW, {
  session_id: SESSION,
  segment_name_prefix: SESSION,
  chunks_per_segment: CHUNKS_PER_SEGMENT,
});

/** The chunk Lambda: the core over in-memory ports; the `broken`-th chunk of `output` fails for good. */
function chunkLambda(broken?: { output: string; call: number }) {
  const time = virtualTime();
  const ig = memoryIngestionGate();
  const views = memoryStreamViews(
    Object.fromEntries(
      Object.entries(TIMES).map(([id, times]) => [id, [times.map((t, n) => rowOf(id, n, t))]]),
    ),
  );
  const deps: ChunkDeps = {
    checkpoints: memoryCheckpoints().store,
    views: views.reader,
    ig: ig.client,
    clock: time.clock,
    sleeper: time.sleeper,
    random: () => 0,
    log: memoryLog(),
  };
  const settings = defaultSettings({ speedup: 0, chunkRows: 2 });
  const calls: string[] = [];
  const invoke = async (event: unknown) => {
    const outputId = (event as { output_id: string }).output_id;
    calls.push(outputId);
    if (broken?.output === outputId && calls.filter((c) => c === outputId).length === broken.call) {
      const error = new Error(`chunk ${broken.call} of ${outputId} refused`);
      error.name = 'WSP_REQUEST_INVALID';
      throw error;
    }
    return runChunk(deps, event, settings);
  };
  return { invoke, ig, calls };
}

describe('stream-run: segments of aligned rounds over every output, under a history limit', () => {
  let lambda: FakeLambdaEndpoint | undefined;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>> | undefined;
  let client: SFNClient | undefined;
  const finishInputs: Json[] = [];

  async function start(chunk: ReturnType<typeof chunkLambda>) {
    lambda = await startFakeLambdaEndpoint({
      'world-streamer-stream-prepare': () => ({ kind: 'plan', plan }),
      'world-streamer-stream-chunk': chunk.invoke,
      'world-streamer-stream-finish': (event) => {
        const input = event as { outputs?: Array<{ emitted: number }>; error?: Json };
        finishInputs.push(input as Json);
        if (input.error) return { status: 'FAILED', emitted: 0, reason: 'STREAM_FAILED' };
        const emitted = (input.outputs ?? []).reduce((sum, o) => sum + o.emitted, 0);
        return { status: 'STREAMED', emitted, reason: null };
      },
    });
    const local = await startLocalStepFunctions(
      [
        { name: 'stream-output', definition: definitionOf('statemachines/stream-output.asl.yml') },
        { name: 'stream-run', definition: definitionOf('statemachines/stream-run.asl.yml') },
      ],
      lambda.url,
      { maxHistoryEvents: MAX_HISTORY_EVENTS },
    );
    server = local.server;
    client = local.client;
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn('stream-run'),
        name: SESSION,
        input: JSON.stringify({ session_id: SESSION }),
      }),
    );
    return { sfn: client, executionArn: started.executionArn ?? '' };
  }

  afterEach(async () => {
    client?.destroy();
    await server?.close();
    await lambda?.close();
    finishInputs.length = 0;
  });

  it('pushes every row once, no output a window ahead of another, and no execution reaches the limit', async () => {
    const chunk = chunkLambda();
    const { sfn, executionArn } = await start(chunk);
    const done = await waitForCompletion(sfn, executionArn, 120_000);
    expect(done.error ?? done.status, done.cause).toBe('SUCCEEDED');

    const admitted = [...chunk.ig.admitted.values()];
    expect(chunk.ig.calls).toHaveLength(ROWS);
    expect(admitted).toHaveLength(ROWS);
    // In admission order, nothing leads an event of another output admitted after it by a whole window.
    const t0 = envelopeEpochMicros(tsAt(0));
    const front = new Map<string, number>();
    let lead = 0;
    for (const e of admitted) {
      const ts = (envelopeEpochMicros(e.ts_utc) - t0) / 1e6;
      for (const [type, max] of front) if (type !== e.event_type) lead = Math.max(lead, max - ts);
      front.set(e.event_type, Math.max(front.get(e.event_type) ?? 0, ts));
    }
    expect(lead).toBeLessThan(WINDOW);

    const output = JSON.parse(done.output ?? '{}') as {
      session_id: string;
      result: Json;
      align_window_seconds: number;
      outputs: Array<{ output_id: string; status: string; emitted: number }>;
    };
    expect(output.session_id).toBe(SESSION);
    expect(output.align_window_seconds).toBe(WINDOW);
    expect(output.result).toEqual({ status: 'STREAMED', emitted: ROWS, reason: null });
    expect(output.outputs.map((o) => [o.output_id, o.status, o.emitted])).toEqual(
      ALIGNED_OUTPUTS.map((o) => [o.output_id, 'DONE', TIMES[o.output_id]?.length]),
    );
    expect(finishInputs[0]?.outputs).toEqual(output.outputs);

    const children =
      (
        await sfn.send(
          new ListExecutionsCommand({ stateMachineArn: stateMachineArn('stream-output'), maxResults: 1000 }),
        )
      ).executions ?? [];
    expect(children.length).toBeGreaterThan(2);
    expect(children.map((e) => e.name).sort()).toEqual(
      Array.from({ length: children.length }, (_, s) => segmentExecutionName(SESSION, s)).sort(),
    );
    expect(children.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const share = outputChunksPerSegment(CHUNKS_PER_SEGMENT, ALIGNED_OUTPUTS.length);
    let events = 0;
    for (const child of children) {
      const history = await historyOf(sfn, child.executionArn ?? '');
      events += history.length;
      expect(history.length, child.name).toBeLessThan(MAX_HISTORY_EVENTS);
      const chunks = history.filter(
        (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === 'Chunk',
      );
      // Each output runs at most its share of the segment's chunks.
      const perOutput = new Map<string, number>();
      for (const e of chunks) {
        const id = (
          JSON.parse(e.stateEnteredEventDetails?.input ?? '{}') as { last?: { output_id?: string } }
        ).last?.output_id;
        perOutput.set(id ?? '', (perOutput.get(id ?? '') ?? 0) + 1);
      }
      for (const [id, n] of perOutput) expect(n, `${child.name} ${id}`).toBeLessThanOrEqual(share);
    }
    expect(events).toBeGreaterThan(MAX_HISTORY_EVENTS);
    // The parent: 8 events a segment, ~30 besides.
    expect((await historyOf(sfn, executionArn)).length).toBeLessThan(30 + 8 * children.length + 1);
  }, 60_000); // the local Step Functions server runs ~1,700 history events: seconds, more under load

  it('a chunk that fails for good fails its segment: the stream breaks and finish learns the chunk error', async () => {
    const chunk = chunkLambda({ output: TRAFFIC, call: 6 });
    const { sfn, executionArn } = await start(chunk);
    const done = await waitForCompletion(sfn, executionArn, 60_000);
    expect(done).toMatchObject({ status: 'FAILED', error: 'WSP_STREAM_FAILED' });
    expect(chunk.calls.filter((c) => c === TRAFFIC)).toHaveLength(6);
    const caught = finishInputs.find((input) => input.error)?.error as { Error?: string; Cause?: string };
    expect(caught.Error).toBe('States.TaskFailed');
    expect(brokenStreamDetail(caught)).toMatch(
      /^WSP_REQUEST_INVALID: .*chunk 6 of s3_event_stream_with_fraud_6B refused/,
    );
  }, 60_000); // the local Step Functions server runs ~1,700 history events: seconds, more under load
});
