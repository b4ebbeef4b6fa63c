import { PyFloat, pyFloat } from '../contracts/canonical-json.ts';

/**
 * The event-time window arithmetic of the Online Feature Plane. Time is integer microseconds since the epoch (the
 * envelope's `ts_utc` has exactly six fractional digits), amounts integer micro-units: every sum is an integer
 * sum, so state is the same whatever order events arrive in.
 *
 * State is per key: one row per (key, one-minute bucket of event time) holding a count and an amount sum, plus
 * one row per (key, event) holding its time and amount. A window (T − w, T] is the buckets wholly inside it
 * plus the events of the (at most two) buckets cut by its ends, so "features as of T" is exact to the microsecond
 * and a query reads at most w / 1 min bucket rows and two minutes of events per key.
 */

export const BUCKET_MICROS = 60_000_000n;

/** Integer division rounding towards −∞ (bigint `/` truncates towards zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

export const bucketStartOf = (tsMicros: bigint) => floorDiv(tsMicros, BUCKET_MICROS) * BUCKET_MICROS;

/** `2026-03-08T00:01:03.106979Z` → microseconds since the epoch. */
export function tsMicrosOf(tsUtc: string): bigint {
  const millis = Date.parse(`${tsUtc.slice(0, 19)}Z`);
  if (Number.isNaN(millis)) throw new RangeError(`not an event time: ${tsUtc}`);
  return BigInt(millis) * 1000n + BigInt(tsUtc.slice(20, 26));
}

/** Microseconds since the epoch → `…T…​.ffffffZ`. */
export function tsUtcOf(micros: bigint): string {
  const seconds = floorDiv(micros, 1_000_000n);
  const fraction = micros - seconds * 1_000_000n;
  const iso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${iso}.${fraction.toString().padStart(6, '0')}Z`;
}

/** §2.3 amount = numeric payload.amount or 0, in integer micro-units (rounded to the micro-unit). */
export function amountMicrosOf(amount: unknown): bigint {
  const value = amount instanceof PyFloat ? amount.value : amount;
  if (typeof value === 'bigint') return value * 1_000_000n;
  if (typeof value !== 'number' || !Number.isFinite(value)) return 0n;
  const scaled = value * 1e6;
  return Number.isSafeInteger(Math.round(scaled))
    ? BigInt(Math.round(scaled))
    : BigInt(Math.round(value)) * 1_000_000n;
}

export interface Totals {
  event_count: number;
  amount_micros: bigint;
}

export const addTotals = (a: Totals, b: Totals): Totals => ({
  event_count: a.event_count + b.event_count,
  amount_micros: a.amount_micros + b.amount_micros,
});

/**
 * How to read the events of (after, atOrBefore]: the buckets wholly inside (`buckets`, first and last bucket
 * start, `after` null = unbounded) and the event-time ranges cut by the ends (`events`, each (after, atOrBefore]).
 */
export interface WindowPlan {
  buckets?: { first: bigint | null; last: bigint };
  events: { after: bigint | null; atOrBefore: bigint }[];
}

export function windowPlan(after: bigint | null, atOrBefore: bigint): WindowPlan {
  const first = after === null ? null : floorDiv(after, BUCKET_MICROS) + 1n;
  const last = floorDiv(atOrBefore + 1n, BUCKET_MICROS) - 1n;
  if (first !== null && first > last) return { events: [{ after, atOrBefore }] };
  const events: WindowPlan['events'] = [];
  if (first !== null && after !== null && after < first * BUCKET_MICROS - 1n)
    events.push({ after, atOrBefore: first * BUCKET_MICROS - 1n });
  const lastEnd = (last + 1n) * BUCKET_MICROS - 1n;
  if (lastEnd < atOrBefore) events.push({ after: lastEnd, atOrBefore });
  return {
    buckets: { first: first === null ? null : first * BUCKET_MICROS, last: last * BUCKET_MICROS },
    events,
  };
}

/** An amount in micro-units as the float the reference writes (`12.5`, `3.0`). */
export const amountOf = (micros: bigint) => pyFloat(Number(micros) / 1e6);

/** A duration in microseconds as float seconds (`3600.0`, `0.000001`): the same scaling as an amount. */
export const secondsOf: (micros: bigint) => PyFloat = amountOf;
