import { isJsonObject, type JsonObject, type JsonValue, parseJson } from './engine.ts';
import type { ExecutionRecord, ExecutionStarter } from './execution-record.ts';
import { ApiError } from './protocol.ts';
import { RuntimeFailure, TaskFailure } from './task-failure.ts';

export type StartExecutionVariant = 'startExecution' | 'startExecution.sync' | 'startExecution.sync:2';

/**
 * `arn:aws:states:::states:startExecution[.sync[:2]]`: starts a child execution in this server.
 * Fire-and-forget returns {ExecutionArn, StartDate}; `.sync` waits and returns the child's description
 * (Output as a JSON string; `.sync:2` parses Input/Output). A child that does not succeed fails the
 * task with States.TaskFailed, the Cause being that description (with Error/Cause) as JSON.
 */
export async function startExecutionTask(
  variant: StartExecutionVariant,
  parameters: JsonValue,
  executions: ExecutionStarter,
  onSubmitted: (output: JsonValue) => Promise<void>,
  waitingFor: (child: ExecutionRecord) => void = () => undefined,
): Promise<JsonValue> {
  const child = startChild(parameters, executions);
  const started: JsonObject = { ExecutionArn: child.executionArn, StartDate: child.startDate };
  if (variant === 'startExecution') return started;
  waitingFor(child);
  await onSubmitted(started);
  await child.finished;
  const description = describe(child, variant === 'startExecution.sync:2');
  if (child.status !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', JSON.stringify(description));
  return description;
}

function startChild(parameters: JsonValue, executions: ExecutionStarter): ExecutionRecord {
  if (!isJsonObject(parameters) || typeof parameters.StateMachineArn !== 'string') {
    throw new RuntimeFailure('states:startExecution needs Parameters with a StateMachineArn string');
  }
  const { StateMachineArn: stateMachineArn, Name: name, Input: input } = parameters;
  if (name !== undefined && typeof name !== 'string') {
    throw new RuntimeFailure('states:startExecution Parameters.Name must be a string');
  }
  try {
    return executions.startExecution({
      stateMachineArn,
      name,
      input: input === undefined ? '{}' : typeof input === 'string' ? input : JSON.stringify(input),
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const exception = error.code.endsWith('Exception') ? error.code : `${error.code}Exception`;
    throw new TaskFailure(`StepFunctions.${exception}`, error.message);
  }
}

/** DescribeExecution in the integration's PascalCase, dates as epoch milliseconds. */
function describe(child: ExecutionRecord, parseData: boolean): JsonObject {
  const data = (text: string | undefined): JsonValue | undefined =>
    parseData && text !== undefined ? parseJson(text) : text;
  const description: JsonObject = {
    ExecutionArn: child.executionArn,
    StateMachineArn: child.stateMachineArn,
    Name: child.name,
    Status: child.status,
    StartDate: child.startDate,
    Input: data(child.input) ?? null,
    InputDetails: { Included: true },
  };
  if (child.stopDate !== undefined) description.StopDate = child.stopDate;
  const output = data(child.output);
  if (output !== undefined) Object.assign(description, { Output: output, OutputDetails: { Included: true } });
  if (child.error !== undefined) description.Error = child.error;
  if (child.cause !== undefined) description.Cause = child.cause;
  return description;
}
