import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { PlatformError } from '../../../lib/errors/platform-error.ts';
import { PoisonError, processInOrder, RetryableError } from '../../../lib/runtime/ordered-batch.ts';
import { toEventRecord } from '../../../local/event-source-mapping/kinesis-event.ts';

const BASE = 49590338271490256608559692538361571095921575989136588898n;
const seq = (i: number) => String(BASE + BigInt(i) * 100n);

const CTX = {
  shardId: 'shardId-000000000000',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/fraud-local-traffic',
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/fraud-local-score-role',
};

/** A Kinesis event as the mapping delivers it; record i has partition key keys[i] and payload {i}. */
function kinesisEvent(keys: string[]): KinesisStreamEvent {
  return {
    Records: keys.map((key, i) =>
      toEventRecord(
        {
          SequenceNumber: seq(i),
          PartitionKey: key,
          Data: new TextEncoder().encode(JSON.stringify({ i })),
          ApproximateArrivalTimestamp: new Date(1_767_225_600_000 + i),
        },
        CTX,
      ),
    ),
  };
}

const indexOf = (r: KinesisStreamRecord): number =>
  (JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')) as { i: number }).i;

const failed = (...indexes: number[]) => ({
  batchItemFailures: indexes.map((i) => ({ itemIdentifier: seq(i) })),
});

/** A record handler that logs the records it runs, one at a time, and fails those listed. */
function handler(fail: Map<number, Error> = new Map()) {
  const calls: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = async (r: KinesisStreamRecord): Promise<void> => {
    const i = indexOf(r);
    calls.push(i);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1));
    inFlight--;
    const error = fail.get(i);
    if (error) throw error;
  };
  return { run, calls, maxInFlight: () => maxInFlight };
}

describe('processInOrder', () => {
  it('all succeed: every record runs once, in stream order, and the answer is an empty list', async () => {
    const h = handler();
    const response = await processInOrder(kinesisEvent(['A', 'B', 'A', 'C', 'B']), h.run);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(h.calls).toEqual([0, 1, 2, 3, 4]);
  });

  it('runs records one at a time, never concurrently', async () => {
    const h = handler();
    await processInOrder(kinesisEvent(Array.from({ length: 20 }, (_, i) => `k${i % 3}`)), h.run);
    expect(h.maxInFlight()).toBe(1);
    expect(h.calls).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("a retryable failure of key A reports it and every later A record (not run); B's records all run", async () => {
    //            0    1    2    3    4    5    6
    const keys = ['A', 'B', 'A', 'B', 'A', 'B', 'A'];
    const h = handler(new Map([[2, new RetryableError('database unavailable')]]));
    const response = await processInOrder(kinesisEvent(keys), h.run);
    expect(response).toEqual(failed(2, 4, 6));
    expect(h.calls).toEqual([0, 1, 2, 3, 5]);
  });

  it('the lowest reported record is the first failure, so the mapping retries from it', async () => {
    const keys = ['A', 'B', 'A', 'B'];
    const h = handler(new Map([[1, new RetryableError('x')]]));
    const response = await processInOrder(kinesisEvent(keys), h.run);
    expect(response).toEqual(failed(1, 3));
    expect(h.calls).toEqual([0, 1, 2]);
  });

  it('any other thrown error blocks the rest of its key as well', async () => {
    const h = handler(new Map([[0, new TypeError('bug')]]));
    const response = await processInOrder(kinesisEvent(['A', 'A', 'B']), h.run);
    expect(response).toEqual(failed(0, 1));
    expect(h.calls).toEqual([0, 2]);
  });

  it('a PoisonError with onPoison: quarantined with the record, not reported, and its key goes on', async () => {
    const poison = new PoisonError('amount is not a number');
    const h = handler(new Map([[1, poison]]));
    const quarantined: Array<{ sequenceNumber: string; error: PlatformError }> = [];
    const response = await processInOrder(kinesisEvent(['A', 'A', 'A']), h.run, {
      onPoison: async (record, error) => {
        quarantined.push({ sequenceNumber: record.kinesis.sequenceNumber, error });
      },
    });
    expect(response).toEqual({ batchItemFailures: [] });
    expect(quarantined).toEqual([{ sequenceNumber: seq(1), error: poison }]);
    expect(quarantined[0]?.error).toBe(poison);
    expect(h.calls).toEqual([0, 1, 2]);
  });

  it('onPoison is not called for a retryable error', async () => {
    const h = handler(new Map([[0, new RetryableError('x')]]));
    let poisonCalls = 0;
    const response = await processInOrder(kinesisEvent(['A']), h.run, {
      onPoison: async () => {
        poisonCalls++;
      },
    });
    expect(poisonCalls).toBe(0);
    expect(response).toEqual(failed(0));
  });

  it('a PoisonError without onPoison is reported, and the rest of its key with it', async () => {
    const h = handler(new Map([[0, new PoisonError('bad')]]));
    const response = await processInOrder(kinesisEvent(['A', 'B', 'A']), h.run);
    expect(response).toEqual(failed(0, 2));
    expect(h.calls).toEqual([0, 1]);
  });

  it('all fail: no throw, every record reported by sequence number', async () => {
    const keys = ['A', 'B', 'C', 'D'];
    const h = handler(new Map(keys.map((_, i) => [i, new RetryableError(`r${i}`)])));
    const response = await processInOrder(kinesisEvent(keys), h.run);
    expect(response).toEqual(failed(0, 1, 2, 3));
  });

  it('a failing quarantine (onPoison) leaves the poison reported and blocks the rest of its key', async () => {
    const h = handler(new Map([[0, new PoisonError('bad record')]]));
    const response = await processInOrder(kinesisEvent(['A', 'A', 'B', 'A']), h.run, {
      onPoison: async () => {
        throw new Error('quarantine store unavailable');
      },
    });
    expect(h.calls).toEqual([0, 2]);
    expect(response).toEqual(failed(0, 1, 3));
  });
});
