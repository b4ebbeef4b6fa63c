import { randomUUID } from 'node:crypto';
import { executionArn, isExecutionArn, isValidName } from './arns.ts';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type JsonValue,
  parseJson,
  runScoped,
  type ScopedTasks,
} from './engine.ts';
import type {
  ExecutionRecord,
  ExecutionStarter,
  ExecutionStatus,
  StartExecutionRequest,
} from './execution-record.ts';
import {
  AWS_MAX_HISTORY_EVENTS,
  EngineEventTranslator,
  ExecutionHistory,
  type HistoryLimitFailure,
} from './history.ts';
import type { LambdaInvoker } from './lambda-tasks.ts';
import { ApiError } from './protocol.ts';
import type { StateMachineRecord, StateMachineRegistry } from './state-machines.ts';
import { buildTaskHandlers } from './task-handlers.ts';

export interface ExecutionRegistryOptions {
  region: string;
  machines: StateMachineRegistry;
  lambda: LambdaInvoker;
  log: (line: Record<string, unknown>) => void;
  /** Events one execution may have before it fails with States.Runtime (AWS: 25,000; lower only for tests). */
  maxHistoryEvents?: number;
}

interface StopReason {
  error?: string;
  cause?: string;
}

interface ExecutionControl {
  abort(): void;
  stopReason?: StopReason;
}

interface LiveExecution {
  record: ExecutionRecord;
  control: ExecutionControl;
}

/** Starts, tracks and stops executions; all of them live in memory until the server closes. */
export class ExecutionRegistry implements ExecutionStarter {
  readonly #executions = new Map<string, LiveExecution>();

  constructor(private readonly options: ExecutionRegistryOptions) {}

  /** STANDARD: the same name and input while that execution runs returns it again (AWS idempotency). */
  startExecution(request: StartExecutionRequest): ExecutionRecord {
    const machine = this.options.machines.get(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (!isValidName(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = request.input ?? '{}';
    let inputValue: JsonValue;
    try {
      inputValue = parseJson(input);
    } catch (error) {
      throw new ApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: ${String(error)}`);
    }
    const arn = executionArn(machine, name, randomUUID());
    const existing = this.#executions.get(arn)?.record;
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    return this.#run(machine, arn, name, input, inputValue);
  }

  get(arn: string): ExecutionRecord {
    return this.#live(arn).record;
  }

  /** Newest first, as ListExecutions returns them. */
  list(stateMachineArn: string, status?: string): ExecutionRecord[] {
    const records = [...this.#executions.values()].map((live) => live.record);
    return records
      .filter((record) => record.stateMachineArn === stateMachineArn && (!status || record.status === status))
      .reverse();
  }

  async stop(arn: string, reason: StopReason): Promise<ExecutionRecord> {
    const live = this.#live(arn);
    if (live.record.status === 'RUNNING') {
      live.control.stopReason = reason;
      live.control.abort();
    }
    await live.record.finished;
    return live.record;
  }

  /** Aborts whatever still runs (server shutdown), so no timers outlive the server. */
  async stopAll(): Promise<void> {
    const running = [...this.#executions.keys()].filter((arn) => this.get(arn).status === 'RUNNING');
    await Promise.all(running.map((arn) => this.stop(arn, { error: 'LocalServerClosed' })));
  }

  /** As AWS stops the child of a `.sync` task that is abandoned: its run (execution, iteration, branch) stopped. */
  #stopWith(child: ExecutionRecord, stopped: AbortSignal, cause: string): void {
    const stop = () => {
      this.stop(child.executionArn, { error: 'States.Aborted', cause }).catch((error: unknown) =>
        this.options.log({ level: 'error', msg: 'stopping a .sync child failed', error: String(error) }),
      );
    };
    if (stopped.aborted) {
      stop();
      return;
    }
    stopped.addEventListener('abort', stop, { once: true });
    void child.finished.then(() => stopped.removeEventListener('abort', stop));
  }

  #live(arn: string): LiveExecution {
    if (!isExecutionArn(arn)) throw new ApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const live = this.#executions.get(arn);
    if (!live) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return live;
  }

  #run(
    machine: StateMachineRecord,
    arn: string,
    name: string,
    input: string,
    inputValue: JsonValue,
  ): ExecutionRecord {
    const startDate = Date.now();
    let ended = false;
    /** The `.sync` children this execution waited for: those still running when it ends are stopped. */
    const syncChildren = new Set<string>();
    const control: ExecutionControl = { abort: () => undefined };
    const history = new ExecutionHistory({
      maxEvents: this.options.maxHistoryEvents ?? AWS_MAX_HISTORY_EVENTS,
      onReached: () => {
        ended = true; // from here on no task starts, as on AWS
        control.abort();
      },
    });
    const log = this.options.log;
    const tasks: ScopedTasks = {
      handlersFor: (stopped) =>
        buildTaskHandlers(machine.taskResources, {
          region: this.options.region,
          lambda: this.options.lambda,
          executions: this,
          history,
          ended: () => ended,
          stopped,
          notStarted: (state, reason) => log({ msg: 'task not started', executionArn: arn, state, reason }),
          syncChild: (child) => {
            syncChildren.add(child.executionArn);
            this.#stopWith(child, stopped, `the task of ${arn} that waited for it was stopped`);
          },
        }),
      notStarted: () =>
        log({
          msg: 'iteration not started',
          executionArn: arn,
          reason: 'its Map or Parallel state had failed, or its execution stopped',
        }),
    };
    const execution = runScoped(
      machine.engine,
      inputValue,
      {
        context: {
          Execution: {
            Id: arn,
            Name: name,
            StartTime: new Date(startDate).toISOString(),
            Input: inputValue,
            RoleArn: machine.roleArn,
          },
          StateMachine: { Id: machine.arn, Name: machine.name },
        },
      },
      tasks,
    );
    control.abort = execution.abort;
    const translator = new EngineEventTranslator({
      roleArn: machine.roleArn,
      states: machine.states,
      stopReason: () => control.stopReason ?? {},
    });
    const historyComplete = (async () => {
      for await (const event of execution.eventLogs) {
        for (const body of translator.translate(event)) history.append(body, event.timestamp);
      }
    })();
    const finished = Promise.allSettled([execution.result]).then(async ([outcome]) => {
      ended = true;
      // As AWS does for a `.sync` task that ends with its parent: the child it waited for is stopped.
      await Promise.all(
        [...syncChildren]
          .filter((child) => this.get(child).status === 'RUNNING')
          .map((child) =>
            this.stop(child, { error: 'States.Aborted', cause: `its parent ${arn} ended first` }),
          ),
      );
      await historyComplete;
      history.close();
      settle(record, outcome, control.stopReason, history.limitFailure);
      this.options.log({ msg: 'execution finished', executionArn: arn, status: record.status });
    });
    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.arn,
      name,
      input,
      startDate,
      history,
      finished,
      status: 'RUNNING',
    };
    this.#executions.set(arn, { record, control });
    this.options.log({ msg: 'execution started', executionArn: arn });
    return record;
  }
}

function settle(
  record: ExecutionRecord,
  outcome: PromiseSettledResult<JsonValue>,
  stopReason: StopReason | undefined,
  limitFailure: HistoryLimitFailure | undefined,
): void {
  record.stopDate = Date.now();
  if (limitFailure) {
    // The history limit wins over whatever the engine ended with (it was aborted, or finished meanwhile).
    record.status = 'FAILED';
    record.error = limitFailure.error;
    record.cause = limitFailure.cause;
    return;
  }
  if (outcome.status === 'fulfilled') {
    record.status = 'SUCCEEDED';
    record.output = JSON.stringify(outcome.value ?? null);
    return;
  }
  const failure = outcome.reason;
  const [status, error, cause] = classify(failure, stopReason);
  record.status = status;
  if (error !== undefined) record.error = error;
  if (cause !== undefined) record.cause = cause;
}

function classify(failure: unknown, stopReason: StopReason | undefined): [ExecutionStatus, string?, string?] {
  if (failure instanceof ExecutionAbortedError) return ['ABORTED', stopReason?.error, stopReason?.cause];
  if (failure instanceof ExecutionTimeoutError) return ['TIMED_OUT', 'States.Timeout'];
  if (failure instanceof ExecutionError && failure.cause instanceof Error) {
    return ['FAILED', failure.cause.name, failure.cause.message];
  }
  return ['FAILED', 'States.Runtime', failure instanceof Error ? failure.message : String(failure)];
}
