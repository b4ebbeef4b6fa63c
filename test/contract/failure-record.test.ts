import { KinesisDataStreamSchema } from '@aws-lambda-powertools/parser/schemas/kinesis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type FailureContext,
  failureObjectKey,
  failureRecord,
} from '../../local/event-source-mapping/failure-record.ts';
import type { MappingConfig } from '../../local/event-source-mapping/mapping-config.ts';
import {
  record,
  SHARD_ID,
  STREAM_ARN,
  sequenceAt,
} from '../unit/local/event-source-mapping/stream-records.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const MAPPING: MappingConfig = {
  uuid: '3f1c2a9e-7b4d-5e21-a8c3-0d9e6f4b2a17',
  functionName: 'fraud-local-score',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fraud-local-score',
  functionTimeoutMs: 6000,
  streamName: 'fraud-local-traffic',
  streamArn: STREAM_ARN,
  batchSize: 100,
  batchWindowMs: 0,
  startingPosition: 'TRIM_HORIZON',
  startingPositionTimestamp: undefined,
  enabled: true,
  maximumRetryAttempts: 2,
  maximumRecordAgeSeconds: -1,
  bisectBatchOnFunctionError: false,
  parallelizationFactor: 1,
  reportBatchItemFailures: true,
  onFailure: { kind: 's3', arn: 'arn:aws:s3:::fraud-local-failures', bucket: 'fraud-local-failures' },
  unsupported: [],
};

const AT = new Date('2026-03-01T02:04:05.678Z');

const BATCH = [
  record({
    sequenceNumber: sequenceAt(0),
    partitionKey: 'merchant-7',
    arrival: new Date('2026-03-01T02:00:00.250Z'),
    data: { event_id: 'e-1', amount: 12.5 },
  }),
  record({
    sequenceNumber: sequenceAt(5000),
    partitionKey: 'merchant-8',
    arrival: new Date('2026-03-01T02:00:01.000Z'),
    data: { event_id: 'e-2', amount: 99 },
  }),
  record({
    sequenceNumber: sequenceAt(9000),
    partitionKey: 'merchant-7',
    arrival: new Date('2026-03-01T02:00:02.500Z'),
    data: { event_id: 'e-3', amount: 1 },
  }),
];

const context = (c: Partial<FailureContext> = {}): FailureContext => ({
  mapping: MAPPING,
  shardId: SHARD_ID,
  condition: 'RetryAttemptsExhausted',
  invokeCount: 3,
  lastError: 'Unhandled: boom',
  at: AT,
  ...c,
});

/** The record as the destination receives it (JSON, where undefined fields vanish). */
const wire = (c: Partial<FailureContext> = {}) =>
  JSON.parse(JSON.stringify(failureRecord(BATCH, context(c))));

describe('failureRecord (contract: the on-failure record of a Kinesis mapping)', () => {
  it('has exactly the AWS fields, with the batch info of the records given up on', () => {
    const r = wire();
    expect(Object.keys(r).sort()).toEqual(
      ['KinesisBatchInfo', 'payload', 'requestContext', 'responseContext', 'timestamp', 'version'].sort(),
    );
    expect(Object.keys(r.requestContext).sort()).toEqual(
      ['approximateInvokeCount', 'condition', 'functionArn', 'requestId'].sort(),
    );
    expect(r.requestContext).toEqual({
      requestId: expect.stringMatching(UUID),
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fraud-local-score',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 3,
    });
    expect(r.responseContext).toEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    expect(r.version).toBe('1.0');
    expect(r.timestamp).toMatch(ISO);
    expect(r.timestamp).toBe('2026-03-01T02:04:05.678Z');
    expect(r.KinesisBatchInfo).toEqual({
      shardId: SHARD_ID,
      startSequenceNumber: sequenceAt(0),
      endSequenceNumber: sequenceAt(9000),
      approximateArrivalOfFirstRecord: '2026-03-01T02:00:00.250Z',
      approximateArrivalOfLastRecord: '2026-03-01T02:00:02.500Z',
      batchSize: 3,
      streamArn: STREAM_ARN,
    });
  });

  it('every request gets its own requestId', () => {
    expect(wire().requestContext.requestId).not.toBe(wire().requestContext.requestId);
  });

  it('has no responseContext when the function was never invoked (RecordAgeExceeded before any invoke)', () => {
    const r = wire({ condition: 'RecordAgeExceeded', invokeCount: 0, lastError: undefined });
    expect('responseContext' in r).toBe(false);
    expect(r.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
  });

  it('reports a timeout as functionError TimedOut', () => {
    expect(wire({ lastError: 'timeout: no answer within 6000 ms' }).responseContext.functionError).toBe(
      'TimedOut',
    );
  });

  it("payload is the invocation's {Records:[...]}, parsing with Powertools' KinesisDataStreamSchema", () => {
    const payload = JSON.parse(wire().payload);
    expect(Object.keys(payload)).toEqual(['Records']);
    const parsed = KinesisDataStreamSchema.parse(payload);
    expect(parsed.Records.map((r) => r.kinesis.sequenceNumber)).toEqual([
      sequenceAt(0),
      sequenceAt(5000),
      sequenceAt(9000),
    ]);
    expect(parsed.Records.map((r) => r.kinesis.data)).toEqual([
      { event_id: 'e-1', amount: 12.5 },
      { event_id: 'e-2', amount: 99 },
      { event_id: 'e-3', amount: 1 },
    ]);
    expect(parsed.Records[1]).toMatchObject({
      eventID: `${SHARD_ID}:${sequenceAt(5000)}`,
      eventSourceARN: STREAM_ARN,
      kinesis: { partitionKey: 'merchant-8', approximateArrivalTimestamp: 1772330401 },
    });
  });

  it('refuses an empty batch', () => {
    expect(() => failureRecord([], context())).toThrow(/at least one record/);
  });
});

describe('failureObjectKey (contract: the S3 key AWS writes)', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  const KEY =
    /^aws\/lambda\/3f1c2a9e-7b4d-5e21-a8c3-0d9e6f4b2a17\/shardId-000000000001\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$/;

  it('is aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>', () => {
    const key = failureObjectKey(MAPPING.uuid, SHARD_ID, AT);
    expect(key).toMatch(KEY);
    expect(key.split('/').at(-1)?.slice(20)).toMatch(UUID);
  });

  it("uses the date's UTC parts, whatever the local time zone", () => {
    // 02:04 UTC on 1 March is still 28 February in Los Angeles
    process.env.TZ = 'America/Los_Angeles';
    expect(AT.getDate()).toBe(28);
    const key = failureObjectKey(MAPPING.uuid, SHARD_ID, AT);
    expect(key).toMatch(KEY);
    expect(key).toContain(`/${SHARD_ID}/2026/03/01/2026-03-01T02.04.05-`);
  });

  it('two failures in the same second get distinct keys', () => {
    expect(failureObjectKey(MAPPING.uuid, SHARD_ID, AT)).not.toBe(
      failureObjectKey(MAPPING.uuid, SHARD_ID, AT),
    );
  });
});
