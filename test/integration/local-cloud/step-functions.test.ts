import path from 'node:path';
import { ListExecutionsCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor } from '../../support/clients.ts';
import { historyOf, waitForExecution } from '../../support/executions.ts';
import { startTestStack, type TestStack } from '../../support/test-stack.ts';

// The local cloud running a service of its own (test/fixtures/local-cloud-service): real Lambdas in
// serverless-offline, state machines implied by its serverless.yml, driven by the unchanged SDK client.
let stack: TestStack;
let sfn: SFNClient;
const arnOf = (name: string) => {
  const m = stack.state.stateMachines.find((s) => s.name === name);
  if (!m) throw new Error(`no state machine ${name}`);
  return m.arn;
};

beforeAll(async () => {
  stack = await startTestStack(path.resolve('test/fixtures/local-cloud-service'), 'fixture');
  sfn = clientsFor(stack.state).sfn;
});
afterAll(async () => {
  await stack?.stop();
});

describe('Step Functions API on the local cloud', () => {
  it('runs Retry, Catch, Map, Parallel, Wait and a nested startExecution.sync:2 on real local Lambdas', async () => {
    const start = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: arnOf('fixture-parent'),
        input: JSON.stringify({ items: [{ n: 1 }, { n: 2 }, { n: 3 }] }),
      }),
    );
    const done = await waitForExecution(sfn, start.executionArn ?? '');
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}');
    expect(output.doubled).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }]);
    expect(output.parallel[0]).toEqual({ sum: 12 });
    expect(output.parallel[1].Status).toBe('SUCCEEDED');
    expect(output.parallel[1].Output).toEqual({ n: 42 });
    expect(output.caught.Error).toBe('TaskBoomError');

    // The failing task: first attempt + 2 retries, each visible, then caught.
    const history = await historyOf(sfn, start.executionArn ?? '');
    const failures = history.filter((e) => e.type === 'LambdaFunctionFailed');
    expect(failures).toHaveLength(3);
    expect(failures.every((e) => e.lambdaFunctionFailedEventDetails?.error === 'TaskBoomError')).toBe(true);
    const types = history.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types).toContain('MapStateEntered');
    expect(types).toContain('WaitStateEntered');
  });

  it('fails the parent when a nested .sync child fails, naming the child error', async () => {
    const start = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arnOf('fixture-parent-of-failing-child'), input: '{}' }),
    );
    const done = await waitForExecution(sfn, start.executionArn ?? '');
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('States.TaskFailed');
    expect(done.cause).toContain('TaskBoomError');
  });

  it('starts one execution for two StartExecution calls with the same name and input', async () => {
    const name = `idempotent-${Date.now()}`;
    const input = JSON.stringify({ items: [{ n: 5 }] });
    const stateMachineArn = arnOf('fixture-parent');
    const [a, b] = await Promise.all([
      sfn.send(new StartExecutionCommand({ stateMachineArn, name, input })),
      sfn.send(new StartExecutionCommand({ stateMachineArn, name, input })),
    ]);
    expect(a.executionArn).toBe(b.executionArn);
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect((listed.executions ?? []).filter((e) => e.name === name)).toHaveLength(1);
    await waitForExecution(sfn, a.executionArn ?? '');
  });
});
