import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  GetEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointStore } from '../../../../local/event-source-mapping/checkpoint-store.ts';
import {
  answerMappingApi,
  type MappingControl,
  type MappingPatch,
  type MappingView,
  parseUpdate,
} from '../../../../local/event-source-mapping/mapping-api.ts';
import type { MappingConfig } from '../../../../local/event-source-mapping/mapping-config.ts';
import { EventSourceMappingPoller } from '../../../../local/event-source-mapping/poller.ts';

const mapping = (fn: string, stream: string, enabled = true): MappingConfig => ({
  uuid: `uuid-${fn}`,
  functionName: fn,
  functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`,
  functionTimeoutMs: 30_000,
  streamName: stream,
  streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`,
  batchSize: 10,
  batchWindowMs: 0,
  startingPosition: 'TRIM_HORIZON',
  startingPositionTimestamp: undefined,
  enabled,
  maximumRetryAttempts: -1,
  maximumRecordAgeSeconds: -1,
  bisectBatchOnFunctionError: false,
  parallelizationFactor: 1,
  reportBatchItemFailures: true,
  onFailure: { kind: 's3', arn: 'arn:aws:s3:::failures', bucket: 'failures' },
  unsupported: [],
});

/** The poller as the API sees it, switching at once. */
function fakeControl(configs: MappingConfig[]): MappingControl & { patches: MappingPatch[] } {
  const patches: MappingPatch[] = [];
  const view = (config: MappingConfig): MappingView => ({
    config,
    state: config.enabled ? 'Enabled' : 'Disabled',
    lastModifiedMs: 1_700_000_000_000,
  });
  return {
    patches,
    views: () => configs.map(view),
    update(uuid, patch) {
      const config = configs.find((c) => c.uuid === uuid);
      if (!config) return undefined;
      patches.push(patch);
      if (patch.batchSize !== undefined) config.batchSize = patch.batchSize;
      if (patch.enabled === undefined || patch.enabled === config.enabled) return view(config);
      config.enabled = patch.enabled;
      return { ...view(config), state: patch.enabled ? 'Enabling' : 'Disabling' };
    },
  };
}

const control = fakeControl([
  mapping('ready-consumer', 'sr-control-bus'),
  mapping('archive', 'fp.bus.traffic.fraud.v1', false),
]);
let server: http.Server;
let client: LambdaClient;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const answer = answerMappingApi(control, req.method ?? 'GET', req.url ?? '', body);
      res.writeHead(answer?.status ?? 404, {
        'content-type': 'application/json',
        ...(answer?.errorType ? { 'x-amzn-errortype': answer.errorType } : {}),
      });
      res.end(JSON.stringify(answer?.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  client = new LambdaClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});
afterAll(() => {
  client?.destroy();
  server?.close();
});

const FIELDS = [
  'BatchSize',
  'BisectBatchOnFunctionError',
  'DestinationConfig',
  'EventSourceArn',
  'FunctionArn',
  'FunctionResponseTypes',
  'LastModified',
  'MaximumBatchingWindowInSeconds',
  'MaximumRecordAgeInSeconds',
  'MaximumRetryAttempts',
  'ParallelizationFactor',
  'StartingPosition',
  'State',
  'StateTransitionReason',
  'UUID',
];

describe('the event-source-mapping API of the local poller, through the AWS SDK', () => {
  it('ListEventSourceMappings: AWS shape, filtered by function name or ARN', async () => {
    const all = await client.send(new ListEventSourceMappingsCommand({}));
    expect(all.EventSourceMappings?.map((m) => [m.FunctionArn?.split(':').at(-1), m.State])).toEqual([
      ['ready-consumer', 'Enabled'],
      ['archive', 'Disabled'],
    ]);
    const one = await client.send(new ListEventSourceMappingsCommand({ FunctionName: 'ready-consumer' }));
    expect(one.EventSourceMappings).toHaveLength(1);
    expect(one.EventSourceMappings?.[0]).toMatchObject({
      EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/sr-control-bus',
      BatchSize: 10,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:s3:::failures' } },
      StateTransitionReason: 'USER_INITIATED',
    });
    expect(one.EventSourceMappings?.[0]?.LastModified).toEqual(new Date(1_700_000_000_000));
    const byArn = await client.send(
      new ListEventSourceMappingsCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:archive',
      }),
    );
    expect(byArn.EventSourceMappings?.[0]?.State).toBe('Disabled');
  });

  it('GetEventSourceMapping answers the fields of the list; an unknown UUID is ResourceNotFoundException (404)', async () => {
    const got = await client.send(new GetEventSourceMappingCommand({ UUID: 'uuid-ready-consumer' }));
    const { $metadata, ...fields } = got;
    expect($metadata.httpStatusCode).toBe(200);
    expect(Object.keys(fields).sort()).toEqual(FIELDS);
    const listed = await client.send(new ListEventSourceMappingsCommand({ FunctionName: 'ready-consumer' }));
    expect(fields).toEqual(listed.EventSourceMappings?.[0]);
    const missing = await client
      .send(new GetEventSourceMappingCommand({ UUID: 'no-such-uuid' }))
      .catch((e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });
    expect((missing as Error).name).toBe('ResourceNotFoundException');
    expect((missing as Error).message).toContain('no-such-uuid');
    expect((missing as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(404);
  });

  it('UpdateEventSourceMapping: 202, Disabling while switching, Updating for a change of settings', async () => {
    const off = await client.send(
      new UpdateEventSourceMappingCommand({ UUID: 'uuid-ready-consumer', Enabled: false, BatchSize: 3 }),
    );
    expect(off.$metadata.httpStatusCode).toBe(202);
    expect(off).toMatchObject({ UUID: 'uuid-ready-consumer', State: 'Disabling', BatchSize: 3 });
    expect(control.patches.at(-1)).toEqual({ enabled: false, batchSize: 3 });
    const settings = await client.send(
      new UpdateEventSourceMappingCommand({ UUID: 'uuid-ready-consumer', MaximumBatchingWindowInSeconds: 5 }),
    );
    expect(settings.State).toBe('Updating');
    expect(control.patches.at(-1)).toEqual({ batchWindowMs: 5000 });
    const on = await client.send(
      new UpdateEventSourceMappingCommand({ UUID: 'uuid-ready-consumer', Enabled: true }),
    );
    expect(on.State).toBe('Enabling');
    const missing = await client
      .send(new UpdateEventSourceMappingCommand({ UUID: 'no-such-uuid', Enabled: true }))
      .catch((e: unknown) => e);
    expect((missing as Error).name).toBe('ResourceNotFoundException');
  });

  it('refuses values out of AWS’s ranges with InvalidParameterValueException (400), changing nothing', async () => {
    const before = control.patches.length;
    for (const input of [
      { BatchSize: 10_001 },
      { MaximumBatchingWindowInSeconds: 301 },
      { MaximumRetryAttempts: -2 },
      { MaximumRecordAgeInSeconds: 59 },
      { ParallelizationFactor: 2 },
    ]) {
      const refused = (await client
        .send(new UpdateEventSourceMappingCommand({ UUID: 'uuid-archive', ...input }))
        .catch((e: unknown) => e)) as Error & { $metadata?: { httpStatusCode?: number } };
      expect(refused.name, JSON.stringify(input)).toBe('InvalidParameterValueException');
      expect(refused.$metadata?.httpStatusCode).toBe(400);
    }
    expect(control.patches.length).toBe(before);
  });
});

describe('parsing an UpdateEventSourceMapping body', () => {
  it('maps AWS’s members to the poller’s units', () => {
    expect(
      parseUpdate(
        JSON.stringify({
          Enabled: true,
          BatchSize: 10_000,
          MaximumBatchingWindowInSeconds: 300,
          MaximumRetryAttempts: -1,
          MaximumRecordAgeInSeconds: 604_800,
          BisectBatchOnFunctionError: true,
        }),
      ),
    ).toEqual({
      patch: {
        enabled: true,
        batchSize: 10_000,
        batchWindowMs: 300_000,
        maximumRetryAttempts: -1,
        maximumRecordAgeSeconds: 604_800,
        bisectBatchOnFunctionError: true,
      },
    });
    expect(parseUpdate('')).toEqual({ patch: {} });
    expect(parseUpdate('{"BatchSize":1,"MaximumBatchingWindowInSeconds":0}')).toEqual({
      patch: { batchSize: 1, batchWindowMs: 0 },
    });
  });

  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['a batch size of 0', '{"BatchSize":0}', /BatchSize/],
    ['a fractional batch size', '{"BatchSize":1.5}', /BatchSize/],
    ['a window of 301 s', '{"MaximumBatchingWindowInSeconds":301}', /MaximumBatchingWindowInSeconds/],
    ['Enabled as a string', '{"Enabled":"false"}', /Enabled/],
    ['a member serverless.yml sets', '{"DestinationConfig":{}}', /DestinationConfig: not changeable/],
    ['an array', '[]', /\(body\)/],
  ])('refuses %s', (_, body, message) => {
    const out = parseUpdate(body);
    expect('invalid' in out && out.invalid).toMatchObject({
      status: 400,
      errorType: 'InvalidParameterValueException',
      body: { Type: 'User', Message: expect.stringMatching(message) },
    });
  });

  it('answers nothing for other paths, and refuses Create/Delete', () => {
    expect(answerMappingApi(control, 'GET', '/status', '')).toBeUndefined();
    expect(answerMappingApi(control, 'POST', '/2015-03-31/event-source-mappings/', '{}')?.status).toBe(400);
    expect(
      answerMappingApi(control, 'DELETE', '/2015-03-31/event-source-mappings/uuid-archive', ''),
    ).toMatchObject({
      status: 400,
      errorType: 'InvalidParameterValueException',
    });
  });
});

describe('the poller switching a mapping', () => {
  const quietKinesis = { send: async () => ({ Shards: [] }) } as unknown as KinesisClient;
  const noCheckpoints = {} as CheckpointStore;
  const poller = () =>
    new EventSourceMappingPoller([mapping('f', 's')], {
      kinesis: quietKinesis,
      lambda: {} as never,
      s3: {} as never,
      checkpoints: noCheckpoints,
      region: 'us-east-1',
      accountId: '000000000000',
      failureDir: '/nonexistent',
    });
  const settled = async (p: EventSourceMappingPoller) => {
    for (let i = 0; i < 100 && !['Enabled', 'Disabled'].includes(p.views()[0]?.state ?? ''); i++)
      await new Promise((r) => setImmediate(r));
    return p.views()[0];
  };

  it('is Disabling until its consumers have stopped, then Disabled; a batch size applies to its config at once', async () => {
    const p = poller();
    await p.start();
    const view = p.update('uuid-f', { enabled: false, batchSize: 7 });
    expect(view).toMatchObject({ state: 'Disabling', config: { enabled: false, batchSize: 7 } });
    expect((await settled(p))?.state).toBe('Disabled');
    expect(p.update('nope', { enabled: true })).toBeUndefined();
    await p.stop();
  });

  it('ends in the state last asked for when switches follow one another', async () => {
    const p = poller();
    await p.start();
    p.update('uuid-f', { enabled: false });
    p.update('uuid-f', { enabled: true });
    expect(p.views()[0]?.state).toBe('Enabling');
    expect((await settled(p))?.state).toBe('Enabled');
    p.update('uuid-f', { enabled: false });
    p.update('uuid-f', { enabled: true });
    p.update('uuid-f', { enabled: false });
    expect((await settled(p))?.state).toBe('Disabled');
    await p.stop();
  });
});
