import './handler-environment.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as check } from '../../../functions/oracle-store/check.ts';
import { handler as seal } from '../../../functions/oracle-store/seal.ts';
import { handler as finalize } from '../../../functions/oracle-store/stream-finalize.ts';
import { handler as plan } from '../../../functions/oracle-store/stream-plan.ts';
import { handler as sortWindowHandler } from '../../../functions/oracle-store/stream-sort-window.ts';
import { handler as windowStatsHandler } from '../../../functions/oracle-store/stream-window-stats.ts';
import { handler as sync } from '../../../functions/oracle-store/sync.ts';
import { checkRequestedPack } from '../../../lib/oracle-store/check.ts';
import { outputSourceKeys } from '../../../lib/oracle-store/output-sources.ts';
import { SealError, sealRequestedPack } from '../../../lib/oracle-store/seal.ts';
import { StreamSortError } from '../../../lib/oracle-store/stream-sort/receipt.ts';
import {
  finalizeRequestedSort,
  prepareOutputSort,
  sortWindow,
  windowStats,
} from '../../../lib/oracle-store/stream-sort/sort-output.ts';
import { syncEngineRun } from '../../../lib/oracle-store/sync.ts';
import { lambdaContext, taskEvent, taskFailure } from './factories.ts';

vi.mock('../../../lib/oracle-store/check.ts', () => ({ checkRequestedPack: vi.fn() }));
vi.mock('../../../lib/oracle-store/seal.ts', async (original) => ({
  ...(await original<typeof import('../../../lib/oracle-store/seal.ts')>()),
  sealRequestedPack: vi.fn(),
}));
vi.mock('../../../lib/oracle-store/sync.ts', () => ({ syncEngineRun: vi.fn() }));
vi.mock('../../../lib/oracle-store/output-sources.ts', () => ({ outputSourceKeys: vi.fn() }));
vi.mock('../../../lib/oracle-store/stream-sort/sort-output.ts', () => ({
  prepareOutputSort: vi.fn(),
  sortWindow: vi.fn(),
  windowStats: vi.fn(),
  finalizeRequestedSort: vi.fn(),
}));
vi.mock('../../../lib/adapters/oracle-sort-engine.ts', () => ({
  withSortEngine: (
    _env: unknown,
    _store: unknown,
    _prefix: string,
    work: (e: unknown, w: unknown) => unknown,
  ) => work('engine', 'workspace'),
}));

const context = lambdaContext();
const prefix = 'engine-runs/0123456789abcdef0123456789abcdef';
const window = {
  index: 0,
  startMicros: '0',
  endMicros: '10',
  last: true,
  files: ['a.parquet'],
  estimatedRows: 10,
  estimatedBytes: 100,
  bounded: true,
};
const prepared = {
  outputId: 'arrival_events',
  decision: 'run' as const,
  streamViewId: 'v1',
  sortKeys: ['ts_utc'],
  recordedKeys: ['ts_utc'],
  sourceKeys: ['a.parquet'],
  windows: [window],
};

beforeEach(() => {
  vi.clearAllMocks();
});

describe('oracle-store task handlers (task edge)', () => {
  it('check: the request parsed, the core answer is the output', async () => {
    vi.mocked(checkRequestedPack).mockResolvedValue({ status: 'PASS', reason_codes: [] } as never);
    await expect(
      check(taskEvent({ engine_run_prefix: prefix, scenario_id: 'baseline_v1' }), context),
    ).resolves.toMatchObject({ status: 'PASS' });
    expect(vi.mocked(checkRequestedPack).mock.calls[0]?.[1]).toEqual({
      engine_run_prefix: prefix,
      scenario_id: 'baseline_v1',
      strict_seal: true,
    });
  });

  it('every oracle handler: an event that fails its schema is ORACLE_REQUEST_INVALID naming the field', async () => {
    for (const handler of [check, seal, sync, plan, sortWindowHandler, windowStatsHandler, finalize]) {
      const failure = await taskFailure(handler(taskEvent({ engine_run_prefix: 'bad prefix!' }), context));
      expect(failure.name).toBe('ORACLE_REQUEST_INVALID');
      expect(failure.message).toMatch(/engine_run_prefix|world_source/);
    }
    expect(checkRequestedPack).not.toHaveBeenCalled();
    expect(syncEngineRun).not.toHaveBeenCalled();
  });

  it('seal: a refusal keeps its reason code as the error name (and its message)', async () => {
    vi.mocked(sealRequestedPack).mockRejectedValue(
      new SealError('WORLD_KEY_MISSING', 'run receipt lacks seed'),
    );
    await expect(
      taskFailure(seal(taskEvent({ engine_run_prefix: prefix, scenario_id: 's' }), context)),
    ).resolves.toEqual({ name: 'WORLD_KEY_MISSING', message: 'WORLD_KEY_MISSING: run receipt lacks seed' });
    vi.mocked(sealRequestedPack).mockResolvedValue({
      oracle_pack_id: 'p',
      created: true,
      seal_status: 'SEALED',
    } as never);
    await expect(
      seal(taskEvent({ engine_run_prefix: prefix, scenario_id: 's' }), context),
    ).resolves.toMatchObject({
      oracle_pack_id: 'p',
    });
    expect(vi.mocked(sealRequestedPack).mock.calls[1]?.[2]).toBe('synthetic-world-v1');
  });

  it('sync: the world source and the prefix go to the core', async () => {
    vi.mocked(syncEngineRun).mockResolvedValue({ engine_run_prefix: prefix, copied: 3, bytes: 10 } as never);
    await expect(sync(taskEvent({ world_source: 's3://worlds/w1' }), context)).resolves.toMatchObject({
      copied: 3,
    });
    const [request, options] = vi.mocked(syncEngineRun).mock.calls[0] ?? [];
    expect(request?.source.root).toBe('s3://worlds/w1');
    expect(request?.targetOf(prefix).root).toBe(`s3://oracle-store/${prefix}`);
    expect(options).toEqual({ concurrency: 8 });
  });

  it('stream plan: the configured budget unless the request sets one', async () => {
    vi.mocked(outputSourceKeys).mockResolvedValue(['a.parquet']);
    vi.mocked(prepareOutputSort).mockResolvedValue(prepared as never);
    const request = { engine_run_prefix: prefix, scenario_id: 's', output_id: 'arrival_events' };
    await expect(plan(taskEvent(request), context)).resolves.toEqual(prepared);
    expect(vi.mocked(prepareOutputSort).mock.calls[0]?.[3]).toMatchObject({ budgetBytes: 1 << 30 });
    await plan(taskEvent({ ...request, budget_bytes: 1 << 21 }), context);
    expect(vi.mocked(prepareOutputSort).mock.calls[1]?.[3]).toMatchObject({ budgetBytes: 1 << 21 });
  });

  it('sort window and window stats: the window of the plan, answered with its output', async () => {
    vi.mocked(sortWindow).mockResolvedValue({ rows: 10, part: 'part-000000.parquet' } as never);
    const request = { engine_run_prefix: prefix, prepared, window };
    await expect(sortWindowHandler(taskEvent(request), context)).resolves.toEqual({
      output_id: 'arrival_events',
      window: 0,
      windows: 1,
      rows: 10,
      part: 'part-000000.parquet',
    });
    vi.mocked(windowStats).mockResolvedValue({ index: 0, source: { row_count: 10 } } as never);
    await expect(windowStatsHandler(taskEvent(request), context)).resolves.toMatchObject({
      output_id: 'arrival_events',
      windows: 1,
      index: 0,
    });
  });

  it('finalize: a validation failure is thrown named by its reason code', async () => {
    vi.mocked(finalizeRequestedSort).mockRejectedValue(
      new StreamSortError('STREAM_SORT_VALIDATION_FAILED', 'rows differ'),
    );
    const failure = await taskFailure(
      finalize(taskEvent({ engine_run_prefix: prefix, scenario_id: 's', prepared }), context),
    );
    expect(failure.name).toBe('STREAM_SORT_VALIDATION_FAILED');
  });
});
