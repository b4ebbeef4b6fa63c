import './handler-environment.ts';
import './silent-logs.ts';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { check, evidence } from '../../../functions/run-lifecycle/rtdl-caught-up.ts';
import { checkCaughtUp, writeCaughtUpEvidence } from '../../../lib/run-lifecycle/rtdl-caught-up.ts';
import { lambdaContext, taskEvent, taskFailure } from './factories.ts';

/**
 * P8's two tasks (functions/run-lifecycle/rtdl-caught-up.ts): `check` hands the request, the progress ports and the
 * configured timeout to the core; `evidence` the request and the evidence ports; an event that fails its schema is
 * refused before the core. The cores are replaced; the ports are markers.
 */

// The handlers' loggers are built (silent); loggers built later are not.
delete process.env.AWS_LAMBDA_LOG_LEVEL;

vi.mock('../../../lib/adapters/rtdl-progress.ts', () => ({
  caughtUpPorts: () => ({ port: 'caught-up' }),
  caughtUpEvidencePorts: (env: { PLATFORM_BUCKET: string }) => ({
    port: 'evidence',
    bucket: env.PLATFORM_BUCKET,
  }),
}));
vi.mock('../../../lib/run-lifecycle/rtdl-caught-up.ts', async (original) => ({
  ...(await original<object>()),
  checkCaughtUp: vi.fn(),
  writeCaughtUpEvidence: vi.fn(),
}));

const context = lambdaContext();
const RUN = 'platform_20260308T000000Z';

beforeEach(() => {
  vi.clearAllMocks();
});

describe('run-lifecycle P8 RTDL_CAUGHT_UP (task edge)', () => {
  it('check: the request, the progress ports and the configured timeout go to the core', async () => {
    const result = { caught_up: false, waited_seconds: 30, lagging: ['RTDL_LAGGING:x:y (accounted 0 of 1)'] };
    vi.mocked(checkCaughtUp).mockResolvedValue(result as never);
    await expect(check(taskEvent({ platform_run_id: RUN, since: null }), context)).resolves.toEqual(result);
    expect(vi.mocked(checkCaughtUp).mock.calls[0]).toEqual([
      { platform_run_id: RUN, since: null },
      { port: 'caught-up' },
      600,
    ]);
  });

  it('evidence: the request and the evidence ports go to the core', async () => {
    const answer = { caught_up: true, summary: 'ok', projectors: {}, evidence_ref: 's3://fraud-platform/x' };
    vi.mocked(writeCaughtUpEvidence).mockResolvedValue(answer);
    const report = (component: string) => ({
      component,
      platform_run_id: RUN,
      stream_id: `${component}::${RUN}`,
      generated_at_utc: '2026-03-08T01:00:00.000Z',
      counts: { seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 },
      health_state: 'GREEN',
      health_reasons: [],
      documents: {},
    });
    const request = {
      platform_run_id: RUN,
      caught_up: { caught_up: true, waited_seconds: 0, checks: [] },
      reports: ['archive-writer', 'identity-graph', 'context-store', 'online-features'].map(report),
    };
    await expect(evidence(taskEvent(request), context)).resolves.toEqual(answer);
    expect(vi.mocked(writeCaughtUpEvidence).mock.calls[0]).toEqual([
      request,
      { port: 'evidence', bucket: 'fraud-platform' },
    ]);
  });

  it('an event that fails its schema is RUN_PHASE_REQUEST_INVALID, the core not called', async () => {
    expect((await taskFailure(check(taskEvent({ platform_run_id: 'yesterday' }), context))).name).toBe(
      'RUN_PHASE_REQUEST_INVALID',
    );
    const short = {
      platform_run_id: RUN,
      caught_up: { caught_up: true, waited_seconds: 0, checks: [] },
      reports: [],
    };
    expect((await taskFailure(evidence(taskEvent(short), context))).name).toBe('RUN_PHASE_REQUEST_INVALID');
    expect(checkCaughtUp).not.toHaveBeenCalled();
    expect(writeCaughtUpEvidence).not.toHaveBeenCalled();
  });
});
