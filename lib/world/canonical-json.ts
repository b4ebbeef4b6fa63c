/**
 * Canonical JSON for the files the generator writes (run_receipt.json, gate bundles and indexes):
 * keys sorted by code point, `,`/`:` separators, non-ASCII escaped as \uXXXX, bigints as exact decimals
 * (seed and other uint64 values stay lossless). Numbers other than safe integers are written as JS does.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function canonicalJson(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'number':
      if (!Number.isFinite(value)) throw new RangeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'string':
      return quote(value);
  }
  if (Array.isArray(value)) return `[${value.map((v: JsonValue) => canonicalJson(v)).join(',')}]`;
  const record = value as { readonly [key: string]: JsonValue | undefined };
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${quote(k)}:${canonicalJson(record[k] ?? null)}`).join(',')}}`;
}

/** Canonical JSON plus a trailing newline: the bytes of a JSON file. */
export function jsonFileBytes(value: JsonValue): Buffer {
  return Buffer.from(`${canonicalJson(value)}\n`, 'utf8');
}
