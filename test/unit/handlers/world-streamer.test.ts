import './handler-environment.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as readyConsumer } from '../../../functions/world-streamer/ready-consumer.ts';
import { handler as chunk } from '../../../functions/world-streamer/stream-chunk.ts';
import { handler as finish } from '../../../functions/world-streamer/stream-finish.ts';
import { handler as prepare } from '../../../functions/world-streamer/stream-prepare.ts';
import { setAsideControlRecord } from '../../../lib/adapters/world-streamer-stores.ts';
import { PlatformError, RetryableError } from '../../../lib/errors/platform-error.ts';
import { runChunk } from '../../../lib/world-streamer/chunk.ts';
import { handleControlRecord } from '../../../lib/world-streamer/ready-consumer.ts';
import { finishStreamSession } from '../../../lib/world-streamer/stream-finish.ts';
import { prepareRunStream } from '../../../lib/world-streamer/stream-plan.ts';
import { kinesisEvent, lambdaContext, taskEvent, taskFailure } from './factories.ts';

vi.mock('../../../lib/adapters/world-streamer-dependencies.ts', async (original) => ({
  ...(await original<object>()),
  readyConsumerPorts: () => ({ port: 'ready ports' }),
  streamPreparePorts: () => ({ port: 'prepare ports' }),
  streamChunkPorts: () => ({ checkpoints: async () => 'checkpoints', ig: 'ig' }),
  streamFinishPorts: () => ({ readyRuns: async () => 'ready runs', governance: 'governance' }),
}));
vi.mock('../../../lib/adapters/world-streamer-stores.ts', async (original) => ({
  ...(await original<object>()),
  setAsideControlRecord: vi.fn(async () => 'wsp/control-bus-rejects/x.json'),
}));
vi.mock('../../../lib/adapters/duckdb/s3-stream-views.ts', () => ({
  s3StreamViews: () => async () => 'views',
}));
vi.mock('../../../lib/world-streamer/ready-consumer.ts', () => ({ handleControlRecord: vi.fn() }));
vi.mock('../../../lib/world-streamer/stream-plan.ts', () => ({ prepareRunStream: vi.fn() }));
vi.mock('../../../lib/world-streamer/chunk.ts', () => ({ runChunk: vi.fn() }));
vi.mock('../../../lib/world-streamer/stream-finish.ts', async (original) => ({
  ...(await original<object>()),
  finishStreamSession: vi.fn(),
}));

const context = lambdaContext();
const control = (payload: unknown) => JSON.stringify({ topic: 'fp.bus.control.v1', payload });
const HEX32 = '0123456789abcdef0123456789abcdef';
const HEX64 = HEX32 + HEX32;
const run = {
  message_id: HEX64,
  run_id: HEX32,
  platform_run_id: 'platform_20261207T030000Z',
  scenario_run_id: HEX32,
  scenario_id: 'baseline_v1',
  engine_run_root: 's3://oracle-store/engine-runs/x',
  session_id: 'session-1',
};

beforeEach(() => {
  vi.clearAllMocks();
});

describe('world-streamer ready consumer (stream edge)', () => {
  it('each record parsed as a control-bus record goes to the core, in order; no failures', async () => {
    vi.mocked(handleControlRecord).mockResolvedValue(undefined);
    const event = kinesisEvent([{ data: control({ n: 1 }) }, { data: control({ n: 2 }) }]);
    await expect(readyConsumer(event, context)).resolves.toEqual({ batchItemFailures: [] });
    expect(vi.mocked(handleControlRecord).mock.calls.map((c) => c[1])).toEqual([
      { topic: 'fp.bus.control.v1', payload: { n: 1 } },
      { topic: 'fp.bus.control.v1', payload: { n: 2 } },
    ]);
  });

  it('a record that fails its schema is poison: set aside with the reason, the shard moves on', async () => {
    vi.mocked(handleControlRecord).mockResolvedValue(undefined);
    const event = kinesisEvent([
      { data: 'not json {' },
      { data: JSON.stringify({ no: 'topic' }) },
      { data: control({}) },
    ]);
    await expect(readyConsumer(event, context)).resolves.toEqual({ batchItemFailures: [] });
    const reasons = vi.mocked(setAsideControlRecord).mock.calls.map((c) => c[3]);
    expect(reasons[0]).toMatch(/^not JSON/);
    expect(reasons[1]).toMatch(/no topic/);
    expect(handleControlRecord).toHaveBeenCalledTimes(1);
  });

  it('core errors: non-retryable PlatformError set aside; retryable and unknown ones fail the record', async () => {
    vi.mocked(handleControlRecord)
      .mockRejectedValueOnce(new PlatformError('RUN_FACTS_INVALID', 'bad facts'))
      .mockRejectedValueOnce(new RetryableError('postgres unavailable'))
      .mockRejectedValueOnce(new Error('socket hang up'));
    const event = kinesisEvent([
      { data: control({}), partitionKey: 'a', sequenceNumber: '1' },
      { data: control({}), partitionKey: 'b', sequenceNumber: '2' },
      { data: control({}), partitionKey: 'c', sequenceNumber: '3' },
    ]);
    await expect(readyConsumer(event, context)).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: '2' }, { itemIdentifier: '3' }],
    });
    expect(vi.mocked(setAsideControlRecord).mock.calls.map((c) => c[3])).toEqual(['bad facts']);
  });

  it('an event that is not a Kinesis event fails as a whole', async () => {
    await expect(readyConsumer({ Records: [{ nope: true }] }, context)).rejects.toMatchObject({
      name: 'ParseError',
    });
  });
});

describe('world-streamer stream-run tasks (task edge)', () => {
  it('prepare: the input goes to the core; the plan or the failed result is the output', async () => {
    vi.mocked(prepareRunStream).mockResolvedValue({ kind: 'failed', result: { status: 'FAILED' } } as never);
    await expect(prepare(taskEvent(run), context)).resolves.toMatchObject({ kind: 'failed' });
    expect(vi.mocked(prepareRunStream).mock.calls[0]?.[0]).toEqual({ port: 'prepare ports' });
    expect(vi.mocked(prepareRunStream).mock.calls[0]?.[1]).toEqual(run);
  });

  it('every stream task: an event that fails its schema is WSP_REQUEST_INVALID (the state machines do not retry it)', async () => {
    for (const handler of [prepare, chunk]) {
      const failure = await taskFailure(handler(taskEvent({ session_id: 7 }), context));
      expect(failure.name).toBe('WSP_REQUEST_INVALID');
    }
    const caught = await taskFailure(finish(taskEvent({ run, error: 'not a caught error' }), context));
    expect(caught).toMatchObject({ name: 'WSP_REQUEST_INVALID', message: expect.stringMatching(/^error: /) });
    expect(prepareRunStream).not.toHaveBeenCalled();
    expect(runChunk).not.toHaveBeenCalled();
  });

  it('chunk: ports, the stream views and a narrative log go to the core; a core error keeps its code', async () => {
    vi.mocked(runChunk).mockRejectedValue(
      new PlatformError('OUTPUT_NOT_IN_PLAN', 'output x is not in the stream plan'),
    );
    const plan = {
      ...run,
      engine_run_id: HEX32,
      manifest_fingerprint: HEX64,
      parameter_hash: HEX64,
      seed: '42',
      pack_key: 'pack',
      checkpoint_scope_key: HEX64,
      outputs: [{ output_id: 'arrival_events', role: 'traffic', primary_key: ['id'] }],
      traffic_output_ids: ['arrival_events'],
      context_output_ids: [],
      output_concurrency: 1,
    };
    const failure = await taskFailure(chunk(taskEvent({ plan, output_id: 'arrival_events' }), context));
    expect(failure.name).toBe('OUTPUT_NOT_IN_PLAN');
    const deps = vi.mocked(runChunk).mock.calls[0]?.[0];
    expect(deps).toMatchObject({ checkpoints: 'checkpoints', views: 'views', ig: 'ig' });
    expect(typeof deps?.log.info).toBe('function');
  });

  it('finish: the caught error travels to the core, which records the session', async () => {
    vi.mocked(finishStreamSession).mockResolvedValue({
      status: 'FAILED',
      emitted: 0,
      reason: 'STREAM_FAILED',
    } as never);
    const event = { run, error: { Error: 'States.Timeout', Cause: 'slow' } };
    await expect(finish(taskEvent(event), context)).resolves.toMatchObject({ status: 'FAILED' });
    const [deps, input] = vi.mocked(finishStreamSession).mock.calls[0] ?? [];
    expect(deps).toMatchObject({ readyRuns: 'ready runs', governance: 'governance' });
    expect(input).toEqual(event);
  });
});
