import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../../local/event-source-mapping/clock.ts';
import { LaneBatcher } from '../../../../local/event-source-mapping/lane-batcher.ts';
import type { StreamRecord } from '../../../../local/event-source-mapping/stream-record.ts';
import { record, records, sequenceAt } from './stream-records.ts';

/**
 * When a lane's batch is due, on a clock the test drives. For Kinesis, AWS begins the batching window "as soon as
 * the previous function invocation completes" (invocation-eventsourcemapping, Batching behavior), not at the first
 * record buffered: a record arriving 4 s after the last invocation completed, with a 5 s window, goes 1 s later (not
 * 5 s later), and one arriving after a lane was idle longer than its window goes at once.
 */

class TestClock implements Clock {
  #now = 0;
  readonly #timers = new Set<{ at: number; fire: () => void }>();

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      const timer = {
        at: this.#now + ms,
        fire: () => {
          this.#timers.delete(timer);
          resolve();
        },
      };
      this.#timers.add(timer);
      signal?.addEventListener('abort', timer.fire, { once: true });
    });
  }

  /** Moves time on, fires the sleeps that are due, and lets what they wake run. */
  async advance(ms: number): Promise<void> {
    this.#now += ms;
    for (const timer of [...this.#timers]) if (timer.at <= this.#now) timer.fire();
    await settled();
  }
}

/** Every promise reaction queued so far has run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

const WINDOW_MS = 5_000;

/** A lane and its `next`, watched: `taken` once the batch is due. */
function lane(clock: TestClock, limits: { batchSize?: number; batchWindowMs?: number } = {}) {
  const batcher = new LaneBatcher({ batchSize: 100, batchWindowMs: WINDOW_MS, ...limits }, clock);
  let stopping = false;
  const watch = () => {
    const state: { taken: StreamRecord[] | undefined; done: boolean } = { taken: undefined, done: false };
    void batcher
      .next(() => stopping)
      .then((batch) => {
        state.taken = batch;
        state.done = true;
      });
    return state;
  };
  return { batcher, watch, stop: () => (stopping = true) };
}

const seqs = (batch: StreamRecord[] | undefined) => batch?.map((r) => r.sequenceNumber);

describe('LaneBatcher: when a batch is due', () => {
  it('with no window, a record is a batch at once', async () => {
    const clock = new TestClock();
    const { batcher, watch } = lane(clock, { batchWindowMs: 0 });
    const [r] = records(1);
    const next = watch();
    batcher.push(r as StreamRecord);
    await settled();
    expect(seqs(next.taken)).toEqual([r?.sequenceNumber]);
  });

  it('the window runs from the previous invocation’s completion, not from the first record buffered', async () => {
    const clock = new TestClock();
    const { batcher, watch } = lane(clock);
    await clock.advance(10_000);
    batcher.invocationCompleted(); // t = 10 s: the window now ends at 15 s
    await clock.advance(4_000);
    const [first, second] = records(2);
    batcher.push(first as StreamRecord); // t = 14 s
    const next = watch();
    await clock.advance(999);
    expect(next.done).toBe(false);
    batcher.push(second as StreamRecord);
    await settled();
    expect(next.done).toBe(false);
    await clock.advance(1); // t = 15 s (a window from the first record would end at 19 s)
    expect(seqs(next.taken)).toEqual([first?.sequenceNumber, second?.sequenceNumber]);
  });

  it('a lane idle for longer than its window sends the next record at once', async () => {
    const clock = new TestClock();
    const { batcher, watch } = lane(clock);
    batcher.invocationCompleted();
    await clock.advance(60_000);
    const next = watch();
    await settled();
    expect(next.done).toBe(false); // nothing buffered: no batch
    const [r] = records(1);
    batcher.push(r as StreamRecord);
    await settled();
    expect(seqs(next.taken)).toEqual([r?.sequenceNumber]);
  });

  it('before any invocation the window runs from the lane’s start', async () => {
    const clock = new TestClock();
    const { batcher, watch } = lane(clock);
    await clock.advance(2_000);
    batcher.push(records(1)[0] as StreamRecord);
    const next = watch();
    await clock.advance(2_999);
    expect(next.done).toBe(false);
    await clock.advance(1);
    expect(next.taken).toHaveLength(1);
  });

  it('a full batch goes at once; what is left waits for the window after that invocation completes', async () => {
    const clock = new TestClock();
    const { batcher, watch } = lane(clock, { batchSize: 2 });
    const all = records(3);
    for (const r of all) batcher.push(r);
    const full = watch();
    await settled();
    expect(seqs(full.taken)).toEqual(seqs(all.slice(0, 2)));
    await clock.advance(1_000);
    batcher.invocationCompleted(); // t = 1 s
    const rest = watch();
    await clock.advance(WINDOW_MS - 1);
    expect(rest.done).toBe(false);
    await clock.advance(1);
    expect(seqs(rest.taken)).toEqual(seqs(all.slice(2)));
  });

  it('6 MB of payload is due at once, and a batch never passes 6 MB', async () => {
    const clock = new TestClock();
    const { batcher, watch } = lane(clock);
    const big = (i: number) => record({ sequenceNumber: sequenceAt(i), data: 'x'.repeat(2_500_000) });
    batcher.push(big(0));
    const next = watch();
    await settled();
    expect(next.done).toBe(false); // 3.3 MB, the window still open
    batcher.push(big(1));
    await settled();
    expect(seqs(next.taken)).toEqual([sequenceAt(0)]);
    expect(batcher.size).toBe(1);
  });

  it('stopping wakes a waiting lane, which takes nothing', async () => {
    const clock = new TestClock();
    const { batcher, watch, stop } = lane(clock);
    batcher.push(records(1)[0] as StreamRecord);
    const next = watch();
    await settled();
    stop();
    batcher.wake();
    await settled();
    expect(next).toEqual({ taken: undefined, done: true });
    expect(batcher.size).toBe(1);
  });
});
