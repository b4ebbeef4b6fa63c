import type { ExecutionAttempt, ExecutionState } from '../contracts/action-layer.ts';
import type { RetryPolicy } from './authz.ts';
import { type ActionExecutor, type ExecutionRequest, ExecutionResult, type Sleeper } from './ports.ts';

/**
 * How an allowed intent is carried out (downstream.md §3.3): the simulated effect — a no-op that always commits,
 * and a fault-injecting one whose attempts answer scripted errors per action kind — and the retry engine over any
 * executor: up to `max_attempts`, RETRYABLE_ERROR waits 100·2^(n−1) ms (capped at 1000) on the sleeper and tries
 * again; PERMANENT_ERROR and UNKNOWN_COMMIT end at once. Terminals: EXECUTED | FAILED (`PERMANENT_ERROR:<code>`,
 * `RETRY_EXHAUSTED:<code>`) | UNCERTAIN_COMMIT (`UNCERTAIN_COMMIT:<code>`, published as FAILED).
 */

export const NOOP_COMMITTED = 'NOOP_COMMITTED';

/** The v0 effect: nothing happens, and it commits (`noop:<semantic key>`). */
export function noopExecutor(): ActionExecutor {
  return {
    execute: async (request: ExecutionRequest): Promise<ExecutionResult> => ({
      state: 'COMMITTED',
      provider_code: NOOP_COMMITTED,
      provider_ref: `noop:${request.idempotency_token}`,
      message: 'noop committed',
    }),
  };
}

export type ScriptedFault = Exclude<ExecutionState, 'COMMITTED'>;

/**
 * The no-op effect with faults: per action kind, the answers of its next attempts in order (`SIMULATED_<fault>`);
 * once a kind's script is spent, its attempts commit. Every request is kept, in order, to count executions.
 */
export function faultInjectingExecutor(
  script: Readonly<Record<string, readonly ScriptedFault[]>>,
): ActionExecutor & { requests: ExecutionRequest[] } {
  const pending = new Map(Object.entries(script).map(([kind, faults]) => [kind, [...faults]]));
  const noop = noopExecutor();
  const requests: ExecutionRequest[] = [];
  return {
    requests,
    async execute(request: ExecutionRequest) {
      requests.push(request);
      const fault = pending.get(request.action_kind)?.shift();
      if (fault === undefined) return noop.execute(request);
      const answer: ExecutionResult = {
        state: fault,
        provider_code: `SIMULATED_${fault}`,
        provider_ref: null,
        message: `simulated ${fault.toLowerCase()}`,
      };
      return answer;
    },
  };
}

export interface ExecutionTerminal {
  terminal_state: 'EXECUTED' | 'FAILED' | 'UNCERTAIN_COMMIT';
  reason_code: string;
  final_attempt_seq: number;
  attempts: ExecutionAttempt[];
  final_provider_code: string;
  final_provider_ref: string | null;
}

/** The wait before attempt `attemptSeq + 1`: base·2^(attemptSeq−1) ms, capped. */
export function backoffMs(attemptSeq: number, policy: RetryPolicy): number {
  if (!Number.isSafeInteger(attemptSeq) || attemptSeq < 1)
    throw new RangeError('attempt_seq is an integer ≥ 1');
  return Math.min(policy.base_backoff_ms * 2 ** (attemptSeq - 1), policy.max_backoff_ms);
}

/** One attempt, its answer parsed: a throw or an answer that does not parse is an unknown commit. */
async function attempt(executor: ActionExecutor, request: ExecutionRequest): Promise<ExecutionResult> {
  let raw: unknown;
  try {
    raw = await executor.execute(request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { state: 'UNKNOWN_COMMIT', provider_code: 'EXECUTOR_ERROR', provider_ref: null, message };
  }
  const parsed = ExecutionResult.safeParse(raw);
  return parsed.success
    ? parsed.data
    : {
        state: 'UNKNOWN_COMMIT',
        provider_code: 'EXECUTOR_RESULT_INVALID',
        provider_ref: null,
        message: parsed.error.issues[0]?.message ?? 'invalid executor answer',
      };
}

const attemptRecord = (attemptSeq: number, result: ExecutionResult): ExecutionAttempt => ({
  attempt_seq: attemptSeq,
  state: result.state,
  provider_code: result.provider_code,
  ...(result.provider_ref ? { provider_ref: result.provider_ref } : {}),
  message: result.message.slice(0, 2048),
});

/** Runs an intent's effect to a terminal under the retry policy. */
export async function executeWithRetries(
  request: Omit<ExecutionRequest, 'attempt_seq'>,
  ports: { executor: ActionExecutor; sleeper: Sleeper },
  policy: RetryPolicy,
): Promise<ExecutionTerminal> {
  const attempts: ExecutionAttempt[] = [];
  for (let attemptSeq = 1; ; attemptSeq++) {
    const result = await attempt(ports.executor, { ...request, attempt_seq: attemptSeq });
    attempts.push(attemptRecord(attemptSeq, result));
    const end = (
      terminal_state: ExecutionTerminal['terminal_state'],
      reason_code: string,
    ): ExecutionTerminal => ({
      terminal_state,
      reason_code,
      final_attempt_seq: attemptSeq,
      attempts,
      final_provider_code: result.provider_code,
      final_provider_ref: result.provider_ref,
    });
    switch (result.state) {
      case 'COMMITTED':
        return end('EXECUTED', 'EXECUTED');
      case 'PERMANENT_ERROR':
        return end('FAILED', `PERMANENT_ERROR:${result.provider_code}`);
      case 'UNKNOWN_COMMIT':
        return end('UNCERTAIN_COMMIT', `UNCERTAIN_COMMIT:${result.provider_code}`);
      case 'RETRYABLE_ERROR':
        if (attemptSeq >= policy.max_attempts)
          return end('FAILED', `RETRY_EXHAUSTED:${result.provider_code}`);
        await ports.sleeper.sleep(backoffMs(attemptSeq, policy));
    }
  }
}
