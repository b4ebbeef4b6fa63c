import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  InvalidDefinition,
  InvalidExecutionInput,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStepFunctionsServer } from '../../../../local/step-functions/server.ts';
import {
  ACCOUNT,
  type FakeLambdaEndpoint,
  REGION,
  sfnClient,
  startFakeLambdaEndpoint,
  stateMachineArn,
  waitForCompletion,
} from './fixtures.ts';

const waiter = { StartAt: 'Pause', States: { Pause: { Type: 'Wait', Seconds: 3600, End: true } } };
const passThrough = { StartAt: 'Echo', States: { Echo: { Type: 'Pass', End: true } } };
const roleArn = `arn:aws:iam::${ACCOUNT}:role/test`;

describe('local Step Functions: API surface', () => {
  let lambda: FakeLambdaEndpoint;
  let server: Awaited<ReturnType<typeof startStepFunctionsServer>>;
  let client: SFNClient;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    lambda = await startFakeLambdaEndpoint({});
    server = await startStepFunctionsServer({
      host: '127.0.0.1',
      port: 0,
      region: REGION,
      accountId: ACCOUNT,
      lambdaEndpoint: lambda.url,
      stateMachines: [
        { name: 'waiter', definition: waiter },
        { name: 'echo', definition: passThrough, type: 'EXPRESS' },
      ],
      log: (line) => logLines.push(line),
    });
    client = sfnClient(server.url);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    await lambda?.close();
  });

  it('binds 127.0.0.1 on a free port and logs', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(logLines[0]).toMatchObject({ msg: 'step functions listening' });
  });

  it('StartExecution is idempotent by name and input while the execution runs', async () => {
    const stateMachine = stateMachineArn('waiter');
    const first = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachine, name: 'once', input: '{"a":1}' }),
    );
    const again = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachine, name: 'once', input: '{"a":1}' }),
    );
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());

    const listed = await client.send(new ListExecutionsCommand({ stateMachineArn: stateMachine }));
    expect(listed.executions?.filter((execution) => execution.name === 'once')).toHaveLength(1);

    await expect(
      client.send(
        new StartExecutionCommand({ stateMachineArn: stateMachine, name: 'once', input: '{"a":2}' }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);

    await client.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    // as on AWS: once closed, the name cannot be reused, even with the same input
    await expect(
      client.send(
        new StartExecutionCommand({ stateMachineArn: stateMachine, name: 'once', input: '{"a":1}' }),
      ),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
  });

  it('ListExecutions filters by status and pages newest first', async () => {
    const stateMachine = stateMachineArn('waiter');
    const started: string[] = [];
    for (const name of ['page-1', 'page-2', 'page-3']) {
      const { executionArn = '' } = await client.send(
        new StartExecutionCommand({ stateMachineArn: stateMachine, name }),
      );
      started.push(executionArn);
    }
    await client.send(new StopExecutionCommand({ executionArn: started[0] }));

    const running = await client.send(
      new ListExecutionsCommand({ stateMachineArn: stateMachine, statusFilter: 'RUNNING' }),
    );
    expect(running.executions?.map((execution) => execution.name)).toEqual(['page-3', 'page-2']);

    const firstPage = await client.send(
      new ListExecutionsCommand({ stateMachineArn: stateMachine, maxResults: 2 }),
    );
    expect(firstPage.executions?.map((execution) => execution.name)).toEqual(['page-3', 'page-2']);
    expect(firstPage.nextToken).toBeTruthy();
    const secondPage = await client.send(
      new ListExecutionsCommand({
        stateMachineArn: stateMachine,
        maxResults: 2,
        nextToken: firstPage.nextToken,
      }),
    );
    expect(secondPage.executions?.map((execution) => execution.name)).toEqual(['page-1', 'once']);
    expect(secondPage.executions?.[0]).toMatchObject({ status: 'ABORTED', stateMachineArn: stateMachine });
    expect(secondPage.executions?.[0]?.stopDate).toBeInstanceOf(Date);
  });

  it('EXPRESS executions have express ARNs and are not idempotent', async () => {
    const stateMachine = stateMachineArn('echo');
    const first = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachine, name: 'same', input: '{"x":1}' }),
    );
    const second = await client.send(
      new StartExecutionCommand({ stateMachineArn: stateMachine, name: 'same', input: '{"x":1}' }),
    );
    expect(first.executionArn).toMatch(new RegExp(`^arn:aws:states:${REGION}:${ACCOUNT}:express:echo:same:`));
    expect(second.executionArn).not.toBe(first.executionArn);
    const described = await waitForCompletion(client, first.executionArn ?? '');
    expect(described).toMatchObject({ status: 'SUCCEEDED', output: '{"x":1}', name: 'same' });
  });

  it('CreateStateMachine is idempotent for the same definition and refuses a different one', async () => {
    const definition = JSON.stringify(passThrough);
    const created = await client.send(new CreateStateMachineCommand({ name: 'made', definition, roleArn }));
    expect(created.stateMachineArn).toBe(stateMachineArn('made'));
    expect(created.creationDate).toBeInstanceOf(Date);
    const again = await client.send(new CreateStateMachineCommand({ name: 'made', definition, roleArn }));
    expect(again.creationDate?.getTime()).toBe(created.creationDate?.getTime());
    await expect(
      client.send(
        new CreateStateMachineCommand({ name: 'made', definition: JSON.stringify(waiter), roleArn }),
      ),
    ).rejects.toBeInstanceOf(StateMachineAlreadyExists);

    const described = await client.send(
      new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn }),
    );
    expect(described).toMatchObject({
      name: 'made',
      definition,
      roleArn,
      type: 'STANDARD',
      status: 'ACTIVE',
    });

    const listed = await client.send(new ListStateMachinesCommand({}));
    expect(listed.stateMachines?.map((machine) => machine.name)).toEqual(['echo', 'made', 'waiter']);

    await client.send(new DeleteStateMachineCommand({ stateMachineArn: created.stateMachineArn }));
    await expect(
      client.send(new DescribeStateMachineCommand({ stateMachineArn: created.stateMachineArn })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('answers bad requests with typed errors', async () => {
    await expect(
      client.send(
        new CreateStateMachineCommand({
          name: 'broken',
          definition: '{"StartAt":"Nowhere","States":{}}',
          roleArn,
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidDefinition);
    await expect(
      client.send(
        new CreateStateMachineCommand({ name: 'bad name', definition: JSON.stringify(passThrough), roleArn }),
      ),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(
      client.send(
        new StartExecutionCommand({ stateMachineArn: stateMachineArn('waiter'), input: '{not json' }),
      ),
    ).rejects.toBeInstanceOf(InvalidExecutionInput);
    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn: stateMachineArn('nope') })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(
      client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
    await expect(
      client.send(
        new DescribeExecutionCommand({
          executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:waiter:ghost`,
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('refuses to start with an invalid state machine, naming it', async () => {
    await expect(
      startStepFunctionsServer({
        host: '127.0.0.1',
        port: 0,
        region: REGION,
        accountId: ACCOUNT,
        lambdaEndpoint: lambda.url,
        stateMachines: [{ name: 'half-done', definition: { StartAt: 'Missing', States: {} } }],
      }),
    ).rejects.toThrow(/state machine 'half-done'/);
  });

  const post = (target: string, body: string) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
      body,
    });

  it('answers an unknown operation with 400 UnknownOperationException', async () => {
    const response = await post('AWSStepFunctions.LaunchRockets', '{}');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('answers a body that fails its schema with 400 ValidationException', async () => {
    const response = await post('AWSStepFunctions.StartExecution', JSON.stringify({ stateMachineArn: 42 }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { __type: string; message: string };
    expect(body.__type).toBe('ValidationException');
    expect(body.message).toContain('stateMachineArn');
  });

  it('answers malformed JSON with 400 SerializationException', async () => {
    const response = await post('AWSStepFunctions.ListStateMachines', '{oops');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'SerializationException' });
  });

  it('answers an invalid pagination token with InvalidToken', async () => {
    const response = await post(
      'AWSStepFunctions.ListStateMachines',
      JSON.stringify({ nextToken: 'bm9wZQ' }),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'InvalidToken' });
  });
});
