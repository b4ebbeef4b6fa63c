import { GetExecutionHistoryCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import {
  ACCOUNT,
  type FakeLambdaEndpoint,
  lambdaArn,
  REGION,
  sfnClient,
  startFakeLambdaEndpoint,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

const child = {
  StartAt: 'Double',
  States: {
    Double: { Type: 'Task', Resource: lambdaArn('double'), Parameters: { 'n.$': '$.n' }, End: true },
  },
};
const failingChild = {
  StartAt: 'Broke',
  States: { Broke: { Type: 'Fail', Error: 'ChildBroke', Cause: 'nope' } },
};

const runChild = (variant: string, childName: string) => ({
  Type: 'Task',
  Resource: `arn:aws:states:::states:${variant}`,
  Parameters: {
    StateMachineArn: stateMachineArn(childName),
    Input: { 'n.$': '$.n', 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' },
  },
});

const parent = {
  StartAt: 'InvokeDouble',
  States: {
    InvokeDouble: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: lambdaArn('double'), Payload: { 'n.$': '$.n' } },
      ResultSelector: { 'n.$': '$.Payload.value', 'status.$': '$.StatusCode' },
      Next: 'RunChild',
    },
    RunChild: { ...runChild('startExecution.sync:2', 'child'), End: true },
  },
};
const parentSyncV1 = {
  StartAt: 'RunChild1',
  States: { RunChild1: { ...runChild('startExecution.sync', 'child'), End: true } },
};
const parentFireAndForget = {
  StartAt: 'Launch',
  States: { Launch: { ...runChild('startExecution', 'child'), End: true } },
};
const parentOfFailing = {
  StartAt: 'RunFailing',
  States: { RunFailing: { ...runChild('startExecution.sync:2', 'failing-child'), End: true } },
};
const parentCatching = {
  StartAt: 'RunFailingCaught',
  States: {
    RunFailingCaught: {
      ...runChild('startExecution.sync:2', 'failing-child'),
      Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.childError', Next: 'Handled' }],
      End: true,
    },
    Handled: { Type: 'Pass', End: true },
  },
};

describe('local Step Functions: nested executions and optimized integrations', () => {
  let lambda: FakeLambdaEndpoint;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>>;
  let client: SFNClient;

  beforeAll(async () => {
    lambda = await startFakeLambdaEndpoint({
      double: (event) => ({ value: (event as { n: number }).n * 2 }),
    });
    server = await startStepFunctionsServer({
      host: '127.0.0.1',
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      lambdaEndpoint: lambda.url,
      stateMachines: [
        { name: 'child', definition: child },
        { name: 'failing-child', definition: failingChild },
        { name: 'parent', definition: parent },
        { name: 'parent-sync-v1', definition: parentSyncV1 },
        { name: 'parent-fire-and-forget', definition: parentFireAndForget },
        { name: 'parent-of-failing', definition: parentOfFailing },
        { name: 'parent-catching', definition: parentCatching },
      ],
    });
    client = sfnClient(server.url);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await lambda?.close();
  });

  const run = async (machine: string, input: unknown) => {
    const { executionArn = '' } = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn(machine), input: JSON.stringify(input) }),
    );
    return { executionArn, described: await waitForCompletion(client, executionArn) };
  };

  it('lambda:invoke then startExecution.sync:2 returns the child description with parsed Output', async () => {
    const { executionArn, described } = await run('parent', { n: 5 });
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output ?? 'null');
    expect(output).toMatchObject({
      Status: 'SUCCEEDED',
      StateMachineArn: stateMachineArn('child'),
      Output: { value: 20 },
      Input: { n: 10, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: executionArn },
    });
    expect(output.ExecutionArn).toMatch(new RegExp(`^arn:aws:states:${REGION}:${ACCOUNT}:execution:child:`));
    expect(typeof output.StartDate).toBe('number');

    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    const taskTypes = events
      .map((event) => event.type)
      .filter((type) => type?.startsWith('Task') && !type.includes('State'));
    expect(taskTypes).toEqual([
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
    ]);
    const invoke = events.find((event) => event.type === 'TaskSucceeded');
    expect(invoke?.taskSucceededEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke' });
    expect(JSON.parse(invoke?.taskSucceededEventDetails?.output ?? 'null')).toEqual({
      ExecutedVersion: '$LATEST',
      Payload: { value: 10 },
      StatusCode: 200,
    });
    const scheduled = events.filter((event) => event.type === 'TaskScheduled')[1];
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'states',
      resource: 'startExecution.sync:2',
      region: REGION,
    });
  });

  it('startExecution.sync returns Output as a JSON string', async () => {
    const { described } = await run('parent-sync-v1', { n: 4 });
    const output = JSON.parse(described.output ?? 'null');
    expect(output.Status).toBe('SUCCEEDED');
    expect(output.Output).toBe(JSON.stringify({ value: 8 }));
  });

  it('startExecution (fire and forget) returns the child ARN and start date', async () => {
    const { described } = await run('parent-fire-and-forget', { n: 1 });
    const output = JSON.parse(described.output ?? 'null');
    expect(Object.keys(output).sort()).toEqual(['ExecutionArn', 'StartDate']);
    const childRun = await waitForCompletion(client, output.ExecutionArn);
    expect(JSON.parse(childRun.output ?? 'null')).toEqual({ value: 2 });
  });

  it('a failing child fails the parent with States.TaskFailed', async () => {
    const { executionArn, described } = await run('parent-of-failing', { n: 1 });
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.TaskFailed');
    expect(JSON.parse(described.cause ?? '{}')).toMatchObject({
      Status: 'FAILED',
      Error: 'ChildBroke',
      Cause: 'nope',
    });
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events.find((event) => event.type === 'TaskFailed')?.taskFailedEventDetails?.error).toBe(
      'States.TaskFailed',
    );
    expect(events.at(-1)?.type).toBe('ExecutionFailed');
  });

  it('a failing child can be caught by the parent', async () => {
    const { described } = await run('parent-catching', { n: 1 });
    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output ?? 'null');
    expect(output.childError.Error).toBe('States.TaskFailed');
    expect(JSON.parse(output.childError.Cause)).toMatchObject({ Error: 'ChildBroke' });
  });
});
