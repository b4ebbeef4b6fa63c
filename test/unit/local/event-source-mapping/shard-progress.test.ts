import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { laneOf, ShardProgress } from '../../../../local/event-source-mapping/shard-progress.ts';
import type { StreamRecord } from '../../../../local/event-source-mapping/stream-record.ts';
import { record, sequenceAt } from './stream-records.ts';

const FACTOR = 4;

/** The first `merchant-<n>` key that lands in `lane` for the given factor. */
function keyInLane(lane: number, factor = FACTOR): string {
  for (let n = 0; n < 10_000; n++) if (laneOf(`merchant-${n}`, factor) === lane) return `merchant-${n}`;
  throw new Error(`no key found for lane ${lane}`);
}

const KEY_A = keyInLane(0);
const KEY_B = keyInLane(2);
const KEY_C = keyInLane(3);

const at = (offset: number, partitionKey: string): StreamRecord =>
  record({ sequenceNumber: sequenceAt(offset), partitionKey });

function tracked(progress: ShardProgress, rs: StreamRecord[]): StreamRecord[] {
  for (const r of rs) progress.track(r);
  return rs;
}

describe('laneOf', () => {
  it('is lane 0 for factor 1 and a stable lane within [0, factor) otherwise', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 10 }), (key, factor) => {
        const lane = laneOf(key, factor);
        expect(lane).toBe(laneOf(key, factor));
        expect(lane).toBeGreaterThanOrEqual(0);
        expect(lane).toBeLessThan(factor);
        if (factor === 1) expect(lane).toBe(0);
      }),
    );
  });

  it('the test keys land in distinct lanes', () => {
    expect(new Set([laneOf(KEY_A, FACTOR), laneOf(KEY_B, FACTOR), laneOf(KEY_C, FACTOR)]).size).toBe(3);
  });
});

describe('ShardProgress, one lane', () => {
  it('the watermark follows completions and never passes an unfinished record', () => {
    const p = new ShardProgress(1, undefined, undefined);
    const rs = tracked(
      p,
      [0, 1, 2, 3, 4].map((i) => at(i * 10, 'merchant-1')),
    );
    expect(p.checkpoint()).toEqual({ sequenceNumber: undefined, lanes: {} });

    p.complete(rs.slice(0, 2));
    expect(p.checkpoint()).toEqual({ sequenceNumber: sequenceAt(10), lanes: {} });

    p.complete(rs.slice(3, 4)); // 2 is still open
    expect(p.checkpoint()).toEqual({ sequenceNumber: sequenceAt(10), lanes: { '0': sequenceAt(30) } });

    p.complete(rs.slice(2, 3));
    expect(p.checkpoint()).toEqual({ sequenceNumber: sequenceAt(30), lanes: {} });

    p.complete(rs.slice(4));
    expect(p.checkpoint()).toEqual({ sequenceNumber: sequenceAt(40), lanes: {} });
    expect(p.lastRead()).toBe(sequenceAt(40));
  });

  it('completing a record twice or one never tracked changes nothing', () => {
    const p = new ShardProgress(1, undefined, undefined);
    const r0 = at(0, 'k');
    tracked(p, [r0, at(1, 'k')]);
    p.complete([r0]);
    p.complete([r0, at(99, 'k')]);
    expect(p.checkpoint()).toEqual({ sequenceNumber: sequenceAt(0), lanes: {} });
    expect(p.lastRead()).toBe(sequenceAt(1));
  });
});

describe('ShardProgress, parallel lanes (factor 4)', () => {
  /** Read order: a1 b1 a2 b2 c1 b3 — lanes A, B and C interleaved. */
  function scenario() {
    const p = new ShardProgress(FACTOR, undefined, undefined);
    const a1 = at(100, KEY_A);
    const b1 = at(200, KEY_B);
    const a2 = at(300, KEY_A);
    const b2 = at(400, KEY_B);
    const c1 = at(500, KEY_C);
    const b3 = at(600, KEY_B);
    const lanes = [a1, b1, a2, b2, c1, b3].map((r) => p.track(r));
    expect(lanes).toEqual([0, 2, 0, 2, 3, 2]);
    return { p, a1, b1, a2, b2, c1, b3 };
  }

  it('a later lane finishing first does not move the watermark, but the checkpoint holds that lane', () => {
    const { p, b1, b2, b3 } = scenario();
    p.complete([b1, b2, b3]);
    expect(p.checkpoint()).toEqual({ sequenceNumber: undefined, lanes: { '2': sequenceAt(600) } });
  });

  it('the watermark moves up to the first unfinished record; lanes at or below it are dropped', () => {
    const { p, a1, b1, b2, b3 } = scenario();
    p.complete([b1, b2, b3]);
    p.complete([a1]);
    // a1, b1 finished; a2 is not
    expect(p.checkpoint()).toEqual({ sequenceNumber: sequenceAt(200), lanes: { '2': sequenceAt(600) } });
  });

  it('restored with the same factor: alreadyDone for exactly the finished records', () => {
    const { p, a1, b1, a2, b2, c1, b3 } = scenario();
    p.complete([b1, b2, b3]);
    p.complete([a1]);
    const restored = new ShardProgress(FACTOR, p.checkpoint(), FACTOR);
    expect([a1, b1, a2, b2, c1, b3].map((r) => restored.alreadyDone(r))).toEqual([
      true,
      true,
      false,
      true,
      false,
      true,
    ]);
    // later records of the finished lane are new
    expect(restored.alreadyDone(at(700, KEY_B))).toBe(false);
  });

  it('restored with the same factor before any watermark: only the finished lane is done', () => {
    const { p, a1, b1, a2, b2, c1, b3 } = scenario();
    p.complete([b1, b2]);
    const restored = new ShardProgress(FACTOR, p.checkpoint(), FACTOR);
    expect([a1, b1, a2, b2, c1, b3].map((r) => restored.alreadyDone(r))).toEqual([
      false,
      true,
      false,
      true,
      false,
      false,
    ]);
  });

  it('restored with a different (or unknown) factor: the lane data is ignored, the watermark still holds', () => {
    const { p, a1, b1, a2, b2, c1, b3 } = scenario();
    p.complete([b1, b2, b3]);
    p.complete([a1]);
    const checkpoint = p.checkpoint();
    for (const restored of [
      new ShardProgress(2, checkpoint, FACTOR),
      new ShardProgress(FACTOR, checkpoint, 2),
      new ShardProgress(FACTOR, checkpoint, undefined),
    ]) {
      expect([a1, b1, a2, b2, c1, b3].map((r) => restored.alreadyDone(r))).toEqual([
        true,
        true,
        false,
        false,
        false,
        false,
      ]);
    }
  });

  it('a restored progress keeps its lanes in the next checkpoint until the watermark passes them', () => {
    const { p, b1, b2, b3 } = scenario();
    p.complete([b1, b2, b3]);
    const restored = new ShardProgress(FACTOR, p.checkpoint(), FACTOR);
    expect(restored.checkpoint()).toEqual({ sequenceNumber: undefined, lanes: { '2': sequenceAt(600) } });
  });
});

describe('ShardProgress compares sequence numbers as numbers, not strings', () => {
  // 20 digits vs 21 digits: as strings '1000…' < '9999…', as numbers the reverse
  const SHORT = '99999999999999999999';
  const LONG = '100000000000000000000';

  it('a restored watermark does not swallow a longer, later sequence number', () => {
    const restored = new ShardProgress(1, { sequenceNumber: SHORT, lanes: {} }, 1);
    expect(restored.alreadyDone(record({ sequenceNumber: LONG }))).toBe(false);
    expect(restored.alreadyDone(record({ sequenceNumber: '99999999999999999998' }))).toBe(true);
    expect(restored.alreadyDone(record({ sequenceNumber: '123' }))).toBe(true);
  });

  it("a lane's last finished record is the numerically highest", () => {
    const p = new ShardProgress(FACTOR, undefined, undefined);
    const first = record({ sequenceNumber: '99999999999999999990', partitionKey: KEY_A });
    const short = record({ sequenceNumber: SHORT, partitionKey: KEY_B });
    const long = record({ sequenceNumber: LONG, partitionKey: KEY_B });
    tracked(p, [first, short, long]);
    p.complete([short, long]);
    expect(p.checkpoint()).toEqual({ sequenceNumber: undefined, lanes: { '2': LONG } });

    const restored = new ShardProgress(FACTOR, p.checkpoint(), FACTOR);
    expect(restored.alreadyDone(long)).toBe(true);
    expect(restored.alreadyDone(first)).toBe(false);

    p.complete([first]);
    expect(p.checkpoint()).toEqual({ sequenceNumber: LONG, lanes: {} });
  });
});
