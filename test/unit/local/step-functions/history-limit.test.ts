import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import { historyOf } from '../../../support/executions.ts';
import {
  type FakeLambdaEndpoint,
  lambdaArn,
  startFakeLambdaEndpoint,
  startLocalStepFunctions,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

/**
 * AWS fails an execution whose history reaches its maximum (25,000 events): the event that would take the last
 * place becomes ExecutionFailed, States.Runtime, "The execution reached the maximum number of history events
 * (25000)." — and nothing runs after it. The local server enforces the same with a lower maximum here.
 */

/** A loop that never ends by itself: a Lambda task, then a Choice back to it. */
const endlessTicks = {
  StartAt: 'Tick',
  States: {
    Tick: { Type: 'Task', Resource: lambdaArn('tick'), ResultPath: '$.last', Next: 'Again' },
    Again: {
      Type: 'Choice',
      Choices: [{ Variable: '$.last.ok', BooleanEquals: true, Next: 'Tick' }],
      Default: 'Stopped',
    },
    Stopped: { Type: 'Succeed' },
  },
};
const TICK_EVENTS = [
  'TaskStateEntered',
  'LambdaFunctionScheduled',
  'LambdaFunctionStarted',
  'LambdaFunctionSucceeded',
  'TaskStateExited',
  'ChoiceStateEntered',
  'ChoiceStateExited',
];

/** Exactly six events when it succeeds. */
const twoStates = {
  StartAt: 'Step',
  States: { Step: { Type: 'Pass', Next: 'Done' }, Done: { Type: 'Succeed' } },
};

/** A parent whose .sync:2 child is the endless loop. */
const parentOfEndless = {
  StartAt: 'RunChild',
  States: {
    RunChild: {
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: { StateMachineArn: stateMachineArn('endless-ticks'), Input: {} },
      End: true,
    },
  },
};

const causeAt = (maxEvents: number) =>
  `The execution reached the maximum number of history events (${maxEvents}).`;

describe('local Step Functions: the execution history limit', () => {
  let lambda: FakeLambdaEndpoint | undefined;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>> | undefined;
  let client: SFNClient | undefined;

  async function serverWithLimit(maxHistoryEvents: number): Promise<SFNClient> {
    lambda = await startFakeLambdaEndpoint({ tick: () => ({ ok: true }) });
    const started = await startLocalStepFunctions(
      [
        { name: 'endless-ticks', definition: endlessTicks },
        { name: 'two-states', definition: twoStates },
        { name: 'parent-of-endless', definition: parentOfEndless },
      ],
      lambda.url,
      { maxHistoryEvents },
    );
    server = started.server;
    client = started.client;
    return client;
  }

  afterEach(async () => {
    client?.destroy();
    await server?.close();
    await lambda?.close();
    client = undefined;
    server = undefined;
    lambda = undefined;
  });

  // Seven limits: the cut lands once on each of the seven events of a loop turn.
  it.each([30, 31, 32, 33, 34, 35, 36])(
    'fails an endless loop at %i events: the last is ExecutionFailed, and no task started after it',
    async (maxEvents) => {
      const sfn = await serverWithLimit(maxEvents);
      const { executionArn = '' } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: stateMachineArn('endless-ticks'), input: '{}' }),
      );
      const done = await waitForCompletion(sfn, executionArn);
      expect(done).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: causeAt(maxEvents) });

      const events = await historyOf(sfn, executionArn);
      expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
      expect(events).toHaveLength(maxEvents);
      const turns = Math.ceil(maxEvents / TICK_EVENTS.length);
      const expectedTypes = ['ExecutionStarted', ...Array.from({ length: turns }, () => TICK_EVENTS).flat()];
      expect(events.slice(0, -1).map((event) => event.type)).toEqual(expectedTypes.slice(0, maxEvents - 1));
      expect(events.at(-1)).toMatchObject({
        type: 'ExecutionFailed',
        previousEventId: maxEvents - 1,
        executionFailedEventDetails: { error: 'States.Runtime', cause: causeAt(maxEvents) },
      });
      // A Lambda was invoked exactly for each LambdaFunctionStarted the history admitted.
      const started = events.filter((event) => event.type === 'LambdaFunctionStarted').length;
      expect(lambda?.calls.get('tick')).toBe(started);
    },
  );

  it('admits a final event in the last place: six events succeed under a limit of 6, fail under 5', async () => {
    const six = await serverWithLimit(6);
    const first = await six.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('two-states'), input: '{}' }),
    );
    const succeeded = await waitForCompletion(six, first.executionArn ?? '');
    expect(succeeded.status).toBe('SUCCEEDED');
    const all = await historyOf(six, first.executionArn ?? '');
    expect(all.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    await server?.close();
    await lambda?.close();

    const five = await serverWithLimit(5);
    const second = await five.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('two-states'), input: '{}' }),
    );
    const failed = await waitForCompletion(five, second.executionArn ?? '');
    expect(failed).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: causeAt(5) });
    const cut = await historyOf(five, second.executionArn ?? '');
    expect(cut.map((event) => event.type)).toEqual([
      ...all.slice(0, 4).map((e) => e.type),
      'ExecutionFailed',
    ]);
  });

  it('a child that reaches the limit fails its .sync parent with States.TaskFailed naming the cause', async () => {
    const sfn = await serverWithLimit(40);
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: stateMachineArn('parent-of-endless'), input: '{}' }),
    );
    const parent = await waitForCompletion(sfn, executionArn);
    expect(parent).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    const child = JSON.parse(parent.cause ?? '{}') as { ExecutionArn: string; Error: string; Cause: string };
    expect(child).toMatchObject({ Status: 'FAILED', Error: 'States.Runtime', Cause: causeAt(40) });
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: child.ExecutionArn }));
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: causeAt(40) });
    expect(await historyOf(sfn, child.ExecutionArn)).toHaveLength(40);
    // The parent's own history is short: started, the task's events, failed.
    expect((await historyOf(sfn, executionArn)).length).toBeLessThan(40);
  });
});
