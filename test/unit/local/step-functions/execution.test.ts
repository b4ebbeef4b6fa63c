import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import {
  ACCOUNT,
  type FakeLambdaEndpoint,
  FlakyError,
  lambdaArn,
  REGION,
  sfnClient,
  startFakeLambdaEndpoint,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

const pipeline = {
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Parameters: { 'items.$': '$.items', label: 'run' }, Next: 'CallFlaky' },
    CallFlaky: {
      Type: 'Task',
      Resource: lambdaArn('flaky'),
      Retry: [{ ErrorEquals: ['FlakyError'], IntervalSeconds: 0, MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['FlakyError'], ResultPath: '$.failure', Next: 'Recovered' }],
      Next: 'Recovered',
    },
    Recovered: {
      Type: 'Pass',
      Parameters: {
        'items.$': '$.items',
        'caught.$': '$.failure.Error',
        'context.$': '$$.Execution',
        'machine.$': '$$.StateMachine',
      },
      Next: 'DoubleEach',
    },
    DoubleEach: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'n.$': '$$.Map.Item.Value' },
      MaxConcurrency: 2,
      ItemProcessor: {
        StartAt: 'Double',
        States: { Double: { Type: 'Task', Resource: lambdaArn('double'), End: true } },
      },
      ResultPath: '$.doubled',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

const waiter = { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 3600, End: true } } };
const unsupported = {
  StartAt: 'Publish',
  States: {
    Publish: {
      Type: 'Task',
      Resource: 'arn:aws:states:::sns:publish',
      Parameters: { Message: 'x' },
      End: true,
    },
  },
};
const missingFunction = {
  StartAt: 'Missing',
  States: {
    Missing: {
      Type: 'Task',
      Resource: lambdaArn('not-deployed'),
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
      End: true,
    },
    Caught: { Type: 'Pass', End: true },
  },
};

const timesOut = {
  TimeoutSeconds: 1,
  StartAt: 'Pause',
  States: { Pause: { Type: 'Wait', Seconds: 3600, End: true } },
};
const parallelWithCaughtMap = {
  StartAt: 'Both',
  States: {
    Both: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'FlakyEach',
          States: {
            FlakyEach: {
              Type: 'Map',
              ItemProcessor: {
                StartAt: 'Flaky',
                States: { Flaky: { Type: 'Task', Resource: 'flaky', End: true } },
              },
              Catch: [{ ErrorEquals: ['FlakyError'], Next: 'Fallback' }],
              End: true,
            },
            Fallback: { Type: 'Pass', Result: 'fallback', End: true },
          },
        },
        { StartAt: 'Other', States: { Other: { Type: 'Pass', Result: 'other', End: true } } },
      ],
      End: true,
    },
  },
};

const types = (events: HistoryEvent[]): string[] => events.map((event) => event.type ?? '');

describe('local Step Functions: executions', () => {
  let lambda: FakeLambdaEndpoint;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>>;
  let client: SFNClient;

  beforeAll(async () => {
    lambda = await startFakeLambdaEndpoint({
      flaky: () => {
        throw new FlakyError('boom');
      },
      double: (event) => ({ value: (event as { n: number }).n * 2 }),
    });
    server = await startStepFunctionsServer({
      host: '127.0.0.1',
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      lambdaEndpoint: lambda.url,
      stateMachines: [
        { name: 'pipeline', definition: pipeline },
        { name: 'waiter', definition: waiter },
        { name: 'unsupported', definition: unsupported },
        { name: 'missing-function', definition: missingFunction },
        { name: 'times-out', definition: timesOut },
        { name: 'parallel-with-caught-map', definition: parallelWithCaughtMap },
      ],
    });
    client = sfnClient(server.url);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await lambda?.close();
  });

  it('retries, catches, maps and succeeds; the history shows every Lambda attempt', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn('pipeline'),
        name: 'pipeline-run-1',
        input: JSON.stringify({ items: [1, 2, 3] }),
      }),
    );
    expect(executionArn).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:execution:pipeline:pipeline-run-1`);
    const described = await waitForCompletion(client, executionArn ?? '');

    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output ?? 'null');
    expect(output).toMatchObject({
      items: [1, 2, 3],
      caught: 'FlakyError',
      doubled: [{ value: 2 }, { value: 4 }, { value: 6 }],
      context: {
        Id: executionArn,
        Name: 'pipeline-run-1',
        Input: { items: [1, 2, 3] },
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/pipeline-role`,
      },
      machine: { Id: stateMachineArn('pipeline'), Name: 'pipeline' },
    });
    // the engine stamps $$.Execution.StartTime itself, within a millisecond or so of startDate
    const startTimeSkew =
      new Date(output.context.StartTime).getTime() - (described.startDate?.getTime() ?? 0);
    expect(Math.abs(startTimeSkew)).toBeLessThan(50);
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.stopDate?.getTime()).toBeGreaterThanOrEqual(described.startDate?.getTime() ?? Infinity);
    expect(lambda.calls.get('flaky')).toBe(3);

    const { events = [] } = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    const failed = events.filter((event) => event.type === 'LambdaFunctionFailed');
    expect(failed).toHaveLength(3);
    for (const event of failed) {
      expect(event.lambdaFunctionFailedEventDetails?.error).toBe('FlakyError');
      expect(JSON.parse(event.lambdaFunctionFailedEventDetails?.cause ?? '{}')).toMatchObject({
        errorMessage: 'boom',
      });
    }
    const lastFailure = events.indexOf(failed[2] as HistoryEvent);
    const recovered = events.findIndex(
      (event) => event.type === 'PassStateEntered' && event.stateEnteredEventDetails?.name === 'Recovered',
    );
    expect(recovered).toBeGreaterThan(lastFailure);
    expect(types(events).slice(0, 5)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
    ]);
    expect(types(events).filter((type) => type === 'LambdaFunctionScheduled')).toHaveLength(6);
    expect(types(events).filter((type) => type === 'MapIterationSucceeded')).toHaveLength(3);
    expect(
      events.find((event) => event.type === 'MapStateStarted')?.mapStateStartedEventDetails?.length,
    ).toBe(3);
    expect(types(events).at(-1)).toBe('ExecutionSucceeded');
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events[0]?.executionStartedEventDetails?.input).toBe(JSON.stringify({ items: [1, 2, 3] }));
    expect(events[0]?.timestamp).toBeInstanceOf(Date);

    // each attempt's events are in the order they happened
    const taskEvents = types(events)
      .filter((type) => type.startsWith('LambdaFunction'))
      .slice(0, 9);
    expect(taskEvents).toEqual(
      Array.from({ length: 3 }, () => [
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionFailed',
      ]).flat(),
    );
  });

  it('pages and reverses the history', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('pipeline'), input: '{"items":[5]}' }),
    );
    await waitForCompletion(client, executionArn ?? '');
    const all = (await client.send(new GetExecutionHistoryCommand({ executionArn }))).events ?? [];
    const first = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 4, reverseOrder: true }),
    );
    expect(first.events?.map((event) => event.id)).toEqual([
      all.length,
      all.length - 1,
      all.length - 2,
      all.length - 3,
    ]);
    const second = await client.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 4,
        reverseOrder: true,
        nextToken: first.nextToken,
      }),
    );
    expect(second.events?.[0]?.id).toBe(all.length - 4);
    const withoutData = await client.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1, includeExecutionData: false }),
    );
    expect(withoutData.events?.[0]?.executionStartedEventDetails).toEqual({
      inputDetails: { truncated: false },
      roleArn: `arn:aws:iam::${ACCOUNT}:role/pipeline-role`,
    });
  });

  it('StopExecution aborts an execution in a long Wait', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('waiter') }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    const stopped = await client.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'manual stop' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);

    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'manual stop' });
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(types(events)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted']);
    expect(events[2]?.executionAbortedEventDetails).toEqual({ error: 'Operator', cause: 'manual stop' });
  });

  it('records Parallel and a caught Map failure with the AWS event types', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: stateMachineArn('parallel-with-caught-map'),
        input: '[1]',
      }),
    );
    const described = await waitForCompletion(client, executionArn ?? '');
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? 'null')).toEqual(['fallback', 'other']);
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    const seen = types(events);
    expect(seen.slice(0, 3)).toEqual(['ExecutionStarted', 'ParallelStateEntered', 'ParallelStateStarted']);
    expect(seen).toEqual(expect.arrayContaining(['MapIterationFailed', 'MapStateFailed', 'MapStateExited']));
    expect(seen).not.toContain('MapStateSucceeded');
    expect(seen.slice(-3)).toEqual(['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
  });

  it('times out after the machine TimeoutSeconds', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('times-out') }),
    );
    const described = await waitForCompletion(client, executionArn ?? '');
    expect(described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(types(events)).toEqual(['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut']);
  });

  it('fails with States.Runtime on an unsupported Task resource', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('unsupported') }),
    );
    const described = await waitForCompletion(client, executionArn ?? '');
    expect(described.status).toBe('FAILED');
    expect(described.error).toBe('States.Runtime');
    expect(described.cause).toContain('arn:aws:states:::sns:publish');
  });

  it('reports a function the endpoint does not know as Lambda.ResourceNotFoundException', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('missing-function'), input: '{"a":1}' }),
    );
    const described = await waitForCompletion(client, executionArn ?? '');
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? 'null')).toMatchObject({
      Error: 'Lambda.ResourceNotFoundException',
    });
  });
});
