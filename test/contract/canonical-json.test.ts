import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  compareCodePoints,
  PyFloat,
  parseJsonLossless,
  pyFloat,
  pythonFloatRepr,
  sortedJson,
} from '../../lib/contracts/canonical-json.ts';

/**
 * Golden strings are Python 3.11 output:
 *   CJ = json.dumps(v, sort_keys=True, ensure_ascii=True, separators=(',', ':'))
 *   SJ = json.dumps(v, sort_keys=True, ensure_ascii=True)
 */

const NESTED = {
  b: { z: 1, a: [3, { y: null, x: true }] },
  a: 'x',
  A: false,
  é: 1,
  '😀': 2,
  '\uffff': 3,
  aa: 4,
  '': 5,
};

describe('canonical JSON (contract: byte-compatible with the reference)', () => {
  it('golden: nested objects sort recursively by code point (U+FFFF before U+1F600), arrays keep order', () => {
    expect(canonicalJson(NESTED)).toBe(
      '{"":5,"A":false,"a":"x","aa":4,"b":{"a":[3,{"x":true,"y":null}],"z":1},"\\u00e9":1,"\\uffff":3,"\\ud83d\\ude00":2}',
    );
    expect(sortedJson(NESTED)).toBe(
      '{"": 5, "A": false, "a": "x", "aa": 4, "b": {"a": [3, {"x": true, "y": null}], "z": 1}, "\\u00e9": 1, "\\uffff": 3, "\\ud83d\\ude00": 2}',
    );
  });

  it('golden: ensure_ascii escapes (é, 😀 as a surrogate pair, controls, DEL, U+2028; "/" unescaped)', () => {
    expect(canonicalJson('é😀\u0000\u001f"\\/\n\r\t\b\f\u007f\u2028')).toBe(
      '"\\u00e9\\ud83d\\ude00\\u0000\\u001f\\"\\\\/\\n\\r\\t\\b\\f\\u007f\\u2028"',
    );
  });

  it('golden: Python float repr', () => {
    const floats = [
      12.5,
      1e-7,
      1e16,
      1e22,
      0.1,
      pyFloat(-0),
      pyFloat(1),
      pyFloat(1e15),
      1e-4,
      1e-5,
      123456789012345680,
      1.5e300,
      5e-324,
      1.7976931348623157e308,
      -2.5e-10,
      0.1 + 0.2,
      pyFloat(100),
      2 ** 53,
    ];
    expect(canonicalJson(floats)).toBe(
      '[12.5,1e-07,1e+16,1e+22,0.1,-0.0,1.0,1000000000000000.0,0.0001,1e-05,1.2345678901234568e+17,1.5e+300,5e-324,1.7976931348623157e+308,-2.5e-10,0.30000000000000004,100.0,9007199254740992.0]',
    );
    expect(sortedJson([12.5, 1e-7, 1e16])).toBe('[12.5, 1e-07, 1e+16]');
  });

  it('golden: ints — safe integers as ints, -0 as 0, BigInt exact (int64/uint64)', () => {
    expect(canonicalJson([2n ** 63n - 1n, -(2n ** 63n), 0, -0, 2n ** 64n - 1n, 10n ** 22n, 42, -7])).toBe(
      '[9223372036854775807,-9223372036854775808,0,0,18446744073709551615,10000000000000000000000,42,-7]',
    );
    expect(canonicalJson(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
  });

  it('golden: empty and nested arrays/objects', () => {
    expect(canonicalJson([[], {}, [[]], [1, [2, [3]]]])).toBe('[[],{},[[]],[1,[2,[3]]]]');
    expect(sortedJson([[], {}, [[]], [1, [2, [3]]]])).toBe('[[], {}, [[]], [1, [2, [3]]]]');
  });

  it('leaves out undefined properties; refuses NaN, Infinity, undefined items, cycles, class instances', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson(Object.assign(Object.create(null), { k: 'v' }))).toBe('{"k":"v"}');
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(TypeError);
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson(new Date(0))).toThrow(TypeError);
    expect(() => pyFloat(Number.NaN)).toThrow(TypeError);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(TypeError);
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

describe('parseJsonLossless', () => {
  it('keeps int64 exact as BigInt, safe ints and floats as numbers', () => {
    expect(
      parseJsonLossless('{"id": 9223372036854775807, "n": 42, "x": 12.5, "neg": -9007199254740993}'),
    ).toEqual({
      id: 9223372036854775807n,
      n: 42,
      x: 12.5,
      neg: -9007199254740993n,
    });
  });

  it('preserveFloats wraps integral float literals so they re-serialise as written', () => {
    const text = '{"a":1.0,"b":-0.0,"c":1e+16,"d":2,"e":[0.5]}';
    const value = parseJsonLossless(text, { preserveFloats: true });
    expect((value as { a: unknown }).a).toBeInstanceOf(PyFloat);
    expect(canonicalJson(value)).toBe(text);
    expect(canonicalJson(parseJsonLossless(text))).toBe('{"a":1,"b":0,"c":1e+16,"d":2,"e":[0.5]}');
  });

  it('decodes escapes and surrogate pairs; a "__proto__" key stays data; duplicates: last wins', () => {
    const value = parseJsonLossless('{"s":"\\u00e9\\ud83d\\ude00\\n\\/","__proto__":{"x":1},"d":1,"d":2}');
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":1},"d":2,"s":"\\u00e9\\ud83d\\ude00\\n/"}');
  });

  it('rejects what JSON rejects', () => {
    for (const bad of ['', '{', '[1,]', '01', '1.', 'NaN', '"\u0001"', '{"a" 1}', '[1] x', "'a'", '1e400']) {
      expect(() => parseJsonLossless(bad), bad).toThrow(SyntaxError);
    }
  });
});

/** JSON-like values: strings over an alphabet with astral, BMP-private and escaped characters. */
const text = fc.string({
  unit: fc.constantFrom(
    'a',
    'B',
    'é',
    '\u00ff',
    '\u2028',
    '\ud7ff',
    '\ue000',
    '\uffff',
    '😀',
    '𐀀',
    '"',
    '\\',
    '\n',
    '\u0000',
    '~',
  ),
  maxLength: 5,
});
const leaf = fc.oneof(
  text,
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const { value: jsonValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(text, tie('value'), { maxKeys: 4 }),
}));

describe('canonical JSON properties', () => {
  it('output is ASCII, valid JSON, and round-trips through the lossless parser byte for byte', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const cj = canonicalJson(v);
        expect(/^[\x20-\x7e]*$/.test(cj)).toBe(true);
        expect(() => JSON.parse(cj)).not.toThrow();
        expect(canonicalJson(parseJsonLossless(cj, { preserveFloats: true }))).toBe(cj);
        expect(sortedJson(parseJsonLossless(sortedJson(v), { preserveFloats: true }))).toBe(sortedJson(v));
      }),
      { numRuns: 500 },
    );
  });

  it('key order does not matter, and keys come out in code point order', () => {
    fc.assert(
      fc.property(fc.dictionary(text, fc.integer(), { maxKeys: 8 }), (dict) => {
        const reversed = Object.fromEntries(Object.entries(dict).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(dict));
        const keys = Object.keys(JSON.parse(canonicalJson(dict)) as object);
        const byCodePoint = [...keys].sort((a, b) => {
          const x = [...a].map((c) => c.codePointAt(0) ?? 0);
          const y = [...b].map((c) => c.codePointAt(0) ?? 0);
          for (let i = 0; i < Math.min(x.length, y.length); i++)
            if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
          return x.length - y.length;
        });
        expect(keys).toEqual(byCodePoint);
      }),
      { numRuns: 300 },
    );
  });

  it('a float repr parses back to the same double, with the same shortest digits JS picks', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const repr = pythonFloatRepr(x);
        expect(Object.is(Number(repr), x)).toBe(true);
        const digits = (s: string) =>
          s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
        expect(digits(repr)).toBe(digits(Math.abs(x).toExponential()));
      }),
      { numRuns: 2000 },
    );
  });

  it('compareCodePoints agrees with comparing arrays of code points', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const x = [...a].map((c) => c.codePointAt(0) ?? 0);
        const y = [...b].map((c) => c.codePointAt(0) ?? 0);
        let expected = x.length - y.length;
        for (let i = 0; i < Math.min(x.length, y.length); i++) {
          if (x[i] !== y[i]) {
            expected = (x[i] ?? 0) - (y[i] ?? 0);
            break;
          }
        }
        expect(Math.sign(compareCodePoints(a, b))).toBe(Math.sign(expected));
      }),
      { numRuns: 1000 },
    );
  });
});
