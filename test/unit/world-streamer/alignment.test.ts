import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import { chunkWindow, tsUtcOfMicros, withinWindow } from '../../../lib/world-streamer/alignment.ts';
import { type ChunkDeps, runChunk } from '../../../lib/world-streamer/chunk.ts';
import { envelopeEpochMicros } from '../../../lib/world-streamer/pacing.ts';
import {
  MAX_CHUNKS_PER_SEGMENT,
  MAX_HISTORY_EVENTS,
  MAX_HISTORY_EVENTS_PER_CHUNK,
  outputChunksPerSegment,
  roundHistoryEvents,
  SEGMENT_HISTORY_EVENTS,
} from '../../../lib/world-streamer/segments.ts';
import { defaultSettings } from '../../../lib/world-streamer/settings.ts';
import { prepareRunStream } from '../../../lib/world-streamer/stream-plan.ts';
import {
  memoryCheckpoints,
  memoryIngestionGate,
  memoryLog,
  memoryStreamViews,
  virtualTime,
} from './fakes.ts';
import {
  ALIGNED_OUTPUTS,
  ANCHOR,
  ARRIVALS,
  alignedPlan,
  nextSession,
  rowOf,
  runRounds,
  tsAt,
} from './rounds.ts';
import { engineWorld, runInput, TRAFFIC } from './stream-fixture.ts';

/**
 * Event-time alignment across outputs (lib/world-streamer/alignment.ts): a chunk pushes no row at or after its
 * window's end, and rounds of every output advance the outputs together, so nothing reaches IG a whole window of event
 * time ahead of another output.
 */

const NO_PACE = defaultSettings({ speedup: 0 });
/** Seconds after T0 of an envelope's event time. */
const seconds = (ts: string) => (envelopeEpochMicros(ts) - envelopeEpochMicros(tsAt(0))) / 1_000_000;

function harness(views: Record<string, Record<string, unknown>[]>) {
  const time = virtualTime();
  const ig = memoryIngestionGate();
  const checkpoints = memoryCheckpoints();
  const stream = memoryStreamViews(
    Object.fromEntries(Object.entries(views).map(([id, rows]) => [id, [rows]])),
  );
  const deps: ChunkDeps = {
    checkpoints: checkpoints.store,
    views: stream.reader,
    ig: ig.client,
    clock: time.clock,
    sleeper: time.sleeper,
    random: () => 0,
    log: memoryLog(),
  };
  return { time, ig, checkpoints, stream, deps };
}

/** Rows of `outputId` at these event times (seconds after T0), in view order. */
const rowsOf = (outputId: string, times: number[]) => times.map((t, i) => rowOf(outputId, i, t));

/** The largest lead, in seconds of event time, of anything IG admitted over an event of another output admitted later. */
function largestLead(admitted: Iterable<CanonicalEnvelope>): number {
  const front = new Map<string, number>();
  let lead = 0;
  for (const e of admitted) {
    const ts = seconds(e.ts_utc);
    for (const [type, max] of front) if (type !== e.event_type) lead = Math.max(lead, max - ts);
    front.set(e.event_type, Math.max(front.get(e.event_type) ?? -Infinity, ts));
  }
  return lead;
}

const sortedTimes = (max: number, length: { minLength: number; maxLength: number }) =>
  fc.array(fc.integer({ min: 0, max }), length).map((a) => a.sort((x, y) => x - y));

describe('the window of a chunk', () => {
  const peer = (output_id: string, status: string | undefined, frontier: string | null | undefined) => ({
    output_id,
    ...(status === undefined ? {} : { status }),
    ...(frontier === undefined ? {} : { frontier_ts_utc: frontier }),
  });

  it('is the earliest frontier of the other outputs still streaming, plus the window', () => {
    const peers = [
      peer(ARRIVALS, 'WINDOW_END', tsAt(100)),
      peer(ANCHOR, 'CONTINUE', tsAt(40)),
      peer(TRAFFIC, 'WINDOW_END', tsAt(10)),
      peer('s1_arrival_entities_6B', 'DONE', null),
    ];
    expect(chunkWindow(TRAFFIC, peers, 60)).toEqual({
      kind: 'until',
      endMicros: envelopeEpochMicros(tsAt(100)),
    });
    expect(tsUtcOfMicros(envelopeEpochMicros(tsAt(40)) + 60_000_000)).toBe(tsAt(100));
    // Its own frontier does not hold an output back, nor one that ended.
    expect(chunkWindow(ANCHOR, peers, 60)).toEqual({
      kind: 'until',
      endMicros: envelopeEpochMicros(tsAt(70)),
    });
  });

  it('is open when unaligned, without peers, or with no other output streaming; a peek while one has not told', () => {
    const alone = [peer(TRAFFIC, 'CONTINUE', tsAt(5)), peer(ANCHOR, 'DONE', null)];
    expect(chunkWindow(TRAFFIC, alone, 60)).toEqual({ kind: 'open' });
    expect(chunkWindow(TRAFFIC, undefined, 60)).toEqual({ kind: 'open' });
    expect(chunkWindow(TRAFFIC, [peer(ANCHOR, 'CONTINUE', tsAt(0))], 0)).toEqual({ kind: 'open' });
    expect(chunkWindow(TRAFFIC, [peer(ANCHOR, undefined, undefined)], 60)).toEqual({ kind: 'peek' });
    expect(chunkWindow(TRAFFIC, [peer(ANCHOR, 'WINDOW_END', null)], 60)).toEqual({ kind: 'peek' });
    expect(withinWindow({ kind: 'peek' }, tsAt(0))).toBe(false);
    expect(withinWindow({ kind: 'open' }, tsAt(0))).toBe(true);
  });
});

describe('a chunk in a window', () => {
  it('property: never pushes a row at or after the window end; stops at the first such row and reports it', async () => {
    await fc.assert(
      fc.asyncProperty(
        sortedTimes(600, { minLength: 0, maxLength: 30 }),
        fc.integer({ min: 0, max: 600 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 7 }),
        async (times, frontier, window, chunkRows) => {
          const h = harness({ [TRAFFIC]: rowsOf(TRAFFIC, times) });
          const plan = alignedPlan(window);
          const peers = [{ output_id: ANCHOR, status: 'WINDOW_END', frontier_ts_utc: tsAt(frontier) }];
          const settings = defaultSettings({ speedup: 0, chunkRows });
          let state = {};
          let result: Awaited<ReturnType<typeof runChunk>>;
          do {
            result = await runChunk(h.deps, { plan, output_id: TRAFFIC, state, peers }, settings);
            state = result.state;
          } while (result.status === 'CONTINUE');
          const end = frontier + window;
          const before = times.filter((t) => t < end);
          expect(h.ig.calls.map((e) => seconds(e.ts_utc))).toEqual(before);
          expect(result.next_row).toBe(before.length);
          if (before.length < times.length) {
            expect(result).toMatchObject({
              status: 'WINDOW_END',
              frontier_ts_utc: tsAt(times[before.length] ?? -1),
              window_end_ts_utc: tsAt(end),
            });
            expect(result.state.ahead?.row).toBe(before.length);
          } else {
            expect(result).toMatchObject({
              status: 'DONE',
              reason: 'output_complete',
              frontier_ts_utc: null,
            });
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not read the view again while its next row lies past the window', async () => {
    const h = harness({ [TRAFFIC]: rowsOf(TRAFFIC, [0, 100, 200]) });
    const plan = alignedPlan(60);
    const peers = [{ output_id: ANCHOR, status: 'WINDOW_END', frontier_ts_utc: tsAt(0) }];
    const first = await runChunk(h.deps, { plan, output_id: TRAFFIC, peers }, NO_PACE);
    expect(first).toMatchObject({ status: 'WINDOW_END', pushed: 1, next_row: 1, frontier_ts_utc: tsAt(100) });
    const reads = h.stream.reads.length;
    const again = await runChunk(h.deps, { plan, output_id: TRAFFIC, state: first.state, peers }, NO_PACE);
    expect(again).toMatchObject({ status: 'WINDOW_END', pushed: 0, next_row: 1 });
    expect(h.stream.reads).toHaveLength(reads);
    // The anchor moved on: the row is in the next window.
    const later = [{ output_id: ANCHOR, status: 'WINDOW_END', frontier_ts_utc: tsAt(90) }];
    const next = await runChunk(
      h.deps,
      { plan, output_id: TRAFFIC, state: again.state, peers: later },
      NO_PACE,
    );
    expect(next).toMatchObject({ status: 'WINDOW_END', pushed: 1, next_row: 2 });
  });

  it('peeks while another output has not told where it is: one row read, nothing pushed; an empty view is DONE', async () => {
    const h = harness({ [TRAFFIC]: rowsOf(TRAFFIC, [30, 40]), [ANCHOR]: [] });
    const plan = alignedPlan(60);
    const peers = ALIGNED_OUTPUTS.map((o) => ({ ...o }));
    const traffic = await runChunk(h.deps, { plan, output_id: TRAFFIC, peers }, NO_PACE);
    expect(traffic).toMatchObject({
      status: 'WINDOW_END',
      pushed: 0,
      next_row: 0,
      frontier_ts_utc: tsAt(30),
    });
    expect(traffic.window_end_ts_utc).toBeUndefined();
    expect(h.stream.reads).toEqual([{ outputId: TRAFFIC, fromRow: 0, limit: 1 }]);
    const anchor = await runChunk(h.deps, { plan, output_id: ANCHOR, peers }, NO_PACE);
    expect(anchor).toMatchObject({ status: 'DONE', reason: 'output_complete', frontier_ts_utc: null });
    expect(h.ig.calls).toEqual([]);
    expect(h.checkpoints.rows.size).toBe(0);
  });

  it('counts its chunks of a segment: segment_full once it has run its share, afresh in the next segment', async () => {
    const h = harness({ [TRAFFIC]: rowsOf(TRAFFIC, [0, 1, 2, 3, 4, 5]) });
    // 6 chunks a segment for 3 outputs: 2 each.
    const plan = alignedPlan(0, { chunks_per_segment: 6 });
    const settings = defaultSettings({ speedup: 0, chunkRows: 1 });
    const one = await runChunk(h.deps, { plan, output_id: TRAFFIC, segment: 0 }, settings);
    expect(one).toMatchObject({
      status: 'CONTINUE',
      segment_full: false,
      state: { segment: 0, segment_chunks: 1 },
    });
    const two = await runChunk(h.deps, { plan, output_id: TRAFFIC, segment: 0, state: one.state }, settings);
    expect(two).toMatchObject({
      status: 'CONTINUE',
      segment_full: true,
      state: { segment: 0, segment_chunks: 2 },
    });
    const three = await runChunk(
      h.deps,
      { plan, output_id: TRAFFIC, segment: 1, state: two.state },
      settings,
    );
    expect(three).toMatchObject({ segment_full: false, state: { segment: 1, segment_chunks: 1 } });
  });
});

describe('rounds: every output through the same window before any goes further', () => {
  it('property: nothing IG admits leads an event of another output admitted later by a whole window', async () => {
    await fc.assert(
      fc.asyncProperty(
        sortedTimes(1800, { minLength: 0, maxLength: 25 }),
        sortedTimes(1800, { minLength: 0, maxLength: 25 }),
        sortedTimes(1800, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 3, max: 40 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
        async (arrivals, anchors, traffic, window, chunkRows, chunksPerSegment, picks) => {
          const h = harness({
            [ARRIVALS]: rowsOf(ARRIVALS, arrivals),
            [ANCHOR]: rowsOf(ANCHOR, anchors),
            [TRAFFIC]: rowsOf(TRAFFIC, traffic),
          });
          let pick = 0;
          const order = (open: string[]) => open[(picks[pick++ % picks.length] ?? 0) % open.length] as string;
          const plan = alignedPlan(window, { chunks_per_segment: chunksPerSegment });
          const run = await runRounds(h.deps, plan, defaultSettings({ speedup: 0, chunkRows }), { order });
          expect(run.outputs.map((o) => [o.output_id, o.status, o.reason])).toEqual(
            ALIGNED_OUTPUTS.map((o) => [o.output_id, 'DONE', 'output_complete']),
          );
          // Every row once, each output in its view order.
          expect(h.ig.calls).toHaveLength(arrivals.length + anchors.length + traffic.length);
          for (const [id, times] of [
            [ARRIVALS, arrivals],
            [ANCHOR, anchors],
            [TRAFFIC, traffic],
          ] as const)
            expect(h.ig.calls.filter((e) => e.event_type === id).map((e) => seconds(e.ts_utc))).toEqual(
              times,
            );
          expect(largestLead(h.ig.admitted.values())).toBeLessThan(window);
          // A segment has at most each output's share of chunks, so at most that many rounds.
          const share = outputChunksPerSegment(chunksPerSegment, 3);
          for (let s = 0; s < run.segments; s++) {
            const rounds = run.trace.filter((r) => r.segment === s);
            expect(rounds.length).toBeLessThanOrEqual(share);
            for (const id of [ARRIVALS, ANCHOR, TRAFFIC]) {
              const chunks = rounds.reduce((n, r) => n + (r.outputs.get(id)?.statuses.length ?? 0), 0);
              expect(chunks).toBeLessThanOrEqual(share);
            }
          }
        },
      ),
      { numRuns: 120 },
    );
  });

  it('unaligned (window 0), an output streams on its own: traffic can run hours ahead of the anchors', async () => {
    const hourly = Array.from({ length: 10 }, (_, i) => i * 3600);
    const h = harness({
      [ARRIVALS]: [],
      [ANCHOR]: rowsOf(ANCHOR, hourly),
      [TRAFFIC]: rowsOf(TRAFFIC, hourly),
    });
    // The Map happens to run traffic first.
    const order = (open: string[]) => (open.includes(TRAFFIC) ? TRAFFIC : (open[0] as string));
    await runRounds(h.deps, alignedPlan(0), NO_PACE, { order });
    expect(largestLead(h.ig.admitted.values())).toBe(9 * 3600);
    const aligned = harness({
      [ARRIVALS]: [],
      [ANCHOR]: rowsOf(ANCHOR, hourly),
      [TRAFFIC]: rowsOf(TRAFFIC, hourly),
    });
    const run = await runRounds(aligned.deps, alignedPlan(60), NO_PACE, { order });
    expect(largestLead(aligned.ig.admitted.values())).toBe(0);
    // A peek round, then one round an hour.
    expect(run.rounds).toBe(11);
  });

  it('a session that crashed mid-round is resumed by the next from the checkpoints: every row once, still aligned', async () => {
    await fc.assert(
      fc.asyncProperty(
        sortedTimes(900, { minLength: 1, maxLength: 20 }),
        sortedTimes(900, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 90 }),
        async (anchors, traffic, crashAfter, window) => {
          const h = harness({
            [ARRIVALS]: [],
            [ANCHOR]: rowsOf(ANCHOR, anchors),
            [TRAFFIC]: rowsOf(TRAFFIC, traffic),
          });
          const plan = alignedPlan(window);
          let chunks = 0;
          const crashing = (open: string[]) => {
            if (++chunks > crashAfter) throw new Error('Lambda part down');
            return open[chunks % open.length] as string;
          };
          await runRounds(h.deps, plan, defaultSettings({ speedup: 0, chunkRows: 2 }), {
            order: crashing,
          }).catch(() => undefined);
          const second = await runRounds(
            h.deps,
            nextSession(plan, 2),
            defaultSettings({ speedup: 0, chunkRows: 2 }),
          );
          expect(second.outputs.every((o) => o.status === 'DONE')).toBe(true);
          expect(h.ig.admitted.size).toBe(anchors.length + traffic.length);
          expect(largestLead(h.ig.admitted.values())).toBeLessThan(window);
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('segments under the history limit', () => {
  it('an output’s share of a segment: chunks_per_segment split over the outputs, within the worst-case history', () => {
    expect(outputChunksPerSegment(500, 4)).toBe(125);
    expect(outputChunksPerSegment(3, 4)).toBe(1);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_CHUNKS_PER_SEGMENT }),
        fc.integer({ min: 1, max: 40 }),
        (total, n) => {
          const share = outputChunksPerSegment(total, n);
          expect(share).toBeGreaterThanOrEqual(1);
          if (total >= n) expect(share * n).toBeLessThanOrEqual(total);
          // At most `share` rounds, each with every output's chunks at their worst.
          const worst =
            SEGMENT_HISTORY_EVENTS + share * (roundHistoryEvents(n) + n * MAX_HISTORY_EVENTS_PER_CHUNK);
          if (share > 1) expect(worst).toBeLessThan(MAX_HISTORY_EVENTS);
        },
      ),
    );
  });
});

describe('the window a session streams with', () => {
  it('is the deployment’s WSP_ALIGN_WINDOW_SECONDS, or the run’s own when P1 pinned one', async () => {
    const store = await engineWorld();
    const deps = (run: Record<string, unknown>) => ({
      engineRuns: { open: () => store },
      allowlist: { read: async () => 'svc:world_stream_producer\n' },
      runSettings: { settingsOf: async () => run },
    });
    const deployment = defaultSettings({ alignWindowSeconds: 30 });
    const planned = await prepareRunStream(deps({}), runInput(), deployment);
    expect(planned.kind === 'plan' && planned.plan.align_window_seconds).toBe(30);
    const pinned = await prepareRunStream(
      deps({ speedup: 0, align_window_seconds: 0 }),
      runInput(),
      deployment,
    );
    expect(pinned.kind === 'plan' && [pinned.plan.align_window_seconds, pinned.plan.stream_settings]).toEqual(
      [0, { speedup: 0, align_window_seconds: 0 }],
    );
  });
});
