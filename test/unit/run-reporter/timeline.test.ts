import { describe, expect, it } from 'vitest';
import { type LifecycleHistoryEvent, phaseTimeline, rateSeries } from '../../../lib/run-reporter/timeline.ts';

const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 10, 0, s)).toISOString();
const entered = (name: string, s: number): LifecycleHistoryEvent => ({
  timestamp: at(s),
  stateName: name,
  kind: 'entered',
});
const exited = (name: string, s: number): LifecycleHistoryEvent => ({
  timestamp: at(s),
  stateName: name,
  kind: 'exited',
});

describe('run report phase timeline', () => {
  it('spans each phase from its first state entered to its last left; earlier phases PASS, the last RUNNING', () => {
    const rows = phaseTimeline([
      entered('P0SubstrateReady', 0),
      exited('P0SubstrateReady', 2),
      entered('P0Gate', 2),
      exited('P0Gate', 3),
      entered('P1RunPinned', 3),
      exited('P1RunPinned', 7),
      { timestamp: at(8), kind: 'other' },
      entered('P10CaseCheck', 10),
      exited('P10CaseCheck', 15),
    ]);
    expect(rows).toHaveLength(13);
    expect(rows[0]).toMatchObject({ phase: 'P0', name: 'SUBSTRATE_READY', seconds: 3, status: 'PASS' });
    expect(rows[1]).toMatchObject({ phase: 'P1', seconds: 4, status: 'PASS', started_at_utc: at(3) });
    expect(rows[2]).toMatchObject({ phase: 'P2', status: 'NOT_REACHED', seconds: null });
    // P10 is not confused with P1; it is the last reached, so it is RUNNING unless the caller says it passed.
    expect(rows[10]).toMatchObject({ phase: 'P10', seconds: 5, status: 'RUNNING' });
    expect(phaseTimeline([entered('P10CaseCheck', 10)], new Set(['P10']))[10]?.status).toBe('PASS');
  });

  it('a failure state marks its phase FAIL', () => {
    const rows = phaseTimeline([entered('P9ChainCheck', 0), entered('P9GateFailed', 5)]);
    expect(rows[9]).toMatchObject({ status: 'FAIL', seconds: 5 });
  });
});

describe('run report rates', () => {
  it('empty: every plane with no point', () => {
    const r = rateSeries([]);
    expect(r.started_at_utc).toBeNull();
    expect(r.series.map((s) => [s.plane, s.points.length, s.total])).toEqual([
      ['ingress', 0, 0],
      ['projectors', 0, 0],
      ['decisions', 0, 0],
      ['cases', 0, 0],
    ]);
  });

  it('per-second counts become rates on one time axis; long runs are bucketed to at most maxPoints', () => {
    const r = rateSeries(
      [
        { plane: 'ingress', second: 1000, n: 10 },
        { plane: 'ingress', second: 1001, n: 30 },
        { plane: 'decisions', second: 1003, n: 8 },
      ],
      2,
    );
    expect(r.bucket_seconds).toBe(2);
    expect(r.started_at_utc).toBe(new Date(1000 * 1000).toISOString());
    const ingress = r.series.find((s) => s.plane === 'ingress');
    const decisions = r.series.find((s) => s.plane === 'decisions');
    expect(ingress?.points).toEqual([
      [0, 20],
      [2, 0],
    ]);
    expect(decisions?.points).toEqual([
      [0, 0],
      [2, 4],
    ]);
    expect([ingress?.total, decisions?.total]).toEqual([40, 8]);
  });
});
