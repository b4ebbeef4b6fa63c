/** The 6B event_type vocabulary; the index is the code stored in EventColumns.type. */
export const EVENT_TYPES = [
  'AUTH_REQUEST',
  'AUTH_RESPONSE',
  'STEP_UP_CHALLENGE',
  'STEP_UP_COMPLETE',
  'CLEARING',
  'REFUND',
  'REVERSAL',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const EVENT_CODE: Readonly<Record<EventType, number>> = {
  AUTH_REQUEST: 0,
  AUTH_RESPONSE: 1,
  STEP_UP_CHALLENGE: 2,
  STEP_UP_COMPLETE: 3,
  CLEARING: 4,
  REFUND: 5,
  REVERSAL: 6,
};

/** Which streams an event row belongs to. */
export const STREAM_BOTH = 0;
export const STREAM_BASELINE_ONLY = 1;
export const STREAM_FRAUD_ONLY = 2;

/** A growable column store of events (flow index, seq, type code, ts µs, amount, stream variant). */
export class EventColumns {
  private capacity: number;
  length = 0;
  flow: Int32Array;
  seq: Int16Array;
  type: Uint8Array;
  ts: Float64Array;
  amount: Float64Array;
  variant: Uint8Array;

  constructor(initialCapacity: number) {
    this.capacity = Math.max(16, initialCapacity);
    this.flow = new Int32Array(this.capacity);
    this.seq = new Int16Array(this.capacity);
    this.type = new Uint8Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
    this.amount = new Float64Array(this.capacity);
    this.variant = new Uint8Array(this.capacity);
  }

  push(flow: number, seq: number, type: EventType, ts: number, amount: number, variant: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.flow[i] = flow;
    this.seq[i] = seq;
    this.type[i] = EVENT_CODE[type];
    this.ts[i] = ts;
    this.amount[i] = amount;
    this.variant[i] = variant;
  }

  /** Rows of one stream: 'baseline' (s2) or 'fraud' (s3). */
  countFor(stream: 'baseline' | 'fraud'): number {
    const skip = stream === 'baseline' ? STREAM_FRAUD_ONLY : STREAM_BASELINE_ONLY;
    let n = 0;
    for (let i = 0; i < this.length; i++) if (this.variant[i] !== skip) n++;
    return n;
  }

  private grow(): void {
    this.capacity *= 2;
    const grow = <T extends Int32Array | Int16Array | Uint8Array | Float64Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(this.capacity);
      next.set(old);
      return next;
    };
    this.flow = grow(this.flow, (n) => new Int32Array(n));
    this.seq = grow(this.seq, (n) => new Int16Array(n));
    this.type = grow(this.type, (n) => new Uint8Array(n));
    this.ts = grow(this.ts, (n) => new Float64Array(n));
    this.amount = grow(this.amount, (n) => new Float64Array(n));
    this.variant = grow(this.variant, (n) => new Uint8Array(n));
  }
}
