import { Rfc3339Micros } from '../contracts/wire-primitives.ts';

/** Event-time pacing (control-ingress.md §4.5): sleep `(ts − prev_ts) / speedup` before a row. */

/** Epoch microseconds of an envelope `ts_utc` (`YYYY-MM-DDTHH:MM:SS.ffffffZ`). */
export function envelopeEpochMicros(tsUtc: string): number {
  const ts = Rfc3339Micros.parse(tsUtc);
  const seconds = Date.parse(`${ts.slice(0, 19)}Z`);
  return seconds * 1000 + Number(ts.slice(20, 26));
}

/**
 * §4.5 the delay in ms before a row at `tsUtc` when the previous pushed row was at `prevTsUtc`: 0 without a
 * previous row, when `speedup` is 0 (no pacing), or when time does not move forward.
 */
export function pacingDelayMs(prevTsUtc: string | null | undefined, tsUtc: string, speedup: number): number {
  if (!(speedup > 0) || prevTsUtc === null || prevTsUtc === undefined) return 0;
  const deltaMicros = envelopeEpochMicros(tsUtc) - envelopeEpochMicros(prevTsUtc);
  if (deltaMicros <= 0) return 0;
  return deltaMicros / 1000 / speedup;
}

export type PacingStep =
  | { kind: 'now' }
  /** Sleep inside the chunk. */
  | { kind: 'sleep'; ms: number }
  /** Hand the wait to the state machine; the row is due at `dueAtMs` (epoch ms). */
  | { kind: 'wait'; dueAtMs: number };

export interface PacingContext {
  delayMs: number;
  nowMs: number;
  /** Epoch ms by which the chunk must hand back. */
  deadlineMs: number;
  /** Delays at least this long go to a Wait state; 0 disables the threshold. */
  waitThresholdMs: number;
}

/** Where a pacing delay is spent: nowhere, in the Lambda, or in a Wait state (long, or past the budget). */
export function pacingStep({ delayMs, nowMs, deadlineMs, waitThresholdMs }: PacingContext): PacingStep {
  if (delayMs <= 0) return { kind: 'now' };
  if ((waitThresholdMs > 0 && delayMs >= waitThresholdMs) || nowMs + delayMs > deadlineMs) {
    return { kind: 'wait', dueAtMs: Math.ceil(nowMs + delayMs) };
  }
  return { kind: 'sleep', ms: delayMs };
}

/** Whole seconds for the Wait state before a row due at `dueAtMs`; the next chunk sleeps the remainder. */
export function waitSeconds(dueAtMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((dueAtMs - nowMs) / 1000));
}
