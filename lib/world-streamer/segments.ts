import { sha256Hex } from '../contracts/identity.ts';

/**
 * Segments of a stream session (our addition). AWS fails a STANDARD execution whose history reaches 25,000 events,
 * and a chunk costs about seven (more when it paces or is retried), so one execution could stream only a few thousand
 * chunks. `stream-run` therefore runs the session as a series of `stream-output` child executions (segments), each a
 * bounded number of rounds over every output, carrying the outputs' last chunk results from one to the next
 * (statemachines/, docs/scenario-runner-and-world-streamer.md).
 */

/** AWS's limit on the events of one execution's history. */
export const MAX_HISTORY_EVENTS = 25_000;

/**
 * The most history events one chunk can add to a `stream-output` execution: Task entered/exited, eight Lambda
 * attempts (the first, 5 Lambda.* retries, 2 others) of scheduled/started/failed-or-succeeded, the Choice, the
 * Wait, and two to spare (a Pass).
 */
export const MAX_HISTORY_EVENTS_PER_CHUNK = 2 + 8 * 3 + 2 + 2 + 2;

/**
 * The events of one round besides its chunks: the Map (entered, started, succeeded, exited), the three states after
 * it (two Passes and the Choice), and per output the iteration (started, succeeded) with its Route Choice, the Pass
 * of a first chunk and the Pass that ends it.
 */
export const roundHistoryEvents = (outputs: number): number => 4 + 8 + 8 * outputs;

/** Started, the Init Pass, the Pass that ends the segment, Succeeded. */
export const SEGMENT_HISTORY_EVENTS = 6;

/** `WSP_CHUNKS_PER_SEGMENT` allows at most this many chunks in one segment (all outputs together). */
export const MAX_CHUNKS_PER_SEGMENT = 700;

/**
 * Chunks one output may run in one segment: its share of `chunksPerSegment`, and never more than keeps the segment
 * below the history limit at its worst. A segment ends after the round in which an output used its share; every
 * output still streaming runs at least one chunk a round, so a segment has at most this many rounds, and
 * `SEGMENT_HISTORY_EVENTS + share × (roundHistoryEvents(n) + n × MAX_HISTORY_EVENTS_PER_CHUNK)` bounds its history.
 */
export function outputChunksPerSegment(chunksPerSegment: number, outputs: number): number {
  const n = Math.max(1, outputs);
  const worstPerRound = roundHistoryEvents(n) + n * MAX_HISTORY_EVENTS_PER_CHUNK;
  const fits = Math.floor((MAX_HISTORY_EVENTS - SEGMENT_HISTORY_EVENTS) / worstPerRound);
  return Math.max(1, Math.min(Math.floor(chunksPerSegment / n), fits));
}

/** Execution names are at most 80 characters: `{prefix}-{segment ≤ 9,999,999}` (room kept for 12 characters). */
export const SEGMENT_NAME_PREFIX_MAX = 80 - '-999-9999999'.length;

/**
 * The prefix of a session's segment executions: the session id (an execution name itself, so of allowed characters),
 * or, when too long to leave room for the index, the start of its sha256.
 */
export function segmentNamePrefix(sessionId: string): string {
  return sessionId.length <= SEGMENT_NAME_PREFIX_MAX
    ? sessionId
    : sha256Hex(sessionId).slice(0, SEGMENT_NAME_PREFIX_MAX);
}

/** The name stream-run gives segment `segment` (0-based) of a session. */
export function segmentExecutionName(prefix: string, segment: number): string {
  return `${prefix}-${segment}`;
}
