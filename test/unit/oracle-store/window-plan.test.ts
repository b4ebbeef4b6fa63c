import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planWindows, type RowGroupStat } from '../../../lib/oracle-store/stream-sort/window-plan.ts';

const group = (file: string, min: bigint, max: bigint, bytes = 1000, rows = 10): RowGroupStat => ({
  file,
  rowGroup: 0,
  rows,
  bytes,
  minMicros: min,
  maxMicros: max,
});

describe('sort windows planned from row-group statistics', () => {
  it('no groups, no windows; everything within the budget is one closed window', () => {
    expect(planWindows([], { budgetBytes: 1 })).toEqual([]);
    const [only, ...rest] = planWindows([group('a', 0n, 99n), group('b', 50n, 199n)], { budgetBytes: 1e9 });
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ index: 0, startMicros: 0n, endMicros: 199n, last: true, files: ['a', 'b'] });
    expect(only?.estimatedRows).toBe(20);
  });

  it('cuts where the estimate passes the budget: contiguous half-open windows, the last closed, files by overlap', () => {
    const groups = [group('a', 0n, 999n, 4000), group('b', 1000n, 1999n, 4000)];
    const windows = planWindows(groups, { budgetBytes: 4000, expansion: 1, slices: 20 });
    expect(windows.length).toBeGreaterThan(1);
    expect(windows[0]?.startMicros).toBe(0n);
    expect(windows.at(-1)).toMatchObject({ last: true, endMicros: 1999n });
    for (let i = 1; i < windows.length; i++) expect(windows[i]?.startMicros).toBe(windows[i - 1]?.endMicros);
    expect(windows[0]?.files).toEqual(['a']);
    expect(windows.at(-1)?.files).toEqual(['b']);
  });

  it('for any groups, the windows cover [min, max] and their estimates add up to every row', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 5_000n }), fc.nat(5000)),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 500, max: 50_000 }),
        (specs, budget) => {
          const groups = specs.map(([min, len, bytes], i) => group(`f${i}`, min, min + len, bytes + 1, 7));
          const windows = planWindows(groups, { budgetBytes: budget, slices: 64 });
          const min = groups.reduce(
            (m, g) => (g.minMicros < m ? g.minMicros : m),
            groups[0]?.minMicros ?? 0n,
          );
          const max = groups.reduce(
            (m, g) => (g.maxMicros > m ? g.maxMicros : m),
            groups[0]?.maxMicros ?? 0n,
          );
          expect(windows[0]?.startMicros).toBe(min);
          expect(windows.at(-1)?.endMicros).toBe(max);
          expect(windows.filter((w) => w.last)).toHaveLength(1);
          const rows = windows.reduce((n, w) => n + w.estimatedRows, 0);
          expect(Math.abs(rows - groups.length * 7)).toBeLessThanOrEqual(windows.length);
        },
      ),
      { seed: 20261207 },
    );
  });
});
