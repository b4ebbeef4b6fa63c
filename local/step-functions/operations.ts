import type { ExecutionRecord } from './execution-record.ts';
import type { ExecutionRegistry } from './executions.ts';
import type { HistoryEventBody, StoredHistoryEvent } from './history.ts';
import { paginate } from './pagination.ts';
import { type Operation, parseRequest, type RequestOf, toEpochSeconds } from './protocol.ts';
import type { StateMachineRecord, StateMachineRegistry } from './state-machines.ts';

export interface Services {
  machines: StateMachineRegistry;
  executions: ExecutionRegistry;
}

type Response = Record<string, unknown>;
type Handlers = {
  [O in Operation]: (request: RequestOf<O>, services: Services) => Response | Promise<Response>;
};

/** Parses the body for the operation with its zod schema, then answers it in the API's camelCase shape. */
export function callOperation<O extends Operation>(
  operation: O,
  body: unknown,
  services: Services,
): Promise<Response> {
  const handler: (request: RequestOf<O>, services: Services) => Response | Promise<Response> =
    handlers[operation];
  return Promise.resolve(handler(parseRequest(operation, body), services));
}

const handlers: Handlers = {
  CreateStateMachine: (request, { machines }) => {
    const machine = machines.create(request);
    return { stateMachineArn: machine.arn, creationDate: toEpochSeconds(machine.creationDate) };
  },
  DescribeStateMachine: (request, { machines }) =>
    describeStateMachine(machines.get(request.stateMachineArn)),
  ListStateMachines: (request, { machines }) => {
    const { page, nextToken } = paginate(
      machines.list(),
      (m) => m.arn,
      request.maxResults,
      request.nextToken,
    );
    const stateMachines = page.map((m) => ({
      stateMachineArn: m.arn,
      name: m.name,
      type: m.type,
      creationDate: toEpochSeconds(m.creationDate),
    }));
    return { stateMachines, nextToken };
  },
  DeleteStateMachine: (request, { machines }) => {
    machines.delete(request.stateMachineArn);
    return {};
  },
  StartExecution: (request, { executions }) => {
    const execution = executions.startExecution(request);
    return { executionArn: execution.executionArn, startDate: toEpochSeconds(execution.startDate) };
  },
  DescribeExecution: (request, { executions }) => describeExecution(executions.get(request.executionArn)),
  ListExecutions: (request, { machines, executions }) => {
    const machine = machines.get(request.stateMachineArn);
    const all = executions.list(machine.arn, request.statusFilter);
    const { page, nextToken } = paginate(all, (e) => e.executionArn, request.maxResults, request.nextToken);
    return { executions: page.map(listedExecution), nextToken };
  },
  GetExecutionHistory: (request, { executions }) => {
    const events = [...executions.get(request.executionArn).history.events];
    if (request.reverseOrder) events.reverse();
    const { page, nextToken } = paginate(events, (e) => String(e.id), request.maxResults, request.nextToken);
    const withData = request.includeExecutionData ?? true;
    return { events: page.map((event) => historyEvent(event, withData)), nextToken };
  },
  StopExecution: async (request, { executions }) => {
    const execution = await executions.stop(request.executionArn, {
      error: request.error,
      cause: request.cause,
    });
    return { stopDate: toEpochSeconds(execution.stopDate ?? Date.now()) };
  },
};

function describeStateMachine(machine: StateMachineRecord): Response {
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: machine.type,
    creationDate: toEpochSeconds(machine.creationDate),
  };
}

function listedExecution(execution: ExecutionRecord): Response {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: toEpochSeconds(execution.startDate),
    stopDate: execution.stopDate === undefined ? undefined : toEpochSeconds(execution.stopDate),
  };
}

function describeExecution(execution: ExecutionRecord): Response {
  return {
    ...listedExecution(execution),
    input: execution.input,
    inputDetails: { included: true },
    output: execution.output,
    outputDetails: execution.output === undefined ? undefined : { included: true },
    error: execution.error,
    cause: execution.cause,
  };
}

function historyEvent(event: StoredHistoryEvent, withData: boolean): Response {
  const body = withData ? event.body : withoutData(event.body);
  return {
    ...body,
    id: event.id,
    previousEventId: event.previousEventId,
    timestamp: toEpochSeconds(event.timestampMs),
  };
}

/** includeExecutionData=false: drop the input/output strings from every details object. */
function withoutData(body: HistoryEventBody): Response {
  const stripped: Response = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== 'object' || value === null) {
      stripped[key] = value;
      continue;
    }
    const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
    stripped[key] = rest;
  }
  return stripped;
}
