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
  /** A child this execution waits for (`.sync`): stopped when this execution ends first, as AWS stops it. */
  syncChild: (child: ExecutionRecord) => void;
}

const dataDetails = { truncated: false };
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke$/;
const STATES_START_EXECUTION = /^arn:aws[\w-]*:states:::states:(startExecution(?:\.sync(?::2)?)?)$/;

/** One local handler per Task state name; each records its attempts in the execution's history. */
export function buildTaskHandlers(
  resources: ReadonlyMap<string, string>,
  context: TaskContext,
): TaskHandlers {
  return Object.fromEntries(
    [...resources].map(([stateName, resource]) => {
      const handler = handlerFor(resource, context);
      // The engine does not stop a failed execution's other branches (a Map iteration sleeping between retries
      // carries on and would invoke its Lambda again, once it is back). AWS starts nothing for an ended execution.
      const guarded: TaskHandler = async (...args) => {
        if (context.ended()) throw new RuntimeFailure(`the execution has ended; ${stateName} is not started`);
        return handler(...args);
      };
      return [stateName, guarded];
    }),
  );
}

function handlerFor(resource: string, context: TaskContext): TaskHandler {
  if (LAMBDA_INVOKE.test(resource)) {
    return (parameters) =>
      integrationTask(context, 'lambda', 'invoke', parameters, async () => {
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
      integrationTask(context, 'states', variant, parameters, (onSubmitted) =>
        startExecutionTask(variant, parameters, context.executions, onSubmitted, context.syncChild),
      );
  }
  if (isLambdaFunctionResource(resource)) return (input) => lambdaFunctionTask(context, resource, input);
  return async () => {
    throw new RuntimeFailure(
      `Unsupported Task Resource '${resource}' (local Step Functions runs Lambda and states:startExecution)`,
    );
  };
}

/** A Lambda ARN (or name) as Resource: LambdaFunctionScheduled/Started/Succeeded|Failed per attempt. */
async function lambdaFunctionTask(
  context: TaskContext,
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
  notStartedOnceEnded(context, resource);
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
  notStartedOnceEnded(context, `arn:aws:states:::${resourceType}:${resource}`);
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

/** The history limit may be reached by the task's own scheduling events: then the work is not started. */
function notStartedOnceEnded(context: TaskContext, resource: string): void {
  if (context.ended()) throw new RuntimeFailure(`the execution has ended; ${resource} is not started`);
}

const detailsKey = (type: HistoryEventType): string =>
  `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;

function asTaskFailure(error: unknown): TaskFailure {
  if (error instanceof TaskFailure) return error;
  return new TaskFailure('States.TaskFailed', error instanceof Error ? error.message : String(error));
}
