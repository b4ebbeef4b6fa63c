import type { Clock } from './clock.ts';
import { MAX_BATCH_BYTES } from './mapping-config.ts';
import type { StreamRecord } from './stream-record.ts';

/** How long an empty lane sleeps before it looks again (a record arriving wakes it at once). */
const IDLE_MS = 1000;

export interface BatchLimits {
  batchSize: number;
  /** MaximumBatchingWindowInSeconds, in ms. */
  batchWindowMs: number;
}

/**
 * The records of one lane waiting for their batch, as Lambda's Kinesis event-source mapping gathers them
 * (invocation-eventsourcemapping, "Batching behavior"): a batch is sent when it is full (batchSize), when it reaches
 * 6 MB, or when the batching window ends; and for Kinesis "the next batching window begins as soon as the previous
 * function invocation completes" (here: when the lane starts, before any invocation), not at the first record
 * buffered. So a lane idle for longer than its window sends a new record at once, and records that arrive while
 * an invocation runs wait at most one window after it.
 */
export class LaneBatcher {
  readonly #buffer: StreamRecord[] = [];
  #bytes = 0;
  #windowStart: number;
  #wake = new AbortController();

  constructor(
    private readonly limits: BatchLimits,
    private readonly clock: Clock,
  ) {
    this.#windowStart = clock.now();
  }

  /** Records buffered, not yet in a batch. */
  get size(): number {
    return this.#buffer.length;
  }

  push(record: StreamRecord): void {
    this.#buffer.push(record);
    this.#bytes += record.size;
    this.wake();
  }

  /** Wakes a waiting `next` (a record arrived, or the consumer stops). */
  wake(): void {
    this.#wake.abort();
  }

  /** The lane's invocation has completed: the next batching window begins now. */
  invocationCompleted(): void {
    this.#windowStart = this.clock.now();
  }

  /** Waits until a batch is due and takes it; undefined once `stopping()` is true. */
  async next(stopping: () => boolean): Promise<StreamRecord[] | undefined> {
    for (;;) {
      if (stopping()) return undefined;
      this.#wake = new AbortController();
      if (this.#buffer.length === 0) {
        await this.clock.sleep(IDLE_MS, this.#wake.signal);
        continue;
      }
      const full = this.#buffer.length >= this.limits.batchSize || this.#bytes >= MAX_BATCH_BYTES;
      const windowLeft = this.#windowStart + this.limits.batchWindowMs - this.clock.now();
      if (full || windowLeft <= 0) return this.#take();
      await this.clock.sleep(windowLeft, this.#wake.signal);
    }
  }

  /** Up to batchSize records, and no more than 6 MB of payload (a single larger record goes alone). */
  #take(): StreamRecord[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#buffer.length && n < this.limits.batchSize) {
      const size = (this.#buffer[n] as StreamRecord).size;
      if (n > 0 && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      n++;
    }
    this.#bytes -= bytes;
    return this.#buffer.splice(0, n);
  }
}
