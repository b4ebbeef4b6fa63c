import { ListExecutionsCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../../support/eventually.ts';
import { startLocalStepFunctions, stateMachineArn, waitForCompletion } from './fixtures.ts';

/** A `.sync` child still running when its parent ends is stopped, as AWS stops it (no child outlives its parent). */

const slowChild = { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 600, End: true } } };
const failingChild = {
  StartAt: 'Broke',
  States: { Broke: { Type: 'Fail', Error: 'ChildBroke', Cause: 'nope' } },
};
const runChild = (childName: string) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::states:startExecution.sync:2',
  Parameters: { StateMachineArn: stateMachineArn(childName), Input: {} },
  End: true,
});
// Item 0 fails at once; item 1's child sleeps: the Map, and with it the parent, fails while that child runs.
const parentOfTwo = {
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: {
        StartAt: 'Which',
        States: {
          Which: {
            Type: 'Choice',
            Choices: [{ Variable: '$.n', NumericEquals: 0, Next: 'Fails' }],
            Default: 'Sleeps',
          },
          Fails: runChild('failing-child'),
          Sleeps: runChild('slow-child'),
        },
      },
      End: true,
    },
  },
};
const parentOfOne = { StartAt: 'Sleeps', States: { Sleeps: runChild('slow-child') } };

describe('local Step Functions: .sync children end with their parent', () => {
  it('a parent that fails stops the child it was still waiting for; one that is stopped does too', async () => {
    const { server, client } = await startLocalStepFunctions(
      [
        { name: 'slow-child', definition: slowChild },
        { name: 'failing-child', definition: failingChild },
        { name: 'parent-of-two', definition: parentOfTwo },
        { name: 'parent-of-one', definition: parentOfOne },
      ],
      'http://127.0.0.1:1',
    );
    const slowChildren = async (status: 'RUNNING' | 'ABORTED') =>
      (
        await client.send(
          new ListExecutionsCommand({ stateMachineArn: stateMachineArn('slow-child'), statusFilter: status }),
        )
      ).executions ?? [];
    try {
      const failed = await client.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn('parent-of-two'),
          input: JSON.stringify({ items: [{ n: 0 }, { n: 1 }] }),
        }),
      );
      expect(await waitForCompletion(client, failed.executionArn ?? '')).toMatchObject({
        status: 'FAILED',
        error: 'States.TaskFailed',
      });
      const aborted = await eventually(
        async () =>
          (await slowChildren('ABORTED')).length === 1 ? await slowChildren('ABORTED') : undefined,
        'the sleeping child stopped',
        5_000,
      );
      expect(aborted).toHaveLength(1);
      expect(await slowChildren('RUNNING')).toEqual([]);

      const stopped = await client.send(
        new StartExecutionCommand({ stateMachineArn: stateMachineArn('parent-of-one'), input: '{}' }),
      );
      await eventually(
        async () => ((await slowChildren('RUNNING')).length === 1 ? true : undefined),
        'child running',
      );
      await client.send(new StopExecutionCommand({ executionArn: stopped.executionArn, error: 'Stopped' }));
      await eventually(
        async () => ((await slowChildren('ABORTED')).length === 2 ? true : undefined),
        'the child of the stopped parent stopped',
        5_000,
      );
      expect(await slowChildren('RUNNING')).toEqual([]);
    } finally {
      client.destroy();
      await server.close();
    }
  }, 20_000);
});
