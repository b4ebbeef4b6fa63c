/**
 * Canonical JSON, byte-compatible with the reference (control-ingress.md §0):
 *   CJ = Python `json.dumps(v, sort_keys=True, ensure_ascii=True, separators=(',', ':'))`
 *   SJ = the same with Python's default separators `', '` and `': '`.
 *
 * Numbers. Python knows ints and floats; JS numbers do not say which they were. The rule here:
 * - a `bigint` is an int, written exactly (int64/uint64 ids, seeds);
 * - a `number` that is a safe integer (|n| ≤ 2^53 − 1, including -0) is an int: `1` → `1`, `-0` → `0`;
 * - any other finite `number` is a float in Python `repr`: `12.5`, `1e-07`, `1e+16`, `0.1`, `1e+22`.
 *   (An integer-valued number beyond 2^53 cannot be an exact id — those are BigInt here — so it is a float.)
 * - `pyFloat(n)` marks a number as a float when it must print as one: `pyFloat(1)` → `1.0`, `pyFloat(-0)` → `-0.0`.
 * NaN and ±Infinity are refused (Python would write the non-JSON tokens `NaN`/`Infinity`).
 *
 * Keys sort by Unicode code point, as Python sorts `str` (not by UTF-16 unit: U+FFFF sorts before U+1F600).
 * Properties whose value is `undefined` are left out, as `JSON.stringify` does; `undefined` elsewhere is refused.
 */

/** A number that must serialise as a Python float even when it is integer-valued (`1.0`, `-0.0`). */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no finite form for ${value}`);
    this.value = value;
  }
}

export const pyFloat = (value: number): PyFloat => new PyFloat(value);

/**
 * A value as plain JSON can carry it (a Lambda's answer is JSON.stringify'd by the runtime): a PyFloat becomes its
 * number, a bigint its number when that is exact (|n| ≤ 2^53 − 1), else its decimal string, so no digit is lost.
 * Canonical JSON (`canonicalJson`) stays the form of evidence and hashes; this is only for answers.
 */
export function toPlainJson(value: unknown): unknown {
  if (value instanceof PyFloat) return value.value;
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainJson(v)]));
  return value;
}

/** Python `sorted()` order for str: by code point. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
    // Compare whole code points: an astral one (a surrogate pair) is above every BMP one, though its lead
    // unit 0xD8xx is below 0xE000–0xFFFF. Step back when the shared previous unit is a lead surrogate.
    const lead = a.charCodeAt(i - 1);
    const at = i > 0 && lead >= 0xd800 && lead <= 0xdbff ? i - 1 : i;
    return (a.codePointAt(at) ?? 0) - (b.codePointAt(at) ?? 0);
  }
  return a.length - b.length;
}

/** A value canonical JSON can hold, for code that builds documents to write (bigints are exact ints). */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/** CJ: sorted keys, `,`/`:` separators, ASCII only, Python number formatting. */
export function canonicalJson(value: unknown): string {
  return serialise(value, ',', ':', 0);
}

/** CJ plus a trailing newline: the bytes of a JSON file (the world's run_receipt.json, gate indexes …). */
export function jsonFileBytes(value: JsonValue): Buffer {
  return Buffer.from(`${canonicalJson(value)}\n`, 'utf8');
}

/** SJ: CJ with Python's default separators `', '` and `': '`. */
export function sortedJson(value: unknown): string {
  return serialise(value, ', ', ': ', 0);
}

/** Nesting deeper than this is refused; it is also how a cycle is caught (without a set of visited objects). */
const MAX_DEPTH = 1000;
/** Keys without UTF-16 units ≥ 0xD800 sort the same by code unit (Array.prototype.sort) as by code point. */
const NEEDS_CODE_POINT_ORDER = /[\ud800-\uffff]/;

function sortedKeys(value: Record<string, unknown>): string[] {
  const keys = Object.keys(value);
  for (const k of keys) if (NEEDS_CODE_POINT_ORDER.test(k)) return keys.sort(compareCodePoints);
  return keys.sort();
}

function serialise(value: unknown, itemSep: string, keySep: string, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quote(value);
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON has no finite form for ${value}`);
      return Number.isSafeInteger(value)
        ? Object.is(value, -0)
          ? '0'
          : value.toString()
        : pythonFloatRepr(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (depth > MAX_DEPTH)
    throw new TypeError(`canonical JSON cannot hold a cycle (or nesting deeper than ${MAX_DEPTH})`);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined) throw new TypeError('canonical JSON cannot hold undefined in an array');
      if (i > 0) out += itemSep;
      out += serialise(item, itemSep, keySep, depth + 1);
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`canonical JSON holds plain objects only, not ${proto?.constructor?.name ?? 'this'}`);
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const k of sortedKeys(record)) {
    const v = record[k];
    if (v === undefined) continue;
    if (!first) out += itemSep;
    first = false;
    out += quote(k) + keySep + serialise(v, itemSep, keySep, depth + 1);
  }
  return `${out}}`;
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  8: '\\b',
  12: '\\f',
};

/** Python `ensure_ascii` quoting: printable ASCII as is, everything else `\uXXXX` per UTF-16 unit. */
/** Printable ASCII without `"` and `\\`: written as is. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quote(s: string): string {
  if (PLAIN.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short !== undefined) out += short;
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return `${out}"`;
}

/**
 * Python `repr(float)`: the shortest round-trip digits (the same digits JS chooses), written in
 * fixed notation when the decimal exponent is in [-4, 16), else as `d[.ddd]e±XX`; fixed integral values get `.0`.
 */
export function pythonFloatRepr(x: number): string {
  if (!Number.isFinite(x)) throw new TypeError(`canonical JSON has no finite form for ${x}`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa = '', exponent = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const decpt = Number(exponent) + 1; // value = 0.<digits> × 10^decpt
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

export interface LosslessParseOptions {
  /** Wrap integer-valued float literals (`1.0`, `-0.0`) in PyFloat so they re-serialise byte-identically. */
  preserveFloats?: boolean;
}

/**
 * JSON.parse without precision loss: integer literals beyond ±(2^53 − 1) become `bigint`; other integers
 * and all float literals become `number` (or PyFloat, see options). Duplicate keys: the last wins.
 */
export function parseJsonLossless(text: string, options: LosslessParseOptions = {}): unknown {
  const parser = new LosslessParser(text, options.preserveFloats ?? false);
  parser.skipWhitespace();
  const value = parser.parseValue();
  parser.skipWhitespace();
  if (!parser.atEnd()) parser.fail('unexpected trailing characters');
  return value;
}

const NUMBER_AT = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** The longest run of string characters that need no unescaping (sticky: it starts where lastIndex says). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the run stops before control characters (JSON forbids them raw)
const PLAIN_RUN = /[^"\\\x00-\x1f]*/y;

class LosslessParser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly preserveFloats: boolean,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(message: string): never {
    throw new SyntaxError(`JSON: ${message} at position ${this.pos}`);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  parseValue(): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b /* { */) return this.parseObject();
    if (c === 0x5b /* [ */) return this.parseArray();
    if (c === 0x22 /* " */) return this.parseString();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail('unexpected token');
  }

  private parseObject(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue();
      // A "__proto__" key stays data (an own property), as JSON.parse keeps it; a repeated key keeps its last value.
      if (key === '__proto__')
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipWhitespace();
      const next = this.text[this.pos++];
      if (next === '}') return out;
      if (next !== ',') this.fail("expected ',' or '}'");
    }
  }

  private parseArray(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue());
      this.skipWhitespace();
      const next = this.text[this.pos++];
      if (next === ']') return out;
      if (next !== ',') this.fail("expected ',' or ']'");
    }
  }

  private parseString(): string {
    this.pos++;
    // Fast path: a run without escapes or control characters up to the closing quote is one slice.
    const start = this.pos;
    PLAIN_RUN.lastIndex = start;
    PLAIN_RUN.test(this.text);
    const end = PLAIN_RUN.lastIndex;
    if (this.text.charCodeAt(end) === 0x22) {
      this.pos = end + 1;
      return this.text.slice(start, end);
    }
    let out = this.text.slice(start, end);
    this.pos = end;
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) this.fail('control character in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail('bad escape');
      }
    }
  }

  private parseNumber(): number | bigint | PyFloat {
    NUMBER_AT.lastIndex = this.pos;
    const m = NUMBER_AT.exec(this.text);
    if (!m) return this.fail('bad number');
    this.pos += m[0].length;
    const isFloat = m[1] !== undefined || m[2] !== undefined;
    if (!isFloat) {
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    const x = Number(m[0]);
    if (!Number.isFinite(x)) this.fail('number out of range');
    return this.preserveFloats && Number.isSafeInteger(x) ? new PyFloat(x) : x;
  }
}
