import { createHash } from 'node:crypto';

const MASK64 = (1n << 64n) - 1n;
const MASK63 = (1n << 63n) - 1n;

/** Largest id64 of the layer-3 schemas (`id64`: 1 … 2^63−1). */
export const MAX_ID63 = MASK63;
/** Largest uint64 (merchant_id, site_id, edge_id and the 5B seed are uint64 in the engine). */
export const MAX_UINT64 = MASK64;

/** The id families of the world; the number is part of every id preimage, so families never collide. */
export const ID_KIND = {
  merchant: 1n,
  party: 2n,
  account: 3n,
  instrument: 4n,
  device: 5n,
  ip: 6n,
  session: 7n,
  flow: 8n,
  case: 9n,
  site: 10n,
  edge: 11n,
} as const;
export type IdKind = keyof typeof ID_KIND;

/** splitmix64's finaliser: a bijection on 64-bit values with good avalanche. */
export function mix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** A 64-bit salt from a label: the first 8 bytes of sha256(label), big-endian. */
export function saltFrom(label: string): bigint {
  return createHash('sha256').update(label).digest().readBigUInt64BE(0);
}

function preimage(salt: bigint, kind: IdKind, key: bigint, attempt: number): bigint {
  return mix64(
    salt ^ mix64((ID_KIND[kind] << 56n) ^ (key & MASK64)) ^ (BigInt(attempt) * 0x9e3779b97f4a7c15n),
  );
}

/**
 * Hands out distinct ids of one family. Ids are a deterministic function of (salt, family, key); the
 * rare collision is resolved by re-deriving with the next attempt number, in call order, so the
 * result stays deterministic.
 */
export class IdFamily {
  private readonly seen = new Set<bigint>();

  constructor(
    private readonly salt: bigint,
    readonly kind: IdKind,
    /** 63 → a positive int64 (BIGINT); 64 → a non-zero uint64 (UBIGINT). */
    readonly width: 63 | 64,
  ) {}

  /** The id for `key`: in [1, 2^63−1] for width 63, in [1, 2^64−1] for width 64. */
  idFor(key: bigint | number): bigint {
    const k = typeof key === 'number' ? BigInt(key) : key;
    for (let attempt = 0; ; attempt++) {
      const raw = preimage(this.salt, this.kind, k, attempt) & (this.width === 63 ? MASK63 : MASK64);
      if (raw !== 0n && !this.seen.has(raw)) {
        this.seen.add(raw);
        return raw;
      }
    }
  }

  get count(): number {
    return this.seen.size;
  }
}

/** `count` distinct ids of one family keyed 0 … count−1, as the typed array the Parquet writer takes. */
export function signedIds(family: IdFamily, count: number, firstKey = 0): BigInt64Array {
  if (family.width !== 63) throw new RangeError(`${family.kind} ids are uint64; use unsignedIds`);
  const ids = new BigInt64Array(count);
  for (let i = 0; i < count; i++) ids[i] = family.idFor(firstKey + i);
  return ids;
}

export function unsignedIds(family: IdFamily, count: number, firstKey = 0): BigUint64Array {
  if (family.width !== 64) throw new RangeError(`${family.kind} ids are int64; use signedIds`);
  const ids = new BigUint64Array(count);
  for (let i = 0; i < count; i++) ids[i] = family.idFor(firstKey + i);
  return ids;
}
