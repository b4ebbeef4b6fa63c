import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import { eventually } from '../../../support/eventually.ts';
import { historyOf } from '../../../support/executions.ts';
import {
  type FakeLambdaEndpoint,
  FlakyError,
  lambdaArn,
  startFakeLambdaEndpoint,
  startLocalStepFunctions,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

/**
 * AWS stops the other iterations of a Map (the other branches of a Parallel) as soon as one fails, also when a Catch
 * on the state lets the execution go on: an iteration sleeping between Retry attempts does not try again, one not
 * started yet never starts, and the `.sync` child one waits for is stopped. StopExecution likewise: a Retry sleeping
 * when the execution is stopped does not fire. The engine wakes such a Retry at once; the server refuses the task and
 * reports it ('task not started'). The tests wait for that report, the moment the Lambda would otherwise have been
 * invoked again, then count the invocations: no fixed sleep.
 */

class FatalError extends Error {
  override name = 'FatalError';
}

/** What the failing iteration waits for before it fails: the flaky call failed (its Retry sleeps) or a child started. */
const SIBLING_BUSY = new Set(['LambdaFunctionFailed', 'TaskSubmitted']);

const flaky = {
  Type: 'Task',
  Resource: lambdaArn('flaky'),
  // A long interval: the Retry is surely asleep when its sibling fails; only an early wake-up would invoke it again.
  Retry: [{ ErrorEquals: ['FlakyError'], IntervalSeconds: 30, MaxAttempts: 3 }],
  End: true,
};
const fatal = {
  Type: 'Task',
  Resource: lambdaArn('fatal'),
  Parameters: { 'execution.$': '$$.Execution.Id' },
  End: true,
};
const byKind = {
  StartAt: 'Route',
  States: {
    Route: {
      Type: 'Choice',
      Choices: ['fatal', 'fatal-now', 'child'].map((kind) => ({
        Variable: '$.kind',
        StringEquals: kind,
        Next: kind,
      })),
      Default: 'Flaky',
    },
    Flaky: flaky,
    fatal,
    'fatal-now': { Type: 'Task', Resource: lambdaArn('fatal-now'), End: true },
    child: {
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: { StateMachineArn: stateMachineArn('slow-child'), Input: {} },
      End: true,
    },
  },
};
/** The failure is caught and the execution goes on, as stream-run goes on to StreamBroken. */
const caught = {
  Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'After' }],
  Next: 'After',
};
const after = { Type: 'Task', Resource: lambdaArn('after'), ResultPath: '$.after', End: true };

const mapOf = (concurrency: Record<string, unknown>) => ({
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ...concurrency,
      ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, ...byKind },
      ResultPath: '$.results',
      ...caught,
    },
    After: after,
  },
});
const parallel = {
  StartAt: 'Both',
  States: {
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Flaky', States: { Flaky: flaky } },
        { StartAt: 'Fatal', States: { Fatal: fatal } },
      ],
      ResultPath: '$.results',
      ...caught,
    },
    After: after,
  },
};

describe('local Step Functions: a failed Map or Parallel stops its other iterations and branches', {
  timeout: 20_000,
}, () => {
  let lambda: FakeLambdaEndpoint;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>>;
  let client: SFNClient;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    lambda = await startFakeLambdaEndpoint({
      flaky: () => {
        throw new FlakyError('not yet');
      },
      fatal: async (event) => {
        const { execution } = event as { execution: string };
        await eventually(
          async () =>
            (await historyOf(client, execution)).some((e) => SIBLING_BUSY.has(e.type ?? '')) || undefined,
          'the sibling busy',
          10_000,
        );
        throw new FatalError('this iteration fails for good');
      },
      'fatal-now': () => {
        throw new FatalError('at once');
      },
      // With a child in the items, After goes on only once that child is stopped: while the execution still runs.
      after: async (event) => {
        const { items = [] } = event as { items?: Array<{ kind: string }> };
        if (items.some((item) => item.kind === 'child'))
          await eventually(
            async () => (await slowChildren('ABORTED')).length > 0 || undefined,
            'child stopped',
            5_000,
          );
        return { after: true };
      },
    });
    ({ server, client } = await startLocalStepFunctions(
      [
        { name: 'map', definition: mapOf({}) },
        { name: 'map-one-at-a-time', definition: mapOf({ MaxConcurrency: 1 }) },
        { name: 'parallel', definition: parallel },
        { name: 'retrying', definition: { StartAt: 'Flaky', States: { Flaky: flaky } } },
        {
          name: 'slow-child',
          definition: { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 600, End: true } } },
        },
      ],
      lambda.url,
      { log: (line) => logs.push(line) },
    ));
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await lambda?.close();
  });

  const slowChildren = async (status: 'RUNNING' | 'ABORTED') =>
    (
      await client.send(
        new ListExecutionsCommand({ stateMachineArn: stateMachineArn('slow-child'), statusFilter: status }),
      )
    ).executions ?? [];

  beforeEach(() => {
    lambda.calls.clear();
    logs.length = 0;
  });

  async function start(machine: string, input: Record<string, unknown>): Promise<string> {
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn(machine), input: JSON.stringify(input) }),
    );
    return started.executionArn ?? '';
  }

  /** The server's report that it refused to start something of this execution. */
  const reported = (executionArn: string, msg: string, state?: string) =>
    eventually(
      async () =>
        logs.find((l) => l.msg === msg && l.executionArn === executionArn && (!state || l.state === state)),
      `'${msg}'${state ? ` for ${state}` : ''}`,
      10_000,
    );

  /** The execution went on past the caught failure: After ran once with the error of the failed iteration. */
  async function caughtAndWentOn(executionArn: string): Promise<string[]> {
    const done = await waitForCompletion(client, executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '{}').error.Error).toBe('FatalError');
    expect(lambda.calls.get('after')).toBe(1);
    return (await historyOf(client, executionArn)).map((e) => e.type ?? '');
  }

  it('Map, failure caught: the iteration sleeping in its Retry does not invoke its Lambda again', async () => {
    const arn = await start('map', { items: [{ kind: 'flaky' }, { kind: 'fatal' }] });
    await reported(arn, 'task not started', 'Flaky');
    const types = await caughtAndWentOn(arn);
    expect(lambda.calls.get('flaky')).toBe(1);
    expect(types.filter((t) => t === 'LambdaFunctionScheduled')).toHaveLength(3); // flaky, fatal, After
    expect(types).toContain('MapStateFailed');
  });

  it('Parallel, failure caught: the branch sleeping in its Retry does not invoke its Lambda again', async () => {
    const arn = await start('parallel', {});
    await reported(arn, 'task not started', 'Flaky');
    const types = await caughtAndWentOn(arn);
    expect(lambda.calls.get('flaky')).toBe(1);
    expect(types).toContain('ParallelStateFailed');
  });

  it('Map with MaxConcurrency 1, failure caught: the iteration still waiting for its turn never starts', async () => {
    const arn = await start('map-one-at-a-time', { items: [{ kind: 'fatal-now' }, { kind: 'flaky' }] });
    await reported(arn, 'iteration not started');
    const types = await caughtAndWentOn(arn);
    expect(lambda.calls.get('flaky')).toBeUndefined();
    expect(types.filter((t) => t === 'MapIterationStarted')).toHaveLength(1);
  });

  it('Map, failure caught: the .sync child the other iteration waits for is stopped, while the execution goes on', async () => {
    const arn = await start('map', { items: [{ kind: 'child' }, { kind: 'fatal' }] });
    await caughtAndWentOn(arn); // After saw the child stopped before it let the execution end
    expect(await slowChildren('ABORTED')).toHaveLength(1);
    expect(await slowChildren('RUNNING')).toEqual([]);
  });

  it('StopExecution while a Retry sleeps: the Retry does not fire', async () => {
    const arn = await start('retrying', {});
    await eventually(
      async () => (await historyOf(client, arn)).some((e) => e.type === 'LambdaFunctionFailed') || undefined,
      'the first attempt failed',
      10_000,
    );
    await client.send(new StopExecutionCommand({ executionArn: arn, error: 'Stopped' }));
    await reported(arn, 'task not started', 'Flaky');
    expect(lambda.calls.get('flaky')).toBe(1);
    expect((await client.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('ABORTED');
    const types = (await historyOf(client, arn)).map((e) => e.type);
    expect(types.at(-1)).toBe('ExecutionAborted');
    expect(types.filter((t) => t === 'LambdaFunctionScheduled')).toHaveLength(1);
  });
});
