import { LIFECYCLE_PHASES, type PhaseTiming, PLANES, type RateSeries } from '../contracts/run-report.ts';

/**
 * The run report's time views, from what the run left behind: the phase timeline from the lifecycle execution's
 * history (its states are named `P<n>…`; a phase runs from its first state entered to its last state left), and
 * events/s per plane from per-second counts.
 */

/** One event of a Step Functions execution history, as far as the timeline needs it. */
export interface LifecycleHistoryEvent {
  timestamp: string | Date;
  /** The state entered or left (undefined for other events). */
  stateName?: string;
  kind: 'entered' | 'exited' | 'failed' | 'other';
}

/** Per phase: its first and last instants in the history (ms). */
export function phaseSpans(history: readonly LifecycleHistoryEvent[]) {
  const spans = new Map<string, { start: number; end: number; failed: boolean }>();
  for (const e of history) {
    const phase = e.stateName ? /^(P\d+)/.exec(e.stateName)?.[1] : undefined;
    if (!phase) continue;
    const t = new Date(e.timestamp).getTime();
    if (Number.isNaN(t)) continue;
    const cur = spans.get(phase) ?? { start: t, end: t, failed: false };
    spans.set(phase, {
      start: Math.min(cur.start, t),
      end: Math.max(cur.end, t),
      failed: cur.failed || /(GateFailed|Errored|NotCaughtUp)$/.test(e.stateName ?? ''),
    });
  }
  return spans;
}

/**
 * P0–P12 in order. A phase with states in the history PASSed when a later phase was reached (or `finished` says the
 * execution has left it), FAILed when it entered a failure state, and is RUNNING otherwise; NOT_REACHED without states.
 */
export function phaseTimeline(
  history: readonly LifecycleHistoryEvent[],
  finished: ReadonlySet<string> = new Set(),
) {
  const spans = phaseSpans(history);
  const order = Object.keys(LIFECYCLE_PHASES);
  const lastReached = Math.max(-1, ...order.map((p, i) => (spans.has(p) ? i : -1)));
  return order.map((phase, i): PhaseTiming => {
    const span = spans.get(phase);
    const name = LIFECYCLE_PHASES[phase] ?? phase;
    if (!span)
      return { phase, name, started_at_utc: null, ended_at_utc: null, seconds: null, status: 'NOT_REACHED' };
    const status = span.failed ? 'FAIL' : i < lastReached || finished.has(phase) ? 'PASS' : 'RUNNING';
    return {
      phase,
      name,
      started_at_utc: new Date(span.start).toISOString(),
      ended_at_utc: new Date(span.end).toISOString(),
      seconds: Math.round(span.end - span.start) / 1000,
      status,
    };
  });
}

export type Plane = (typeof PLANES)[number];

/** Events of a plane counted in one second (`second`: epoch seconds). */
export interface PlaneCount {
  plane: Plane;
  second: number;
  n: number;
}

/**
 * Events/s per plane over the run: the per-second counts summed into buckets so a series has at most `maxPoints`
 * points (bucket = a whole number of seconds), each point the bucket's mean rate; one series per plane, zeros where a
 * plane was idle, all on the same time axis (seconds since the first count of any plane).
 */
export function rateSeries(counts: readonly PlaneCount[], maxPoints = 120) {
  if (counts.length === 0)
    return {
      started_at_utc: null,
      bucket_seconds: 1,
      series: PLANES.map((plane): RateSeries => ({ plane, points: [], total: 0 })),
    };
  const first = Math.min(...counts.map((c) => c.second));
  const last = Math.max(...counts.map((c) => c.second));
  const span = last - first + 1;
  const bucket = Math.max(1, Math.ceil(span / maxPoints));
  const buckets = Math.ceil(span / bucket);
  const series = PLANES.map((plane): RateSeries => {
    const sums = new Array<number>(buckets).fill(0);
    let total = 0;
    for (const c of counts) {
      if (c.plane !== plane) continue;
      const i = Math.floor((c.second - first) / bucket);
      sums[i] = (sums[i] ?? 0) + c.n;
      total += c.n;
    }
    return {
      plane,
      points: sums.map((sum, i): [number, number] => [i * bucket, Math.round((sum / bucket) * 100) / 100]),
      total,
    };
  });
  return { started_at_utc: new Date(first * 1000).toISOString(), bucket_seconds: bucket, series };
}
