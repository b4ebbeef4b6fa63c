import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';

/** Starts a state machine execution and follows it to the end, reporting each state entered. */

export interface LifecycleOutcome {
  executionName: string;
  executionArn: string;
  status: string;
  output: unknown;
  error: string | undefined;
  cause: string | undefined;
  seconds: number;
  description: unknown;
  history: HistoryEvent[];
}

export interface FollowOptions {
  /** Execution names are `<namePrefix>-<UTC timestamp>`. */
  namePrefix: string;
  /** Every history event, once, in order. */
  onEvent: (event: HistoryEvent) => void;
  timeoutMs?: number;
}

/** Starts an execution and follows it to the end, passing each new history event to onEvent. */
export async function followExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  input: Record<string, unknown>,
  options: FollowOptions,
): Promise<LifecycleOutcome> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const executionName = `${options.namePrefix}-${new Date().toISOString().replace(/[-:.]/g, '')}`;
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }),
  );
  if (!executionArn) throw new Error('StartExecution returned no executionArn');
  const seen = new Set<number>();
  for (;;) {
    const history = await allHistory(sfn, executionArn);
    for (const e of history) {
      if (e.id === undefined || seen.has(e.id)) continue;
      seen.add(e.id);
      options.onEvent(e);
    }
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') {
      const rest = await allHistory(sfn, executionArn);
      for (const e of rest) if (e.id !== undefined && !seen.has(e.id)) options.onEvent(e);
      return {
        executionName,
        executionArn,
        status: d.status ?? 'UNKNOWN',
        output: d.output ? JSON.parse(d.output) : undefined,
        error: d.error,
        cause: d.cause,
        seconds: (Date.now() - started) / 1000,
        description: d,
        history: rest,
      };
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(`execution ${executionName} still RUNNING after ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

export async function allHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Polls an execution until it leaves RUNNING (callers bound the wait with their own timeout). */
export async function waitForExecution(
  sfn: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    await sleep(100);
  }
}

/**
 * Follows an execution someone else started (a nested one), passing each new history event on, until it ends
 * or stop() gives up on it. An execution that does not exist yet is waited for.
 */
export function watchExecution(
  sfn: SFNClient,
  executionArn: string,
  onEvent: (event: HistoryEvent) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  const seen = new Set<number>();
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const e of await allHistory(sfn, executionArn)) {
          if (e.id === undefined || seen.has(e.id)) continue;
          seen.add(e.id);
          onEvent(e);
        }
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status !== 'RUNNING') return;
      } catch (error) {
        if ((error as Error).name !== 'ExecutionDoesNotExist') throw error;
      }
      await sleep(250);
    }
  })();
  return {
    /** Lets the watcher drain the history of an execution that has ended (at most 5 s), then stops it. */
    async stop() {
      const timer = setTimeout(() => {
        stopped = true;
      }, 5_000);
      await loop;
      clearTimeout(timer);
    },
  };
}
