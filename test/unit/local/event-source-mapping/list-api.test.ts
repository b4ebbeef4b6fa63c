import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEventSourceMappings } from '../../../../local/event-source-mapping/list-api.ts';
import type { MappingConfig } from '../../../../local/event-source-mapping/mapping-config.ts';

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
  onFailure: undefined,
  unsupported: [],
});

const mappings = [
  mapping('ready-consumer', 'sr-control-bus'),
  mapping('archive', 'fp.bus.traffic.fraud.v1', false),
];
let server: http.Server;
let client: LambdaClient;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const body = listEventSourceMappings(mappings, req.url ?? '');
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
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

describe('ListEventSourceMappings on the local poller', () => {
  it('answers the SDK in AWS shape, filtered by function name or ARN', async () => {
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
    });
    const byArn = await client.send(
      new ListEventSourceMappingsCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:archive',
      }),
    );
    expect(byArn.EventSourceMappings?.[0]?.State).toBe('Disabled');
  });

  it('other paths are not this API', () => {
    expect(listEventSourceMappings(mappings, '/status')).toBeUndefined();
  });
});
