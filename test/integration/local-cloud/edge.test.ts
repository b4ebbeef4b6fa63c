import { randomUUID } from 'node:crypto';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { describe, expect, inject, it } from 'vitest';
import { runScript } from '../../support/cli.ts';

/**
 * One endpoint for every service (the edge, LocalStack's port 4566 by default): SDK clients given only that endpoint
 * and `test`/`test` reach S3, Kinesis, Step Functions, Lambda and the event-source mappings.
 */

const { state, env } = inject('stack');
const endpoint = state.endpoints.edge;
const config = {
  region: state.region,
  endpoint,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

describe('the edge endpoint', () => {
  it('routes S3, Kinesis and Step Functions calls by their signature', async () => {
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const key = `test/${randomUUID()}/edge.json`;
    await s3.send(new PutObjectCommand({ Bucket: 'fraud-platform', Key: key, Body: '{"via":"edge"}' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'fraud-platform', Key: key }));
    expect(await got.Body?.transformToString()).toBe('{"via":"edge"}');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'fraud-platform', Prefix: key }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);

    const kinesis = new KinesisClient({ ...config, requestHandler: new NodeHttpHandler() });
    expect((await kinesis.send(new ListStreamsCommand({}))).StreamNames).toContain('fp.bus.traffic.fraud.v1');

    const sfn = new SFNClient(config);
    const machines = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines?.map((m) => m.name);
    expect(machines).toContain('fraud-platform-local-run-lifecycle');
    for (const c of [s3, kinesis, sfn]) c.destroy();
  });

  it('serves Lambda on one endpoint: ListFunctions, GetFunctionConfiguration, Invoke, ListEventSourceMappings', async () => {
    const lambda = new LambdaClient(config);
    const names =
      (await lambda.send(new ListFunctionsCommand({}))).Functions?.map((f) => f.FunctionName) ?? [];
    expect(names).toEqual(expect.arrayContaining(state.functions));
    const one = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'fraud-platform-local-substrate-status' }),
    );
    expect(one).toMatchObject({
      FunctionName: 'fraud-platform-local-substrate-status',
      Runtime: 'nodejs22.x',
    });
    const missing = await lambda
      .send(new GetFunctionConfigurationCommand({ FunctionName: 'no-such-function' }))
      .catch((e: unknown) => e);
    expect((missing as Error).name).toBe('ResourceNotFoundException');

    const invoked = await lambda.send(
      new InvokeCommand({ FunctionName: 'fraud-platform-local-substrate-status' }),
    );
    expect(invoked.StatusCode).toBe(200);
    expect(JSON.parse(Buffer.from(invoked.Payload ?? new Uint8Array()).toString('utf8'))).toHaveProperty(
      'ready',
    );

    const mappings = await lambda.send(
      new ListEventSourceMappingsCommand({
        FunctionName: 'fraud-platform-local-world-streamer-ready-consumer',
      }),
    );
    expect(mappings.EventSourceMappings?.[0]?.State).toBe('Enabled');
    lambda.destroy();
  });

  it('npm run stack:env prints the export lines a shell needs', async () => {
    const r = await runScript('local/cli.ts', ['env'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      `export AWS_ENDPOINT_URL=${endpoint}`,
      'export AWS_ACCESS_KEY_ID=test',
      'export AWS_SECRET_ACCESS_KEY=test',
      `export AWS_REGION=${state.region}`,
      `export AWS_DEFAULT_REGION=${state.region}`,
    ]);
  });
});
