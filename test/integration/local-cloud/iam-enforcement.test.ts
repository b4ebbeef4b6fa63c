import path from 'node:path';
import { DescribeStreamSummaryCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Call } from '../../fixtures/iam-service/functions/caller.ts';
import { startTestStack, type TestStack } from '../../support/test-stack.ts';

// The roles of serverless.yml, enforced by the local cloud on what each local Lambda calls: a fixture service
// (test/fixtures/iam-service) whose functions call S3, Kinesis, Step Functions and Lambda as the platform's do, and
// the product's own ingestion-gate-api role on the product stack.

interface Answer {
  ok: boolean;
  result?: Record<string, unknown>;
  accessKeyId?: string;
  name?: string;
  status?: number;
  message?: string;
}

let stack: TestStack;
let lambda: LambdaClient;

beforeAll(async () => {
  stack = await startTestStack(path.resolve('test/fixtures/iam-service'), 'iam');
  lambda = new LambdaClient({
    region: stack.state.region,
    endpoint: stack.state.endpoints.lambda,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  lambda?.destroy();
  await stack?.stop();
});

async function call(fn: string, request: Call): Promise<Answer> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: `iam-fixture-local-${fn}`, Payload: JSON.stringify(request) }),
  );
  return JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')) as Answer;
}

const machineArn = (name: string) => {
  const arn = stack.state.stateMachines.find((m) => m.name === name)?.arn;
  if (!arn) throw new Error(`no state machine ${name}`);
  return arn;
};

describe('IAM roles enforced on local Lambdas', () => {
  it('answers AccessDeniedException to a gateway role without kinesis:PutRecords; with it, the records land', async () => {
    const denied = await call('publisher-without-put', {
      op: 'putRecords',
      stream: 'iam-fixture.bus.events',
    });
    expect(denied).toMatchObject({ ok: false, name: 'AccessDeniedException', status: 400 });
    expect(denied.message).toContain(
      'assumed-role/iam-fixture-local-publisher-without-put/iam-fixture-local-publisher-without-put is not ' +
        'authorized to perform: kinesis:PutRecords on resource: ' +
        'arn:aws:kinesis:us-east-1:000000000000:stream/iam-fixture.bus.events',
    );
    // what that role does grant still works
    expect(
      await call('publisher-without-put', { op: 'describeStream', stream: 'iam-fixture.bus.events' }),
    ).toMatchObject({
      ok: true,
      result: { status: 'ACTIVE' },
    });

    const published = await call('publisher', { op: 'putRecords', stream: 'iam-fixture.bus.events' });
    expect(published).toMatchObject({
      ok: true,
      result: { failed: 0 },
      accessKeyId: 'iam-fixture-local-publisher',
    });
    // the grant is for iam-fixture.bus.* only
    expect(await call('publisher', { op: 'putRecords', stream: 'iam-fixture.other' })).toMatchObject({
      ok: false,
      name: 'AccessDeniedException',
    });
  });

  it('answers S3 AccessDenied (403) outside the role, and hides a missing key from a role that may not list', async () => {
    const key = `objects/${Date.now()}.txt`;
    expect(await call('reader', { op: 'putObject', key })).toMatchObject({
      ok: false,
      name: 'AccessDenied',
      status: 403,
    });
    expect(await call('publisher', { op: 'putObject', key })).toMatchObject({ ok: true });
    expect(await call('reader', { op: 'getObject', key })).toMatchObject({ ok: true, result: { body: key } });

    expect(await call('reader', { op: 'getObject', key: `${key}.missing` })).toMatchObject({
      ok: false,
      name: 'AccessDenied',
      status: 403,
    });
    expect(await call('lister', { op: 'getObject', key: `${key}.missing` })).toMatchObject({
      ok: false,
      name: 'NoSuchKey',
      status: 404,
    });
  });

  it('answers Step Functions AccessDeniedException (400) to a state machine the role denies', async () => {
    expect(
      await call('starter', { op: 'startExecution', stateMachineArn: machineArn('iam-fixture-target') }),
    ).toMatchObject({ ok: true });
    const denied = await call('starter', {
      op: 'startExecution',
      stateMachineArn: machineArn('iam-fixture-other'),
    });
    expect(denied).toMatchObject({ ok: false, name: 'AccessDeniedException', status: 400 });
    expect(denied.message).toContain('with an explicit deny in an identity-based policy');
  });

  it('answers Lambda AccessDeniedException (403) to an invoke of a function the role does not name', async () => {
    expect(await call('invoker', { op: 'invoke', functionName: 'iam-fixture-local-reader' })).toMatchObject({
      ok: true,
      result: { statusCode: 200 },
    });
    expect(
      await call('invoker', { op: 'invoke', functionName: 'iam-fixture-local-publisher' }),
    ).toMatchObject({
      ok: false,
      name: 'AccessDeniedException',
      status: 403,
    });
  });
});

describe("the product's roles on the product stack", () => {
  const { state } = inject('stack');
  const as = (accessKeyId: string) => ({
    region: state.region,
    credentials: { accessKeyId, secretAccessKey: 'local' },
  });
  const records = [{ PartitionKey: 'iam', Data: Buffer.from('{}') }];

  it('lets ingestion-gate-api publish to the bus and write the platform bucket, and nothing beyond its role', async () => {
    const gate = 'fraud-platform-local-ingestion-gate-api';
    const kinesis = new KinesisClient({
      ...as(gate),
      endpoint: state.endpoints.kinesis,
      requestHandler: new NodeHttpHandler(),
    });
    const s3 = new S3Client({ ...as(gate), endpoint: state.endpoints.s3, forcePathStyle: true });
    const put = await kinesis.send(
      new PutRecordsCommand({ StreamName: 'fp.bus.audit.v1', Records: records }),
    );
    expect(put.FailedRecordCount).toBe(0);
    const toControl = await kinesis
      .send(new PutRecordsCommand({ StreamName: 'sr-control-bus', Records: records }))
      .catch((e: unknown) => e as Error);
    expect((toControl as Error).name).toBe('AccessDeniedException');

    const key = `test/iam/${Date.now()}.json`;
    await s3.send(new PutObjectCommand({ Bucket: 'fraud-platform', Key: key, Body: '{}' }));
    const oracle = await s3
      .send(new PutObjectCommand({ Bucket: 'oracle-store', Key: key, Body: '{}' }))
      .catch((e: unknown) => e as Error);
    expect((oracle as Error).name).toBe('AccessDenied');

    // The test's own key is no role: it may do anything.
    const control = { StreamName: 'sr-control-bus' };
    const described = await kinesis
      .send(new DescribeStreamSummaryCommand(control))
      .catch((e: unknown) => e as Error);
    expect((described as Error).name).toBe('AccessDeniedException');
    const admin = new KinesisClient({
      ...as('test'),
      endpoint: state.endpoints.kinesis,
      requestHandler: new NodeHttpHandler(),
    });
    const summary = await admin.send(new DescribeStreamSummaryCommand(control));
    expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    for (const c of [kinesis, s3, admin]) c.destroy();
  });
});
