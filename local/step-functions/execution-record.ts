import type { ExecutionHistory } from './history.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** One execution, as kept in memory for the server's lifetime. */
export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: number;
  readonly history: ExecutionHistory;
  /** Settles once status/output/error are final and the history is complete. */
  readonly finished: Promise<void>;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
}

export interface StartExecutionRequest {
  stateMachineArn: string;
  name?: string;
  input?: string;
}

/** What Task handlers need to start child executions inside this same server. */
export interface ExecutionStarter {
  startExecution(request: StartExecutionRequest): ExecutionRecord;
}
