import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pyFloat } from '../../lib/contracts/canonical-json.ts';
import {
  parseAwareDateTime,
  pydanticJsonDatetime,
  pythonIsoformat,
  pythonStr,
} from '../../lib/contracts/python-format.ts';

/** Golden strings are Python 3.11 output: str(v), datetime.fromisoformat(s).isoformat(), pydantic 2.13 JSON. */
describe('Python text forms (control-ingress.md §0, §10)', () => {
  it('golden: str() of preimage scalars', () => {
    expect(pythonStr('é|x')).toBe('é|x');
    expect(pythonStr(2n ** 64n - 1n)).toBe('18446744073709551615');
    expect(pythonStr(-(2n ** 63n))).toBe('-9223372036854775808');
    expect(pythonStr(42)).toBe('42');
    expect(pythonStr(-0)).toBe('0');
    expect(pythonStr(12.5)).toBe('12.5');
    expect(pythonStr(1e16)).toBe('1e+16');
    expect(pythonStr(1e-7)).toBe('1e-07');
    expect(pythonStr(pyFloat(3))).toBe('3.0');
    expect(pythonStr(true)).toBe('True');
    expect(pythonStr(false)).toBe('False');
  });

  it('refuses values without a preimage form', () => {
    for (const bad of [null, undefined, {}, [], Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => pythonStr(bad), String(bad)).toThrow(TypeError);
    }
  });

  it('golden: isoformat keeps the offset (Z → +00:00) and shows microseconds only when non-zero', () => {
    expect(pythonIsoformat('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00+00:00');
    expect(pythonIsoformat('2026-01-01T01:00:00.5+01:00')).toBe('2026-01-01T01:00:00.500000+01:00');
    expect(pythonIsoformat('2026-01-02T00:00:00.000001Z')).toBe('2026-01-02T00:00:00.000001+00:00');
    expect(pythonIsoformat('2026-06-30T23:59:59-03:30')).toBe('2026-06-30T23:59:59-03:30');
    expect(pythonIsoformat(new Date('2026-01-01T00:00:00.120Z'))).toBe('2026-01-01T00:00:00.120000+00:00');
  });

  it('golden: pydantic JSON writes a zero offset as Z', () => {
    expect(pydanticJsonDatetime('2026-01-01T00:00:00+00:00')).toBe('2026-01-01T00:00:00Z');
    expect(pydanticJsonDatetime('2026-01-01T00:00:00.123456Z')).toBe('2026-01-01T00:00:00.123456Z');
    expect(pydanticJsonDatetime('2026-01-01T00:00:00.12Z')).toBe('2026-01-01T00:00:00.120000Z');
    expect(pydanticJsonDatetime('2026-01-01T00:00:00+01:00')).toBe('2026-01-01T00:00:00+01:00');
  });

  it('rejects naive, impossible or over-precise timestamps', () => {
    for (const bad of [
      '2026-01-01T00:00:00',
      '2026-02-30T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00.1234567Z',
      '2026-01-01T00:00:00+24:00',
      'yesterday',
    ]) {
      expect(() => parseAwareDateTime(bad), bad).toThrow(RangeError);
    }
  });

  it('any millisecond Date round-trips through isoformat to the same instant', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (at) => {
          const iso = pythonIsoformat(at);
          expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/);
          expect(new Date(iso).getTime()).toBe(at.getTime());
          expect(pythonIsoformat(iso)).toBe(iso);
        },
      ),
    );
  });
});
