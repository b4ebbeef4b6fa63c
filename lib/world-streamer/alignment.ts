import { z } from 'zod';
import { Rfc3339Micros } from '../contracts/wire-primitives.ts';
import { envelopeEpochMicros } from './pacing.ts';

/**
 * Event-time alignment across the outputs of a stream session (our addition, issue 13 point 6). Without it, each
 * output streams on its own: with no pacing a flow's anchor (context) can reach the bus minutes of event time after
 * the traffic that needs it. Aligned, a session runs in rounds (statemachines/stream-output.asl.yml: a Map over the
 * outputs, each iteration a loop of chunks); every output's chunks in a round push only rows whose `ts_utc` is
 * before the output's window end
 *
 *   end(o) = min over the other outputs p still streaming of frontier(p) + window,
 *
 * where frontier(p) is a lower bound of the event time of anything p pushes from then on (the first row it has not
 * pushed, else the last one it pushed), as p's last chunk result of the previous round reported it. The next round
 * starts only when every output has ended its round. So an event x of output o is pushed before an event y of p
 * only if ts(x) < frontier(p) + window ≤ ts(y) + window: on the bus, nothing leads anything of another output by a
 * whole window of event time. A round's windows are the same for every chunk of it (the peers are the round's start),
 * so an output that needs several chunks, or several rounds when its segment's chunks run out, keeps its window.
 */

/** What a chunk knows of one output of the session: its last chunk result (or, before any, the planned output). */
export const ChunkPeer = z.looseObject({
  output_id: z.string().min(1),
  /** Absent before the output's first chunk. */
  status: z.string().optional(),
  frontier_ts_utc: Rfc3339Micros.nullable().optional(),
});
export type ChunkPeer = z.infer<typeof ChunkPeer>;

export type ChunkWindow =
  /** Unaligned (window 0, or no other output streaming): the output streams as far as its chunks go. */
  | { kind: 'open' }
  /** An output still streaming has not told where it is (a session's first round): read, push nothing. */
  | { kind: 'peek' }
  /** Push only rows before this event time (epoch microseconds). */
  | { kind: 'until'; endMicros: number };

/** Outputs that stream no more (the state machine does not run their chunks). */
const ENDED = new Set(['DONE', 'FAILED']);

/** The window of output `outputId` in a round whose outputs started from `peers`, `windowSeconds` wide (0: none). */
export function chunkWindow(
  outputId: string,
  peers: readonly ChunkPeer[] | undefined,
  windowSeconds: number,
): ChunkWindow {
  if (!(windowSeconds > 0) || peers === undefined) return { kind: 'open' };
  let frontier: number | undefined;
  for (const peer of peers) {
    if (peer.output_id === outputId || (peer.status !== undefined && ENDED.has(peer.status))) continue;
    const ts = peer.frontier_ts_utc;
    if (ts === null || ts === undefined) return { kind: 'peek' };
    const micros = envelopeEpochMicros(ts);
    frontier = frontier === undefined ? micros : Math.min(frontier, micros);
  }
  return frontier === undefined
    ? { kind: 'open' }
    : { kind: 'until', endMicros: frontier + Math.round(windowSeconds * 1_000_000) };
}

/** Whether a row at `tsUtc` may be pushed in `window`. */
export function withinWindow(window: ChunkWindow, tsUtc: string): boolean {
  if (window.kind === 'open') return true;
  if (window.kind === 'peek') return false;
  return envelopeEpochMicros(tsUtc) < window.endMicros;
}

/** Epoch microseconds as an envelope `ts_utc` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). */
export function tsUtcOfMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = String(micros - seconds * 1_000_000).padStart(6, '0');
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}
