import type { HistoryEventType } from '@aws-sdk/client-sfn';
import { isLambdaFunctionResource } from './arns.ts';
import { isJsonObject, type JsonValue, type TaskHandler, type TaskHandlers } from './engine.ts';
import type { ExecutionRecord, ExecutionStarter } from './execution-record.ts';
import { afterEngineEvents, type ExecutionHistory, jsonText } from './history.ts';
import type { LambdaInvoker } from './lambda-tasks.ts';
import { type StartExecutionVariant, startExecutionTask } from './states-tasks.ts';
import { RuntimeFailure, TaskFailure } from './task-failure.ts';

export interface TaskContext {
  region: string;
  lambda: LambdaInvoker;
  executions: ExecutionStarter;
  history: ExecutionHistory;
  /** True once the execution has ended (any status): as on AWS, no task starts after that. */
  ended: () => boolean;
  /**
   * Aborted once the run these handlers belong to (the execution, a Map iteration, a Parallel branch) must start
   * nothing more: the execution was stopped, or a sibling iteration/branch failed their state (see ScopedTasks).
   */
  stopped: AbortSignal;
  /** Reports a task refused because its run had stopped (where its Lambda would otherwise have been invoked). */
  notStarted: (state: string, reason: string) => void;
  /** A child this run waits for (`.sync`): stopped when the run stops or the execution ends first, as AWS stops it. */
  syncChild: (child: ExecutionRecord) => void;
}

const dataDetails = { truncated: false };
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
const STATES_START_EXECUTION = /^arn:aws[\w-]*:states:::states:(startExecution(?:\.sync(?::2)?)?)$/;

/** One local handler per Task state name, for one run; each records its attempts in the execution's history. */
export function buildTaskHandlers(
  resources: ReadonlyMap<string, string>,
  context: TaskContext,
): TaskHandlers {
  return Object.fromEntries(
    [...resources].map(([stateName, resource]) => {
      const refuseIfStopped = () => refuseIfRunStopped(context, stateName);
      const handler = handlerFor(resource, context, refuseIfStopped);
      // A Retry of an aborted iteration wakes up at once in the engine; AWS would never run it again.
      const guarded: TaskHandler = async (...args) => {
        refuseIfStopped();
        return handler(...args);
      };
      return [stateName, guarded];
    }),
  );
}

/** As on AWS, no task starts once its execution has ended or its run (iteration, branch) was stopped. */
function refuseIfRunStopped(context: TaskContext, state: string): void {
  const reason = context.ended()
    ? 'the execution has ended'
    : context.stopped.aborted
      ? 'its execution, Map iteration or Parallel branch was stopped'
      : undefined;
  if (reason === undefined) return;
  context.notStarted(state, reason);
  throw new RuntimeFailure(`${reason}; ${state} is not started`);
}

function handlerFor(resource: string, context: TaskContext, refuseIfStopped: () => void): TaskHandler {
  if (LAMBDA_INVOKE.test(resource)) {
    return (parameters) =>
      integrationTask(context, refuseIfStopped, 'lambda', 'invoke', parameters, async () => {
        if (!isJsonObject(parameters) || typeof parameters.FunctionName !== 'string') {
          throw new RuntimeFailure('lambda:invoke needs Parameters with a FunctionName string');
        }
        const { payload, executedVersion } = await context.lambda.invoke(
          parameters.FunctionName,
          parameters.Payload,
        );
        return { ExecutedVersion: executedVersion, Payload: payload, StatusCode: 200 };
      });
  }
  const states = STATES_START_EXECUTION.exec(resource);
  if (states?.[1]) {
    const variant = states[1] as StartExecutionVariant;
    return (parameters) =>
      integrationTask(context, refuseIfStopped, 'states', variant, parameters, (onSubmitted) =>
        startExecutionTask(variant, parameters, context.executions, onSubmitted, context.syncChild),
      );
  }
  if (isLambdaFunctionResource(resource))
    return (input) => lambdaFunctionTask(context, refuseIfStopped, resource, input);
  return async () => {
    throw new RuntimeFailure(
      `Unsupported Task Resource '${resource}' (local Step Functions runs Lambda and states:startExecution)`,
    );
  };
}

/** A Lambda ARN (or name) as Resource: LambdaFunctionScheduled/Started/Succeeded|Failed per attempt. */
async function lambdaFunctionTask(
  context: TaskContext,
  refuseIfStopped: () => void,
  resource: string,
  input: JsonValue,
): Promise<JsonValue> {
  const { history } = context;
  await afterEngineEvents();
  history.append({
    type: 'LambdaFunctionScheduled',
    lambdaFunctionScheduledEventDetails: { resource, input: jsonText(input), inputDetails: dataDetails },
  });
  history.append({ type: 'LambdaFunctionStarted' });
  refuseIfStopped(); // e.g. the history limit reached by the task's own scheduling events
  try {
    const { payload } = await context.lambda.invoke(resource, input);
    await afterEngineEvents();
    history.append({
      type: 'LambdaFunctionSucceeded',
      lambdaFunctionSucceededEventDetails: { output: jsonText(payload), outputDetails: dataDetails },
    });
    return payload;
  } catch (error) {
    const failure = asTaskFailure(error);
    await afterEngineEvents();
    history.append({
      type: 'LambdaFunctionFailed',
      lambdaFunctionFailedEventDetails: { error: failure.name, cause: failure.message },
    });
    throw failure;
  }
}

/** An optimized integration (arn:aws:states:::<service>:<action>): TaskScheduled/Started/[Submitted]/Succeeded|Failed. */
async function integrationTask(
  context: TaskContext,
  refuseIfStopped: () => void,
  resourceType: string,
  resource: string,
  parameters: JsonValue,
  work: (onSubmitted: (output: JsonValue) => Promise<void>) => Promise<JsonValue>,
): Promise<JsonValue> {
  const { history } = context;
  const record = async (type: HistoryEventType, details: Record<string, unknown>): Promise<void> => {
    await afterEngineEvents();
    history.append({ type, [detailsKey(type)]: { resourceType, resource, ...details } });
  };
  await record('TaskScheduled', { region: context.region, parameters: jsonText(parameters) });
  await record('TaskStarted', {});
  refuseIfStopped();
  try {
    const output = await work((submitted) =>
      record('TaskSubmitted', { output: jsonText(submitted), outputDetails: dataDetails }),
    );
    await record('TaskSucceeded', { output: jsonText(output), outputDetails: dataDetails });
    return output;
  } catch (error) {
    const failure = asTaskFailure(error);
    await record('TaskFailed', { error: failure.name, cause: failure.message });
    throw failure;
  }
}

const detailsKey = (type: HistoryEventType): string =>
  `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;

function asTaskFailure(error: unknown): TaskFailure {
  if (error instanceof TaskFailure) return error;
  return new TaskFailure('States.TaskFailed', error instanceof Error ? error.message : String(error));
}
