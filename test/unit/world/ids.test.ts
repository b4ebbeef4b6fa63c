import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { formatUtcMicros, worldIdentity } from '../../../lib/world/identity.ts';
import { IdFamily, MAX_ID63, MAX_UINT64, mix64, saltFrom } from '../../../lib/world/ids.ts';
import { AliasTable, RandomStream } from '../../../lib/world/random.ts';

describe('RandomStream', () => {
  it('replays the same numbers for the same label and differs across labels', () => {
    const draw = (label: string) => {
      const r = new RandomStream(label);
      return Array.from({ length: 5 }, () => r.next());
    };
    expect(draw('a')).toEqual(draw('a'));
    expect(draw('a')).not.toEqual(draw('b'));
  });

  it('stays in [0, 1) (property)', () => {
    fc.assert(
      fc.property(fc.string(), (label) => {
        const r = new RandomStream(label);
        for (let i = 0; i < 50; i++) {
          const x = r.next();
          expect(x >= 0 && x < 1).toBe(true);
        }
      }),
    );
  });

  it('samples an alias table in proportion to its weights', () => {
    const table = new AliasTable([1, 0, 3]);
    const r = new RandomStream('alias');
    const counts = [0, 0, 0];
    for (let i = 0; i < 40_000; i++) {
      const k = table.sample(r);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[1]).toBe(0);
    expect((counts[2] ?? 0) / (counts[0] ?? 1)).toBeGreaterThan(2.7);
    expect((counts[2] ?? 0) / (counts[0] ?? 1)).toBeLessThan(3.3);
  });
});

describe('64-bit ids', () => {
  it('mix64 is a bijection on sampled inputs and stays within 64 bits (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_UINT64 }),
        fc.bigInt({ min: 0n, max: MAX_UINT64 }),
        (a, b) => {
          expect(mix64(a) <= MAX_UINT64 && mix64(a) >= 0n).toBe(true);
          if (a !== b) expect(mix64(a)).not.toBe(mix64(b));
        },
      ),
    );
  });

  it('hands out distinct positive int63 / non-zero uint64 ids, most beyond 2^53', () => {
    const salt = saltFrom('test');
    const signed = new IdFamily(salt, 'flow', 63);
    const unsigned = new IdFamily(salt, 'merchant', 64);
    const s = Array.from({ length: 5_000 }, (_, i) => signed.idFor(i));
    const u = Array.from({ length: 5_000 }, (_, i) => unsigned.idFor(i));
    expect(new Set(s).size).toBe(s.length);
    expect(s.every((v) => v >= 1n && v <= MAX_ID63)).toBe(true);
    expect(u.every((v) => v >= 1n && v <= MAX_UINT64)).toBe(true);
    expect(s.filter((v) => v > 2n ** 53n).length).toBeGreaterThan(4_900);
    expect(u.some((v) => v > MAX_ID63)).toBe(true);
  });

  it('re-derives on a repeated key instead of repeating an id', () => {
    const family = new IdFamily(1n, 'case', 63);
    expect(family.idFor(5)).not.toBe(family.idFor(5));
  });
});

describe('world identity', () => {
  it('derives the world key and clock from seed and size only', () => {
    const a = worldIdentity(7n, 2_000);
    expect(worldIdentity(7n, 2_000)).toEqual(a);
    expect(worldIdentity(8n, 2_000).manifestFingerprint).not.toBe(a.manifestFingerprint);
    expect(worldIdentity(7n, 2_001).manifestFingerprint).not.toBe(a.manifestFingerprint);
    expect(a.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.createdUtc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it('formats epoch microseconds with exactly six fraction digits', () => {
    expect(formatUtcMicros(Date.UTC(2026, 2, 1) * 1000 + 123_456)).toBe('2026-03-01T00:00:00.123456Z');
    expect(formatUtcMicros(Date.UTC(2026, 2, 1) * 1000 + 7)).toBe('2026-03-01T00:00:00.000007Z');
  });

  it('writes canonical JSON with sorted keys and lossless bigints', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'é'], seed: 2n ** 63n - 1n })).toBe(
      '{"a":[true,null,"\\u00e9"],"b":1,"seed":9223372036854775807}',
    );
  });
});
