import { sha256Hex } from '../contracts/identity.ts';

/**
 * Segments of an output's stream (our addition). AWS fails a STANDARD execution whose history reaches 25,000 events,
 * and a chunk costs about nine (eleven when it paces), so one execution could stream only ~2,700 chunks. `stream-run`
 * therefore runs each output as a series of `stream-output` child executions, each at most `chunks_per_segment`
 * chunks long, carrying the chunk loop state from one to the next (statemachines/, docs/scenario-runner-and-world-streamer.md).
 */

/**
 * The most history events one chunk can add to a `stream-output` execution: Task entered/exited, eight Lambda
 * attempts (the first, 5 Lambda.* retries, 2 others) of scheduled/started/failed-or-succeeded, the Choice, the
 * Wait and the Pass that carries the state on.
 */
export const MAX_HISTORY_EVENTS_PER_CHUNK = 2 + 8 * 3 + 2 + 2 + 2;

/** Keeps a segment of every chunk at its worst below AWS's 25,000 events (700 × 32 = 22,400, plus a handful). */
export const MAX_CHUNKS_PER_SEGMENT = 700;

/** Execution names are at most 80 characters: `{prefix}-{output index ≤ 999}-{segment ≤ 9,999,999}`. */
export const SEGMENT_NAME_PREFIX_MAX = 80 - '-999-9999999'.length;

/**
 * The prefix of a session's segment executions: the session id (an execution name itself, so of allowed characters),
 * or, when too long to leave room for the indexes, the start of its sha256.
 */
export function segmentNamePrefix(sessionId: string): string {
  return sessionId.length <= SEGMENT_NAME_PREFIX_MAX
    ? sessionId
    : sha256Hex(sessionId).slice(0, SEGMENT_NAME_PREFIX_MAX);
}

/** The name stream-run gives segment `segment` (0-based) of output `outputIndex` (its place in the plan). */
export function segmentExecutionName(prefix: string, outputIndex: number, segment: number): string {
  return `${prefix}-${outputIndex}-${segment}`;
}
