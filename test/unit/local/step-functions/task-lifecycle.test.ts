import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import { eventually } from '../../../support/eventually.ts';
import {
  ACCOUNT,
  FlakyError,
  lambdaArn,
  REGION,
  sfnClient,
  startFakeLambdaEndpoint,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

/** When a task may start: not against a Lambda endpoint that is down, and not once its execution has ended. */

/** One Map iteration fails at once; the other is between retries when the execution ends. */
const siblingRetries = {
  StartAt: 'Each',
  States: {
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'n.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: lambdaArn('work'),
            Retry: [{ ErrorEquals: ['FlakyError'], IntervalSeconds: 1, MaxAttempts: 3 }],
            End: true,
          },
        },
      },
      End: true,
    },
  },
};

describe('local Step Functions: an ended execution starts no task', () => {
  it('a sibling Map iteration between retries invokes nothing more once the execution has failed', async () => {
    const workCalls: Record<number, number> = {};
    const lambda = await startFakeLambdaEndpoint({
      work: (event) => {
        const n = (event as { n: number }).n;
        workCalls[n] = (workCalls[n] ?? 0) + 1;
        if (n === 0) throw new Error('fatal');
        throw new FlakyError('try again');
      },
    });
    const logs: Array<Record<string, unknown>> = [];
    const server = await startStepFunctionsServer({
      host: '127.0.0.1',
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      lambdaEndpoint: lambda.url,
      stateMachines: [{ name: 'sibling-retries', definition: siblingRetries }],
      log: (line) => logs.push(line),
    });
    const client = sfnClient(server.url);
    try {
      const started = await client.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineArn('sibling-retries'),
          input: JSON.stringify({ items: [0, 1] }),
        }),
      );
      const done = await waitForCompletion(client, started.executionArn ?? '');
      expect(done.status).toBe('FAILED');
      // The engine wakes the sibling's Retry when the Map fails: the server reports the task it refused then.
      await eventually(
        async () => logs.find((line) => line.msg === 'task not started' && line.state === 'Work'),
        'the sibling refused',
        10_000,
      );
      expect(workCalls).toEqual({ 0: 1, 1: 1 });
    } finally {
      client.destroy();
      await server.close();
      await lambda.close();
    }
  }, 15_000);
});

describe('local Step Functions: Lambda endpoint down', () => {
  it('fails the task with Lambda.ServiceException', async () => {
    const server = await startStepFunctionsServer({
      host: '127.0.0.1',
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      lambdaEndpoint: 'http://127.0.0.1:1',
      stateMachines: [
        {
          name: 'lonely',
          definition: {
            StartAt: 'Call',
            States: { Call: { Type: 'Task', Resource: lambdaArn('double'), End: true } },
          },
        },
      ],
    });
    const client = sfnClient(server.url);
    try {
      const { executionArn } = await client.send(
        new StartExecutionCommand({ stateMachineArn: stateMachineArn('lonely') }),
      );
      const described = await waitForCompletion(client, executionArn ?? '');
      expect(described).toMatchObject({ status: 'FAILED', error: 'Lambda.ServiceException' });
    } finally {
      client.destroy();
      await server.close();
    }
  });
});
