import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_LAYER_POLICY_V0 } from '../../../lib/action-layer/authz.ts';
import {
  backoffMs,
  executeWithRetries,
  faultInjectingExecutor,
  noopExecutor,
  type ScriptedFault,
} from '../../../lib/action-layer/executor.ts';
import type { ActionExecutor } from '../../../lib/action-layer/ports.ts';
import { recordingSleeper } from './factories.ts';

/**
 * The retry engine over the simulated effect (downstream.md §3.3): ≤ 3 attempts, 100·2^(n−1) ms between them
 * (capped at 1000) on the sleeper; terminals EXECUTED | FAILED (PERMANENT_ERROR:c, RETRY_EXHAUSTED:c) |
 * UNCERTAIN_COMMIT. The sleeper records its waits, so no test waits for real.
 */

const retry = ACTION_LAYER_POLICY_V0.retry;
const request = { action_kind: 'STEP_UP', action_payload: {}, idempotency_token: 'semantic-key-1' };

async function run(executor: ActionExecutor) {
  const sleeper = recordingSleeper();
  const terminal = await executeWithRetries(request, { executor, sleeper }, retry);
  return { terminal, waits: sleeper.waits };
}

describe('backoff', () => {
  it('100, 200, 400, 800, then 1000 ms', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, retry))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(() => backoffMs(0, retry)).toThrow(RangeError);
  });

  it('for any policy: base·2^(n−1) capped, never decreasing, never above the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 40 }),
        (base, extra, n) => {
          const policy = { max_attempts: 3, base_backoff_ms: base, max_backoff_ms: base + extra };
          const wait = backoffMs(n, policy);
          expect(wait).toBe(Math.min(base * 2 ** (n - 1), base + extra));
          expect(wait).toBeLessThanOrEqual(base + extra);
          expect(backoffMs(n + 1, policy)).toBeGreaterThanOrEqual(wait);
        },
      ),
    );
  });
});

describe('executeWithRetries', () => {
  it('the no-op effect commits on the first attempt: NOOP_COMMITTED, noop:<semantic key>', async () => {
    const { terminal, waits } = await run(noopExecutor());
    expect(terminal).toMatchObject({
      terminal_state: 'EXECUTED',
      reason_code: 'EXECUTED',
      final_attempt_seq: 1,
      final_provider_code: 'NOOP_COMMITTED',
      final_provider_ref: 'noop:semantic-key-1',
    });
    expect(waits).toEqual([]);
  });

  it('RETRYABLE_ERROR then success: EXECUTED after 2 attempts, one 100 ms wait', async () => {
    const executor = faultInjectingExecutor({ STEP_UP: ['RETRYABLE_ERROR'] });
    const { terminal, waits } = await run(executor);
    expect(terminal).toMatchObject({ terminal_state: 'EXECUTED', final_attempt_seq: 2 });
    expect(terminal.attempts.map((a) => [a.attempt_seq, a.state])).toEqual([
      [1, 'RETRYABLE_ERROR'],
      [2, 'COMMITTED'],
    ]);
    expect(waits).toEqual([100]);
    expect(executor.requests.map((r) => r.attempt_seq)).toEqual([1, 2]);
  });

  it('RETRYABLE_ERROR three times: FAILED RETRY_EXHAUSTED after waits of 100 and 200 ms', async () => {
    const executor = faultInjectingExecutor({
      STEP_UP: ['RETRYABLE_ERROR', 'RETRYABLE_ERROR', 'RETRYABLE_ERROR'],
    });
    const { terminal, waits } = await run(executor);
    expect(terminal).toMatchObject({
      terminal_state: 'FAILED',
      reason_code: 'RETRY_EXHAUSTED:SIMULATED_RETRYABLE_ERROR',
      final_attempt_seq: 3,
    });
    expect(waits).toEqual([100, 200]);
  });

  it('PERMANENT_ERROR: FAILED at once; UNKNOWN_COMMIT: UNCERTAIN_COMMIT at once', async () => {
    expect((await run(faultInjectingExecutor({ STEP_UP: ['PERMANENT_ERROR'] }))).terminal).toMatchObject({
      terminal_state: 'FAILED',
      reason_code: 'PERMANENT_ERROR:SIMULATED_PERMANENT_ERROR',
      final_attempt_seq: 1,
    });
    expect((await run(faultInjectingExecutor({ STEP_UP: ['UNKNOWN_COMMIT'] }))).terminal).toMatchObject({
      terminal_state: 'UNCERTAIN_COMMIT',
      reason_code: 'UNCERTAIN_COMMIT:SIMULATED_UNKNOWN_COMMIT',
      final_attempt_seq: 1,
    });
  });

  it('faults are scripted per action kind: another kind commits', async () => {
    const executor = faultInjectingExecutor({ DECLINE: ['PERMANENT_ERROR'] });
    expect((await run(executor)).terminal.terminal_state).toBe('EXECUTED');
  });

  it('an executor that throws, or answers what does not parse, is an unknown commit (never retried)', async () => {
    const throwing: ActionExecutor = {
      execute: async () => {
        throw new Error('socket hang up');
      },
    };
    expect((await run(throwing)).terminal).toMatchObject({
      terminal_state: 'UNCERTAIN_COMMIT',
      reason_code: 'UNCERTAIN_COMMIT:EXECUTOR_ERROR',
      final_attempt_seq: 1,
    });
    const garbled: ActionExecutor = { execute: async () => ({ state: 'DONE' }) };
    expect((await run(garbled)).terminal.reason_code).toBe('UNCERTAIN_COMMIT:EXECUTOR_RESULT_INVALID');
  });

  it('for any scripted faults: at most 3 attempts, waits of the schedule between them, the terminal of the last', async () => {
    const fault = fc.constantFrom<ScriptedFault>('RETRYABLE_ERROR', 'PERMANENT_ERROR', 'UNKNOWN_COMMIT');
    await fc.assert(
      fc.asyncProperty(fc.array(fault, { maxLength: 5 }), async (faults) => {
        const executor = faultInjectingExecutor({ STEP_UP: faults });
        const { terminal, waits } = await run(executor);
        const n = terminal.attempts.length;
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(retry.max_attempts);
        expect(executor.requests).toHaveLength(n);
        expect(waits).toEqual([100, 200].slice(0, n - 1));
        // Every attempt but the last was retryable.
        expect(terminal.attempts.slice(0, -1).every((a) => a.state === 'RETRYABLE_ERROR')).toBe(true);
        const last = terminal.attempts[n - 1]?.state;
        const expected = {
          COMMITTED: 'EXECUTED',
          RETRYABLE_ERROR: 'FAILED',
          PERMANENT_ERROR: 'FAILED',
          UNKNOWN_COMMIT: 'UNCERTAIN_COMMIT',
        } as const;
        expect(terminal.terminal_state).toBe(expected[last ?? 'COMMITTED']);
      }),
    );
  });
});
