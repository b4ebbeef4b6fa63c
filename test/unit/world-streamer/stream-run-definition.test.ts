import fs from 'node:fs';
import { ListExecutionsCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { segmentExecutionName } from '../../../lib/world-streamer/segments.ts';
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

/**
 * The stream-run and stream-output definitions themselves, on the local Step Functions server with a history limit
 * of 600 events and stand-in Lambdas: the chunk Lambda counts rows in its loop state. Three outputs of 70 chunks are
 * 210 chunks, about 1,900 events for a single execution looping over them; in segments of 8 chunks every execution
 * stays below 600 and every chunk runs once, in order, the state carried from segment to segment.
 */

const MAX_HISTORY_EVENTS = 600;
const CHUNKS_PER_SEGMENT = 8;
const SESSION = 'a'.repeat(64);
const CHUNKS: Record<string, number> = { context_a: 70, context_b: 70, traffic: 70 };
const OUTPUTS = Object.keys(CHUNKS);

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

interface ChunkCall {
  output_id: string;
  row: number;
}

/** The stand-in chunk: one row a chunk; every seventh asks for a (zero-second) wait; `broken` fails for good. */
function chunkLambda(calls: ChunkCall[], broken?: { output_id: string; row: number }) {
  return (event: unknown) => {
    const { output_id, state } = event as { output_id: string; state: { row?: number } };
    const row = state.row ?? 0;
    calls.push({ output_id, row });
    if (broken?.output_id === output_id && broken.row === row) {
      const error = new Error(`chunk ${row} of ${output_id} refused`);
      error.name = 'WSP_REQUEST_INVALID';
      throw error;
    }
    const next = row + 1;
    const done = next >= (CHUNKS[output_id] ?? 0);
    const wait = !done && next % 7 === 0;
    return {
      output_id,
      status: done ? 'DONE' : wait ? 'WAIT' : 'CONTINUE',
      reason: done ? 'output_complete' : null,
      emitted: next,
      pushed: 1,
      next_row: next,
      ...(wait ? { wait_seconds: 0 } : {}),
      state: { row: next },
    };
  };
}

const plan = {
  session_id: SESSION,
  outputs: OUTPUTS.map((output_id) => ({ output_id })),
  output_concurrency: 2,
  chunks_per_segment: CHUNKS_PER_SEGMENT,
  segment_name_prefix: SESSION,
};

describe('stream-run in segments of stream-output executions, under a history limit', () => {
  let lambda: FakeLambdaEndpoint | undefined;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>> | undefined;
  let client: SFNClient | undefined;
  const finishInputs: Json[] = [];

  async function start(calls: ChunkCall[], broken?: { output_id: string; row: number }) {
    lambda = await startFakeLambdaEndpoint({
      'world-streamer-stream-prepare': () => ({ kind: 'plan', plan }),
      'world-streamer-stream-chunk': chunkLambda(calls, broken),
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

  it('streams every chunk once, in order, and no execution reaches the limit', async () => {
    const calls: ChunkCall[] = [];
    const { sfn, executionArn } = await start(calls);
    const done = await waitForCompletion(sfn, executionArn, 60_000);
    expect(done.error ?? done.status).toBe('SUCCEEDED');

    for (const output_id of OUTPUTS) {
      const rows = calls.filter((c) => c.output_id === output_id).map((c) => c.row);
      expect(rows, output_id).toEqual(Array.from({ length: CHUNKS[output_id] ?? 0 }, (_, row) => row));
    }
    const output = JSON.parse(done.output ?? '{}') as {
      session_id: string;
      result: Json;
      outputs: Array<{ output_id: string; status: string; emitted: number }>;
    };
    expect(output.session_id).toBe(SESSION);
    expect(output.result).toEqual({ status: 'STREAMED', emitted: 210, reason: null });
    expect(output.outputs.map((o) => [o.output_id, o.status, o.emitted])).toEqual(
      OUTPUTS.map((id) => [id, 'DONE', CHUNKS[id]]),
    );
    expect(finishInputs[0]?.outputs).toEqual(output.outputs);

    const segments = Math.ceil(70 / CHUNKS_PER_SEGMENT);
    const children = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: stateMachineArn('stream-output'), maxResults: 1000 }),
    );
    expect((children.executions ?? []).map((e) => e.name).sort()).toEqual(
      OUTPUTS.flatMap((_, index) =>
        Array.from({ length: segments }, (_, segment) => segmentExecutionName(SESSION, index, segment)),
      ).sort(),
    );
    expect((children.executions ?? []).every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const lengths = await Promise.all(
      (children.executions ?? []).map(async (e) => (await historyOf(sfn, e.executionArn ?? '')).length),
    );
    const parent = (await historyOf(sfn, executionArn)).length;
    expect(Math.max(...lengths, parent)).toBeLessThan(MAX_HISTORY_EVENTS);
    // A full segment: 8 chunks, one of them pacing - far from 600; the parent: 8 events a segment.
    expect(Math.max(...lengths)).toBeLessThan(100);
    expect(parent).toBeLessThan(30 + OUTPUTS.length * (4 + 8 * segments) + 1);
  });

  it('a chunk that fails for good fails its segment: the stream breaks and finish learns the chunk error', async () => {
    const calls: ChunkCall[] = [];
    const { sfn, executionArn } = await start(calls, { output_id: 'traffic', row: 20 });
    const done = await waitForCompletion(sfn, executionArn, 60_000);
    expect(done).toMatchObject({ status: 'FAILED', error: 'WSP_STREAM_FAILED' });
    expect(calls.filter((c) => c.output_id === 'traffic' && c.row === 20)).toHaveLength(1);
    expect(calls.some((c) => c.output_id === 'traffic' && c.row > 20)).toBe(false);
    const caught = finishInputs.find((input) => input.error)?.error as { Error?: string; Cause?: string };
    expect(caught.Error).toBe('States.TaskFailed');
    expect(brokenStreamDetail(caught)).toMatch(/^WSP_REQUEST_INVALID: .*chunk 20 of traffic refused/);
  });
});
