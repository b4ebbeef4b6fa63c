import { describe, expect, it } from 'vitest';
import type { BatchOutcome } from '../../../../local/event-source-mapping/batch-outcome.ts';
import {
  type BatchPolicy,
  type BatchPorts,
  runBatch,
} from '../../../../local/event-source-mapping/batch-runner.ts';
import type { FailureCondition } from '../../../../local/event-source-mapping/failure-record.ts';
import type { StreamRecord } from '../../../../local/event-source-mapping/stream-record.ts';
import { record, records, sequenceAt } from './stream-records.ts';

type Step = BatchOutcome | ((invoked: StreamRecord[]) => BatchOutcome);

interface SentFailure {
  positions: number[];
  condition: FailureCondition;
  invokeCount: number;
  lastError: string | undefined;
}

const NOW = Date.parse('2026-01-01T12:00:00.000Z');

/** Fake ports: a scripted invoke, a fake clock and a sleep that only records, plus a log of every port call. */
function harness(batch: StreamRecord[], respond: (invoked: StreamRecord[], call: number) => BatchOutcome) {
  const position = new Map(batch.map((r, i) => [r.sequenceNumber, i]));
  const at = (rs: StreamRecord[]) => rs.map((r) => position.get(r.sequenceNumber) ?? -1);
  const state = {
    clock: NOW,
    stopAfterInvokes: Number.POSITIVE_INFINITY,
    invoked: [] as number[][],
    completed: [] as number[][],
    failures: [] as SentFailure[],
    sleeps: [] as number[],
    retries: [] as string[],
    log: [] as string[],
    /** Added to the clock by every sleep. */
    sleepAdvancesMs: 0,
  };
  const ports: BatchPorts = {
    async invoke(rs) {
      state.invoked.push(at(rs));
      state.log.push(`invoke ${at(rs).join(',')}`);
      return respond(rs, state.invoked.length - 1);
    },
    async sendFailure(rs, condition, invokeCount, lastError) {
      state.failures.push({ positions: at(rs), condition, invokeCount, lastError });
      state.log.push(`failure ${condition} ${at(rs).join(',')}`);
    },
    completed(rs) {
      if (rs.length === 0) return;
      state.completed.push(at(rs));
      state.log.push(`completed ${at(rs).join(',')}`);
    },
    async checkpoint() {
      state.log.push('checkpoint');
    },
    onRetry(_rs, reason) {
      state.retries.push(reason);
    },
    now: () => state.clock,
    async sleep(ms) {
      state.sleeps.push(ms);
      state.clock += state.sleepAdvancesMs;
    },
    stopping: () => state.invoked.length >= state.stopAfterInvokes,
  };
  return { ports, state };
}

/** Answers call n with steps[n]; a call past the script fails the test. */
function scripted(...steps: Step[]) {
  return (invoked: StreamRecord[], call: number): BatchOutcome => {
    const step = steps[call];
    if (step === undefined) throw new Error(`unexpected invoke #${call + 1}`);
    return typeof step === 'function' ? step(invoked) : step;
  };
}

const success: BatchOutcome = { kind: 'success' };
const functionError: BatchOutcome = { kind: 'function-error', error: 'Unhandled: boom' };
const invokeFailed: BatchOutcome = { kind: 'invoke-failed', error: 'ECONNREFUSED' };
const partialAt =
  (index: number) =>
  (invoked: StreamRecord[]): BatchOutcome => ({
    kind: 'partial',
    index,
    sequenceNumber: invoked[index]?.sequenceNumber ?? '',
  });

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const policy = (p: Partial<BatchPolicy> = {}): BatchPolicy => ({
  maximumRetryAttempts: -1,
  maximumRecordAgeSeconds: -1,
  bisectBatchOnFunctionError: false,
  ...p,
});

describe('runBatch', () => {
  it('success on the first try: one invoke with the whole batch, all completed, no retry, no sleep', async () => {
    const batch = records(10);
    const { ports, state } = harness(batch, scripted(success));
    expect(await runBatch(batch, policy(), ports)).toBe('finished');
    expect(state.invoked).toEqual([range(0, 9)]);
    expect(state.completed).toEqual([range(0, 9)]);
    expect(state.failures).toEqual([]);
    expect(state.retries).toEqual([]);
    expect(state.sleeps).toEqual([]);
  });

  it('a partial at index 3 of 10 completes 0..2, then retries exactly 3..9', async () => {
    const batch = records(10);
    const { ports, state } = harness(batch, scripted(partialAt(3), success));
    expect(await runBatch(batch, policy(), ports)).toBe('finished');
    expect(state.invoked).toEqual([range(0, 9), range(3, 9)]);
    expect(state.completed).toEqual([range(0, 2), range(3, 9)]);
    // The finished part is checkpointed before the retry (a crash in between does not deliver 0..2 again).
    expect(state.log).toEqual([
      `invoke ${range(0, 9)}`,
      'completed 0,1,2',
      'checkpoint',
      `invoke ${range(3, 9)}`,
      `completed ${range(3, 9)}`,
    ]);
    expect(state.retries).toHaveLength(1);
    expect(state.retries[0]).toContain(sequenceAt(3000));
  });

  it('function error with maximumRetryAttempts 2, no bisect: 3 invokes, then the whole batch to the failure destination, then completed', async () => {
    const batch = records(5);
    const { ports, state } = harness(batch, scripted(functionError, functionError, functionError));
    expect(await runBatch(batch, policy({ maximumRetryAttempts: 2 }), ports)).toBe('finished');
    expect(state.invoked).toEqual([range(0, 4), range(0, 4), range(0, 4)]);
    expect(state.failures).toEqual([
      {
        positions: range(0, 4),
        condition: 'RetryAttemptsExhausted',
        invokeCount: 3,
        lastError: 'Unhandled: boom',
      },
    ]);
    expect(state.log.slice(-2)).toEqual([
      `failure RetryAttemptsExhausted ${range(0, 4)}`,
      `completed ${range(0, 4)}`,
    ]);
    // a retry backs off between attempts, never after giving up
    expect(state.sleeps).toHaveLength(2);
    for (const ms of state.sleeps) expect(ms).toBeGreaterThan(0);
  });

  it('maximumRetryAttempts 0: one invoke and straight to the failure destination', async () => {
    const batch = records(2);
    const { ports, state } = harness(batch, scripted(functionError));
    await runBatch(batch, policy({ maximumRetryAttempts: 0 }), ports);
    expect(state.invoked).toHaveLength(1);
    expect(state.failures).toMatchObject([{ condition: 'RetryAttemptsExhausted', invokeCount: 1 }]);
  });

  it('maximumRetryAttempts -1 retries a failing batch until a later success', async () => {
    const batch = records(3);
    const steps: Step[] = [...Array.from({ length: 25 }, () => functionError), success];
    const { ports, state } = harness(batch, scripted(...steps));
    expect(await runBatch(batch, policy({ maximumRetryAttempts: -1 }), ports)).toBe('finished');
    expect(state.invoked).toHaveLength(26);
    expect(state.failures).toEqual([]);
    expect(state.completed).toEqual([range(0, 2)]);
    // backoff grows but stays bounded
    expect(Math.max(...state.sleeps)).toBeLessThanOrEqual(1000);
    expect(state.sleeps[1] ?? 0).toBeGreaterThanOrEqual(state.sleeps[0] ?? 0);
  });

  it('bisect isolates a poison record at 37 of 100: every other record completed once by success, in stream order; the poison alone fails after 3 invokes', async () => {
    const batch = records(100);
    const poison = batch[37]?.sequenceNumber;
    const { ports, state } = harness(batch, (invoked) =>
      invoked.some((r) => r.sequenceNumber === poison) ? functionError : success,
    );
    const result = await runBatch(
      batch,
      policy({ maximumRetryAttempts: 2, bisectBatchOnFunctionError: true }),
      ports,
    );
    expect(result).toBe('finished');

    expect(state.failures).toEqual([
      { positions: [37], condition: 'RetryAttemptsExhausted', invokeCount: 3, lastError: 'Unhandled: boom' },
    ]);
    const completedOrder = state.completed.flat();
    expect(completedOrder).toEqual(range(0, 99)); // the poison is completed after its failure record, in place
    const completedBySuccess = state.completed.filter((c) => !c.includes(37)).flat();
    expect(completedBySuccess).toEqual(range(0, 99).filter((i) => i !== 37));
    // the poison's completion follows its failure record
    const failureAt = state.log.indexOf('failure RetryAttemptsExhausted 37');
    expect(state.log[failureAt + 1]).toBe('completed 37');
    // the poison alone was invoked exactly 3 times (1 + 2 retries); splits did not count as retries
    expect(state.invoked.filter((c) => c.length === 1 && c[0] === 37)).toHaveLength(3);
    // every successful invoke held no poison, and no record succeeded twice
    expect(new Set(completedBySuccess).size).toBe(99);
  });

  it('bisect of a 2-record batch whose second record is poison: the first succeeds, the second fails alone', async () => {
    const batch = records(2);
    const poison = batch[1]?.sequenceNumber;
    const { ports, state } = harness(batch, (invoked) =>
      invoked.some((r) => r.sequenceNumber === poison) ? functionError : success,
    );
    await runBatch(batch, policy({ maximumRetryAttempts: 0, bisectBatchOnFunctionError: true }), ports);
    expect(state.invoked).toEqual([[0, 1], [0], [1]]);
    expect(state.failures).toMatchObject([{ positions: [1], invokeCount: 1 }]);
  });

  it('partial responses count as retries: the same failed record 3 times with max 2 sends the remainder to failure', async () => {
    const batch = records(10);
    // first answer: records 0..2 done, 3 failed; then record 3 (index 0 of the retry) fails again, twice
    const { ports, state } = harness(batch, scripted(partialAt(3), partialAt(0), partialAt(0)));
    expect(await runBatch(batch, policy({ maximumRetryAttempts: 2 }), ports)).toBe('finished');
    expect(state.invoked).toEqual([range(0, 9), range(3, 9), range(3, 9)]);
    expect(state.failures).toHaveLength(1);
    expect(state.failures[0]).toMatchObject({
      positions: range(3, 9),
      condition: 'RetryAttemptsExhausted',
      invokeCount: 3,
    });
    expect(state.failures[0]?.lastError).toContain(sequenceAt(3000));
    expect(state.completed).toEqual([range(0, 2), range(3, 9)]);
  });

  it('invoke-failed outcomes are not retries: 5 of them then success with max 0 is a success', async () => {
    const batch = records(4);
    const steps: Step[] = [invokeFailed, invokeFailed, invokeFailed, invokeFailed, invokeFailed, success];
    const { ports, state } = harness(batch, scripted(...steps));
    expect(await runBatch(batch, policy({ maximumRetryAttempts: 0 }), ports)).toBe('finished');
    expect(state.invoked).toHaveLength(6);
    expect(state.failures).toEqual([]);
    expect(state.completed).toEqual([range(0, 3)]);
    expect(state.sleeps).toHaveLength(5);
  });

  it('invoke-failed attempts do not count in approximateInvokeCount', async () => {
    const batch = records(1);
    const { ports, state } = harness(batch, scripted(invokeFailed, invokeFailed, functionError));
    await runBatch(batch, policy({ maximumRetryAttempts: 0 }), ports);
    expect(state.failures).toMatchObject([{ condition: 'RetryAttemptsExhausted', invokeCount: 1 }]);
  });

  it('records older than maximumRecordAgeSeconds go to failure as RecordAgeExceeded before any invoke and are never invoked', async () => {
    const ageMs = (s: number) => new Date(NOW - s * 1000);
    const batch = [
      record({ sequenceNumber: sequenceAt(0), arrival: ageMs(600) }),
      record({ sequenceNumber: sequenceAt(1), arrival: ageMs(61) }),
      record({ sequenceNumber: sequenceAt(2), arrival: ageMs(60) }), // exactly the limit: not older
      record({ sequenceNumber: sequenceAt(3), arrival: ageMs(5) }),
    ];
    const { ports, state } = harness(batch, scripted(success));
    expect(await runBatch(batch, policy({ maximumRecordAgeSeconds: 60 }), ports)).toBe('finished');
    expect(state.log).toEqual([
      'failure RecordAgeExceeded 0,1',
      'completed 0,1',
      'checkpoint',
      'invoke 2,3',
      'completed 2,3',
    ]);
    expect(state.failures).toEqual([
      { positions: [0, 1], condition: 'RecordAgeExceeded', invokeCount: 0, lastError: undefined },
    ]);
  });

  it('a batch entirely past its age is never invoked', async () => {
    const batch = [record({ sequenceNumber: sequenceAt(0), arrival: new Date(NOW - 3_600_000) })];
    const { ports, state } = harness(batch, scripted());
    expect(await runBatch(batch, policy({ maximumRecordAgeSeconds: 60 }), ports)).toBe('finished');
    expect(state.invoked).toEqual([]);
    expect(state.failures).toMatchObject([
      { positions: [0], condition: 'RecordAgeExceeded', invokeCount: 0 },
    ]);
    expect(state.completed).toEqual([[0]]);
  });

  it('records that age out while being retried go to failure as RecordAgeExceeded with the invokes so far', async () => {
    const batch = [record({ sequenceNumber: sequenceAt(0), arrival: new Date(NOW - 50_000) })];
    const { ports, state } = harness(batch, scripted(functionError, functionError));
    state.sleepAdvancesMs = 8_000;
    await runBatch(batch, policy({ maximumRecordAgeSeconds: 60 }), ports);
    // 50 s old at the 1st invoke, 58 s at the 2nd, 66 s after that: given up on for age, not retries
    expect(state.invoked).toHaveLength(2);
    expect(state.failures).toEqual([
      { positions: [0], condition: 'RecordAgeExceeded', invokeCount: 2, lastError: 'Unhandled: boom' },
    ]);
  });

  it('maximumRecordAgeSeconds -1 never expires a record', async () => {
    const batch = [record({ sequenceNumber: sequenceAt(0), arrival: new Date(0) })];
    const { ports, state } = harness(batch, scripted(success));
    await runBatch(batch, policy({ maximumRecordAgeSeconds: -1 }), ports);
    expect(state.invoked).toEqual([[0]]);
    expect(state.failures).toEqual([]);
  });

  it('stopping before the first invoke returns interrupted without invoking or completing', async () => {
    const batch = records(3);
    const { ports, state } = harness(batch, scripted());
    state.stopAfterInvokes = 0;
    expect(await runBatch(batch, policy(), ports)).toBe('interrupted');
    expect(state.invoked).toEqual([]);
    expect(state.completed).toEqual([]);
    expect(state.failures).toEqual([]);
  });

  it('stopping between retries returns interrupted and leaves the failed records uncompleted', async () => {
    const batch = records(10);
    const { ports, state } = harness(batch, scripted(partialAt(4)));
    state.stopAfterInvokes = 1;
    expect(await runBatch(batch, policy(), ports)).toBe('interrupted');
    expect(state.completed).toEqual([range(0, 3)]);
    expect(state.failures).toEqual([]);
  });
});
