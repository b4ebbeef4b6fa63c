import { type ChunkDeps, runChunk } from '../../../lib/world-streamer/chunk.ts';
import type { WorldStreamerSettings } from '../../../lib/world-streamer/settings.ts';
import type { ChunkResult, PlannedOutput, StreamPlan } from '../../../lib/world-streamer/stream-contracts.ts';
import { MF, PH, TRAFFIC, TRAFFIC_PK, trafficPlan } from './stream-fixture.ts';

/**
 * What statemachines/stream-output.asl.yml and stream-run.asl.yml do with the chunks, in the test process: rounds of
 * every output (a chunk loop per output until it is no longer CONTINUE or WAIT, or has run its share of the segment),
 * each round starting from every output's last result as `peers`, segments of rounds until no output streams.
 */

export const ANCHOR = 's3_flow_anchor_with_fraud_6B';
export const ARRIVALS = 'arrival_events_5B';

export const ALIGNED_OUTPUTS: PlannedOutput[] = [
  {
    output_id: ARRIVALS,
    role: 'context',
    primary_key: ['seed', 'manifest_fingerprint', 'scenario_id', 'merchant_id', 'arrival_seq'],
  },
  {
    output_id: ANCHOR,
    role: 'context',
    primary_key: ['seed', 'manifest_fingerprint', 'scenario_id', 'flow_id'],
  },
  { output_id: TRAFFIC, role: 'traffic', primary_key: TRAFFIC_PK },
];

/** A plan of arrivals, anchors and traffic, aligned on `windowSeconds`. */
export const alignedPlan = (windowSeconds: number, overrides: Partial<StreamPlan> = {}): StreamPlan =>
  trafficPlan({
    outputs: ALIGNED_OUTPUTS,
    traffic_output_ids: [TRAFFIC],
    context_output_ids: [ARRIVALS, ANCHOR],
    output_concurrency: 2,
    align_window_seconds: windowSeconds,
    chunks_per_segment: 500,
    segment_name_prefix: 'session',
    ...overrides,
  });

const T0 = Date.parse('2026-01-01T00:00:00Z');
/** `T0 + seconds` as an envelope `ts_utc` (microseconds). */
export const tsAt = (seconds: number) =>
  `${new Date(T0 + Math.round(seconds * 1000)).toISOString().slice(0, 23)}000Z`;

/** A row of `outputId` at `seconds` after T0 with every key any of the outputs needs. */
export const rowOf = (outputId: string, n: number, seconds: number): Record<string, unknown> => ({
  seed: 42,
  manifest_fingerprint: MF,
  parameter_hash: PH,
  scenario_id: 'baseline_v1',
  merchant_id: 7,
  arrival_seq: n,
  flow_id: 5000 + n,
  event_seq: outputId === TRAFFIC ? 1 : 0,
  ts_utc: tsAt(seconds),
  note: outputId,
});

export interface RoundsRun {
  outputs: ChunkResult[];
  rounds: number;
  segments: number;
  /** Per round: its segment, and per output the window end of its chunks and their statuses. */
  trace: Array<{
    segment: number;
    outputs: Map<string, { windowEnd: string | undefined; statuses: string[] }>;
  }>;
}

/**
 * Runs a session to its end. `order` picks which output's next chunk runs (to interleave the outputs of a round as
 * a Map with concurrency would); `maxRounds` stops a run early (a crash: the session's state is lost).
 */
export async function runRounds(
  deps: ChunkDeps,
  plan: StreamPlan,
  settings: WorldStreamerSettings,
  options: { order?: (open: string[]) => string; maxRounds?: number } = {},
): Promise<RoundsRun> {
  let last: Array<ChunkResult | PlannedOutput> = plan.outputs.map((o) => ({ ...o }));
  let segment = 0;
  let rounds = 0;
  const trace: RoundsRun['trace'] = [];
  for (;;) {
    let full = false;
    for (;;) {
      if (options.maxRounds !== undefined && rounds >= options.maxRounds) {
        return { outputs: last as ChunkResult[], rounds, segments: segment + 1, trace };
      }
      rounds += 1;
      const peers = structuredClone(last);
      const round = new Map<string, { windowEnd: string | undefined; statuses: string[] }>();
      const current = new Map(last.map((r) => [r.output_id, r]));
      const open = new Set(
        last
          .filter((r) => !('status' in r) || (r.status !== 'DONE' && r.status !== 'FAILED'))
          .map((r) => r.output_id),
      );
      while (open.size > 0) {
        const outputId = options.order ? options.order([...open]) : ([...open][0] as string);
        const previous = current.get(outputId);
        const state = previous && 'state' in previous ? previous.state : {};
        const result = await runChunk(deps, { plan, output_id: outputId, state, peers, segment }, settings);
        current.set(outputId, result);
        const seen = round.get(outputId) ?? { windowEnd: result.window_end_ts_utc, statuses: [] };
        seen.statuses.push(result.status);
        round.set(outputId, seen);
        if (result.status === 'WAIT') {
          // The Wait state: time passes.
          await deps.sleeper.sleep((result.wait_seconds ?? 0) * 1000);
        }
        if (!((result.status === 'CONTINUE' || result.status === 'WAIT') && !result.segment_full))
          open.delete(outputId);
      }
      trace.push({ segment, outputs: round });
      last = plan.outputs.map((o) => current.get(o.output_id) as ChunkResult);
      const results = last as ChunkResult[];
      if (results.some((r) => r.status === 'FAILED'))
        return { outputs: results, rounds, segments: segment + 1, trace };
      const streaming = results.some((r) => ['CONTINUE', 'WAIT', 'WINDOW_END'].includes(r.status));
      if (!streaming) return { outputs: results, rounds, segments: segment + 1, trace };
      full = results.some((r) => r.segment_full);
      if (full) break;
    }
    segment += 1;
  }
}

/** A plan for another session of the same run (a READY retried after a crash). */
export const nextSession = (plan: StreamPlan, attempt: number): StreamPlan => ({
  ...plan,
  session_id: `${plan.session_id}-${attempt}`,
});
