import { pythonStr } from './python-format.ts';

/**
 * A stream consumer's checkpoint per (topic, partition) (downstream.md §1 "Consumption"), shared by the RTDL
 * projectors: the highest offset applied and the highest event time seen. A late record moves neither back. Also the
 * projectors' replay-pins check (REPLAY_PINS_MISMATCH).
 */

/** Orders two offsets: decimal ones (Kinesis sequences, file lines) as integers, others as strings. */
export function compareOffsets(a: string, b: string): number {
  if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) {
    const [x, y] = [a.replace(/^0+(?=.)/, ''), b.replace(/^0+(?=.)/, '')];
    if (x.length !== y.length) return x.length - y.length;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Where a record sits: the parts of an eb_ref a checkpoint needs. */
export interface RecordPosition<Kind extends string = string> {
  topic: string;
  partition: number;
  offset: string;
  offset_kind: Kind;
}

export interface AdvancedCheckpoint<Kind extends string = string> {
  topic: string;
  partition: number;
  next_offset: string;
  offset_kind: Kind;
  watermark_ts_utc: string | null;
}

const blank = (value: string | null | undefined): value is null | undefined | '' =>
  value === null || value === undefined || value === '';

/** The checkpoint after a record: the higher offset and the higher event time. */
export function advancedCheckpoint<Kind extends string>(
  current: { next_offset: string; watermark_ts_utc: string | null } | undefined,
  at: RecordPosition<Kind>,
  eventTsUtc: string | null | undefined,
): AdvancedCheckpoint<Kind> {
  const offset =
    current && compareOffsets(current.next_offset, at.offset) > 0 ? current.next_offset : at.offset;
  const watermarks = [current?.watermark_ts_utc, eventTsUtc].filter((t): t is string => !blank(t));
  return {
    topic: at.topic,
    partition: at.partition,
    next_offset: offset,
    offset_kind: at.offset_kind,
    watermark_ts_utc: watermarks.length === 0 ? null : watermarks.reduce((a, b) => (a > b ? a : b)),
  };
}

/** The pins of `envelope` that differ from the replay's (compared as the reference's `str()`), with both values. */
export function replayPinMismatches(
  replayPins: Readonly<Record<string, unknown>>,
  envelope: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const mismatches: Record<string, unknown> = {};
  for (const [pin, expected] of Object.entries(replayPins)) {
    if (expected === null || expected === undefined) continue;
    const actual = envelope[pin];
    if (actual === undefined || actual === null || pythonStr(actual) !== pythonStr(expected))
      mismatches[pin] = { expected, actual: actual ?? null };
  }
  return mismatches;
}
