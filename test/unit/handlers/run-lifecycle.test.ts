import './handler-environment.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as daemons } from '../../../functions/run-lifecycle/daemons-ready.ts';
import { handler as ingest } from '../../../functions/run-lifecycle/ingest-ready.ts';
import { handler as oracle } from '../../../functions/run-lifecycle/oracle-ready.ts';
import { handler as pin } from '../../../functions/run-lifecycle/run-pin.ts';
import { active, committed } from '../../../functions/run-lifecycle/streaming.ts';
import { handler as substrate } from '../../../functions/run-lifecycle/substrate-status.ts';
import { daemonsReady } from '../../../lib/run-lifecycle/daemons-ready.ts';
import { ingestReady } from '../../../lib/run-lifecycle/ingest-ready.ts';
import { oracleReady } from '../../../lib/run-lifecycle/oracle-ready.ts';
import { pinRequestedRun, RunAlreadyPinned } from '../../../lib/run-lifecycle/run-pin.ts';
import { ingestCommitted, StreamNotStarted, streamingActive } from '../../../lib/run-lifecycle/streaming.ts';
import { assessSubstrate } from '../../../lib/run-lifecycle/substrate-status.ts';
import { lambdaContext, taskEvent, taskFailure } from './factories.ts';

vi.mock('../../../lib/run-lifecycle/daemons-ready.ts', async (original) => ({
  ...(await original<object>()),
  daemonsReady: vi.fn(),
}));
vi.mock('../../../lib/run-lifecycle/ingest-ready.ts', async (original) => ({
  ...(await original<object>()),
  ingestReady: vi.fn(),
}));
vi.mock('../../../lib/run-lifecycle/oracle-ready.ts', async (original) => ({
  ...(await original<object>()),
  oracleReady: vi.fn(),
}));
vi.mock('../../../lib/run-lifecycle/run-pin.ts', async (original) => ({
  ...(await original<object>()),
  pinRequestedRun: vi.fn(),
}));
vi.mock('../../../lib/run-lifecycle/streaming.ts', async (original) => ({
  ...(await original<object>()),
  streamingActive: vi.fn(),
  ingestCommitted: vi.fn(),
}));
vi.mock('../../../lib/run-lifecycle/substrate-status.ts', () => ({ assessSubstrate: vi.fn() }));
vi.mock('../../../lib/adapters/run-registry.ts', () => ({
  postgresRunRegistry: () => ({ activeRun: async () => 'platform_20261207T030000Z' }),
  s3RunObjectStore: () => ({ port: 'run objects' }),
}));
vi.mock('../../../lib/adapters/postgres/pool.ts', async (original) => ({
  ...(await original<typeof import('../../../lib/adapters/postgres/pool.ts')>()),
  createPool: () => ({ port: 'pool' }),
}));

const context = lambdaContext();
const run = { platform_run_id: 'platform_20261207T030000Z' };
const gate = { ready: true, summary: 'ok', evidence_ref: 's3://fraud-platform/x' };

beforeEach(() => {
  vi.clearAllMocks();
});

describe('run-lifecycle gate handlers (task edge)', () => {
  it('P2 daemons ready: the configured consumers and the run go to the core', async () => {
    vi.mocked(daemonsReady).mockResolvedValue(gate);
    await expect(daemons(taskEvent(run), context)).resolves.toEqual(gate);
    const [request, required, ports] = vi.mocked(daemonsReady).mock.calls[0] ?? [];
    expect(request).toEqual(run);
    expect(required).toEqual(['world-streamer-ready-consumer']);
    await expect(ports?.activeRun()).resolves.toBe('platform_20261207T030000Z');
  });

  it('P4 ingest ready: the parsed request goes to the core', async () => {
    vi.mocked(ingestReady).mockResolvedValue({ ...gate, ig_state: 'GREEN' });
    await expect(ingest(taskEvent(run), context)).resolves.toMatchObject({ ig_state: 'GREEN' });
    expect(vi.mocked(ingestReady).mock.calls[0]?.[0]).toEqual(run);
  });

  it('every gate: an event that fails its schema is a named error, the core not called', async () => {
    for (const handler of [daemons, ingest, active, committed]) {
      const failure = await taskFailure(handler(taskEvent({ platform_run_id: 'yesterday' }), context));
      expect(failure.name).toBe('RUN_PHASE_REQUEST_INVALID');
      expect(failure.message).toMatch(/platform_run_id/);
    }
    expect((await taskFailure(oracle(taskEvent(run), context))).name).toBe('ORACLE_READY_INPUT_INVALID');
    expect((await taskFailure(pin(taskEvent({ pinned_by: '' }), context))).name).toBe(
      'INVALID_PLATFORM_RUN_ID',
    );
    expect(daemonsReady).not.toHaveBeenCalled();
    expect(oracleReady).not.toHaveBeenCalled();
    expect(pinRequestedRun).not.toHaveBeenCalled();
  });

  it('P1 run pin: no event pins a fresh run; RUN_ALREADY_PINNED keeps its name', async () => {
    vi.mocked(pinRequestedRun).mockResolvedValue({
      platform_run_id: run.platform_run_id,
      active: true,
    } as never);
    await expect(pin(undefined, context)).resolves.toMatchObject({ active: true });
    expect(vi.mocked(pinRequestedRun).mock.calls[0]?.[0]).toEqual({});
    vi.mocked(pinRequestedRun).mockRejectedValue(new RunAlreadyPinned('taken'));
    await expect(taskFailure(pin(taskEvent(run), context))).resolves.toEqual({
      name: 'RUN_ALREADY_PINNED',
      message: 'taken',
    });
  });

  it('P6/P7: "not yet" is thrown named STREAM_NOT_STARTED, so the state machine retries it', async () => {
    const request = { ...run, scenario_run_id: '0123456789abcdef0123456789abcdef' };
    vi.mocked(streamingActive).mockRejectedValue(new StreamNotStarted('no READY yet'));
    await expect(taskFailure(active(taskEvent(request), context))).resolves.toEqual({
      name: 'STREAM_NOT_STARTED',
      message: 'no READY yet',
    });
    vi.mocked(ingestCommitted).mockResolvedValue({ committed: true, summary: 'all receipts' } as never);
    await expect(committed(taskEvent(request), context)).resolves.toMatchObject({ committed: true });
  });

  it('P3 oracle ready and P0 substrate: the core answer is the output', async () => {
    vi.mocked(oracleReady).mockResolvedValue({ ...gate, oracle_pack_id: 'p', engine_run_root: 'r' });
    const event = {
      ...run,
      oracle: {
        engine_run_prefix: 'p',
        engine_run_root: 'r',
        oracle_pack_id: 'a'.repeat(64),
        check: 'PASS',
        views: [],
      },
    };
    await expect(oracle(taskEvent(event), context)).resolves.toMatchObject({ oracle_pack_id: 'p' });
    vi.mocked(assessSubstrate).mockResolvedValue({
      ready: false,
      missing: ['bucket'],
      summary: 'missing',
    } as never);
    await expect(substrate({}, context)).resolves.toMatchObject({ ready: false });
  });
});
