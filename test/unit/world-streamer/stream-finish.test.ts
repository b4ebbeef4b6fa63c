import { describe, expect, it } from 'vitest';
import type { ChunkResult } from '../../../lib/world-streamer/stream-contracts.ts';
import {
  brokenStreamDetail,
  combineOutputs,
  finishStream,
} from '../../../lib/world-streamer/stream-finish.ts';
import { memoryGovernance, memoryReadyRuns, virtualTime } from './fakes.ts';
import {
  MESSAGE_ID,
  PLATFORM_RUN_ID,
  ROOT,
  runInput,
  SCENARIO_RUN_ID,
  sha,
  TRAFFIC,
  trafficPlan,
} from './stream-fixture.ts';

const CONTEXT = 'arrival_events_5B';
const plan = trafficPlan({
  outputs: [
    { output_id: CONTEXT, role: 'context', primary_key: ['seed'] },
    { output_id: TRAFFIC, role: 'traffic', primary_key: ['seed'] },
  ],
});
const last = (output_id: string, fields: Partial<ChunkResult>): ChunkResult => ({
  output_id,
  status: 'DONE',
  reason: 'output_complete',
  emitted: 0,
  pushed: 0,
  next_row: 0,
  frontier_ts_utc: null,
  segment_full: false,
  state: { progress_emitted: 0 },
  ...fields,
});

describe('stream result and evidence (control-ingress.md §4.1 steps 7–8, §4.2)', () => {
  it('STREAMED sums the outputs; FAILED takes the first failed output in plan order; an unfinished output fails', () => {
    expect(
      combineOutputs(plan, [
        last(TRAFFIC, { emitted: 200, reason: 'max_events' }),
        last(CONTEXT, { emitted: 3 }),
      ]),
    ).toEqual({
      status: 'STREAMED',
      emitted: 203,
      reason: null,
    });
    expect(
      combineOutputs(plan, [
        last(TRAFFIC, { status: 'FAILED', reason: 'IG_PUSH_REJECTED', emitted: 1 }),
        last(CONTEXT, { status: 'FAILED', reason: 'PRIMARY_KEY_MISSING', emitted: 2, detail: 'flow_id' }),
      ]),
    ).toEqual({ status: 'FAILED', emitted: 3, reason: 'PRIMARY_KEY_MISSING', detail: 'flow_id' });
    expect(combineOutputs(plan, [last(CONTEXT, {})])).toMatchObject({
      status: 'FAILED',
      reason: 'STREAM_FAILED',
    });
    // An output held at its window's end has not finished either.
    expect(
      combineOutputs(plan, [last(CONTEXT, {}), last(TRAFFIC, { status: 'WINDOW_END', reason: null })]),
    ).toMatchObject({ status: 'FAILED', reason: 'STREAM_FAILED', detail: `${TRAFFIC} did not finish` });
  });

  it('records the ready-record line and RUN_ENDED once per session', async () => {
    const readyRuns = memoryReadyRuns({ [MESSAGE_ID]: { status: 'IN_PROGRESS', attempt: 1 } });
    const governance = memoryGovernance();
    const deps = { readyRuns: readyRuns.store, governance: governance.sink, clock: virtualTime().clock };
    const input = {
      run: runInput(),
      plan,
      outputs: [last(TRAFFIC, { emitted: 2 }), last(CONTEXT, { emitted: 1 })],
    };
    const result = await finishStream(deps, input, {
      provenance: { service_release_id: 'r1', environment: 'dev' },
    });
    expect(result).toEqual({ status: 'STREAMED', emitted: 3, reason: null });
    expect(readyRuns.lines).toEqual([
      {
        message_id: MESSAGE_ID,
        run_id: SCENARIO_RUN_ID,
        status: 'STREAMED',
        reason: null,
        emitted: 3,
        engine_run_root: ROOT,
        scenario_id: 'baseline_v1',
        ts_utc: '2026-01-01T00:00:00+00:00',
      },
    ]);
    expect(readyRuns.state.get(MESSAGE_ID)?.status).toBe('STREAMED');
    const id = sha(
      `RUN_ENDED|${PLATFORM_RUN_ID}|${SCENARIO_RUN_ID}|world_streamer_producer|ended:${MESSAGE_ID}`,
    );
    expect(governance.events.get(id)).toMatchObject({
      event_family: 'RUN_ENDED',
      provenance: { service_release_id: 'r1', environment: 'dev' },
      details: { status: 'STREAMED', reason: null, emitted: 3 },
    });
  });

  it('a failed preparation is recorded FAILED with its reason and nothing emitted', async () => {
    const readyRuns = memoryReadyRuns();
    const deps = {
      readyRuns: readyRuns.store,
      governance: memoryGovernance().sink,
      clock: virtualTime().clock,
    };
    const prepared = { status: 'FAILED' as const, emitted: 0, reason: 'GATE_PASS_MISSING' as const };
    const result = await finishStream(
      deps,
      { run: runInput(), prepared },
      { provenance: { service_release_id: 'r', environment: 'e' } },
    );
    expect(result).toEqual(prepared);
    expect(readyRuns.lines[0]).toMatchObject({ status: 'FAILED', reason: 'GATE_PASS_MISSING', emitted: 0 });
  });
});

describe('the detail of a stream broken past its retries', () => {
  const segmentFailure = (error: string, cause: string) =>
    JSON.stringify({
      ExecutionArn: `arn:aws:states:us-east-1:000000000000:execution:fp-dev-stream-output:${MESSAGE_ID}-1-0`,
      Status: 'FAILED',
      Error: error,
      Cause: cause,
    });

  it('a failed segment execution (States.TaskFailed, its description as the Cause) is named by its own error', () => {
    const cause = JSON.stringify({ errorType: 'Lambda.ServiceException', errorMessage: 'endpoint down' });
    expect(
      brokenStreamDetail({
        Error: 'States.TaskFailed',
        Cause: segmentFailure('Lambda.ServiceException', cause),
      }),
    ).toBe(`Lambda.ServiceException: ${cause}`);
  });

  it('any other error is told as it came, cut at 256 characters', () => {
    expect(brokenStreamDetail({ Error: 'States.Runtime', Cause: 'no such path' })).toBe(
      'States.Runtime: no such path',
    );
    expect(brokenStreamDetail({ Error: 'States.TaskFailed', Cause: 'not a description' })).toBe(
      'States.TaskFailed: not a description',
    );
    expect(brokenStreamDetail({})).toBe('Error: ');
    expect(
      brokenStreamDetail({ Error: 'States.TaskFailed', Cause: segmentFailure('X', 'y'.repeat(400)) }),
    ).toHaveLength(256);
  });
});
