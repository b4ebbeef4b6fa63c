import { PyFloat, pythonFloatRepr } from './canonical-json.ts';

/**
 * Python text forms that id preimages depend on (control-ingress.md §0, §10 "Preimages"):
 * `str()` of a scalar, `datetime.isoformat()` and pydantic v2's JSON datetime form.
 */

/** A scalar as it appears in a preimage: ids are `bigint` or safe integers, never lossy numbers. */
export type PreimageScalar = string | number | bigint | boolean | PyFloat;

/**
 * Python `str(value)` for the scalars the reference puts into preimages: strings as they are, ints as exact
 * decimals (BigInt for int64/uint64), floats as Python `repr` (`1e+16`), booleans as `True`/`False`.
 * Numbers follow the canonical-json rule: a safe integer is an int, anything else a float.
 * `null`, `undefined` and containers are refused: every caller decides what a missing value means.
 */
export function pythonStr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`no preimage form for ${value}`);
      if (Number.isSafeInteger(value)) return Object.is(value, -0) ? '0' : value.toString();
      return pythonFloatRepr(value);
    default:
      if (value instanceof PyFloat) return pythonFloatRepr(value.value);
      throw new TypeError(`no preimage form for ${value === null ? 'null' : typeof value}`);
  }
}

/** An aware instant with microsecond precision and the UTC offset it was written with. */
export interface AwareDateTime {
  /** Wall-clock fields in the written offset. */
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** Offset east of UTC in minutes (`+01:00` → 60). */
  offsetMinutes: number;
}

const ISO_AWARE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 / ISO 8601 timestamp with an explicit offset (`Z` or `±HH:MM`) and at most six
 * fractional digits, as pydantic parses a tz-aware `datetime` field. Throws on naive or impossible values.
 */
export function parseAwareDateTime(text: string): AwareDateTime {
  const m = ISO_AWARE.exec(text);
  if (!m) throw new RangeError(`not an aware ISO 8601 timestamp with ≤6 fractional digits: ${text}`);
  const [, y, mo, d, h, mi, s, frac = '', off = 'Z'] = m as unknown as string[];
  const fields = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  const at = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const real =
    at.getUTCFullYear() === year &&
    at.getUTCMonth() === month - 1 &&
    at.getUTCDate() === day &&
    at.getUTCHours() === hour &&
    at.getUTCMinutes() === minute &&
    at.getUTCSeconds() === second;
  if (!real) throw new RangeError(`names no real instant: ${text}`);
  let offsetMinutes = 0;
  if (off !== 'Z' && off !== 'z') {
    const sign = off.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
    if (Math.abs(offsetMinutes) >= 24 * 60) throw new RangeError(`offset out of range: ${text}`);
  }
  return { year, month, day, hour, minute, second, microsecond: Number(frac.padEnd(6, '0')), offsetMinutes };
}

/** A JS Date as an aware UTC datetime (millisecond precision). */
export function awareFromDate(at: Date): AwareDateTime {
  if (Number.isNaN(at.getTime())) throw new RangeError('invalid Date');
  return {
    year: at.getUTCFullYear(),
    month: at.getUTCMonth() + 1,
    day: at.getUTCDate(),
    hour: at.getUTCHours(),
    minute: at.getUTCMinutes(),
    second: at.getUTCSeconds(),
    microsecond: at.getUTCMilliseconds() * 1000,
    offsetMinutes: 0,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function wallClock(t: AwareDateTime): string {
  const fraction = t.microsecond === 0 ? '' : `.${pad(t.microsecond, 6)}`;
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${fraction}`;
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const toAware = (value: string | Date | AwareDateTime): AwareDateTime =>
  typeof value === 'string'
    ? parseAwareDateTime(value)
    : value instanceof Date
      ? awareFromDate(value)
      : value;

/**
 * Python `datetime.isoformat()` of an aware datetime: the written offset kept (`Z` becomes `+00:00`),
 * microseconds only when non-zero. `2026-01-01T00:00:00Z` → `2026-01-01T00:00:00+00:00`.
 */
export function pythonIsoformat(value: string | Date | AwareDateTime): string {
  const t = toAware(value);
  return `${wallClock(t)}${offsetText(t.offsetMinutes)}`;
}

/**
 * pydantic v2 `model_dump(mode="json")` of an aware datetime: like isoformat, but a zero offset is `Z`.
 * The SR plan (and so `plan_hash`) carries its datetimes in this form.
 */
export function pydanticJsonDatetime(value: string | Date | AwareDateTime): string {
  const t = toAware(value);
  return `${wallClock(t)}${t.offsetMinutes === 0 ? 'Z' : offsetText(t.offsetMinutes)}`;
}
