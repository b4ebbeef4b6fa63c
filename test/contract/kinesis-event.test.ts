import { KinesisDataStreamSchema } from '@aws-lambda-powertools/parser/schemas/kinesis';
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventRecordSize, toEventRecord } from '../../local/event-source-mapping/kinesis-event.ts';

const CTX = {
  shardId: 'shardId-000000000003',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/fraud-local-traffic',
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/fraud-local-score',
};

const SEQ = '49590338271490256608559692538361571095921575989136588898';

function sdkRecord(overrides: Partial<KinesisRecord> = {}): KinesisRecord {
  return {
    SequenceNumber: SEQ,
    PartitionKey: 'merchant-42',
    Data: new TextEncoder().encode(JSON.stringify({ event_id: 'e-1', amount: 12.5 })),
    ApproximateArrivalTimestamp: new Date('2026-01-01T00:00:00.500Z'),
    ...overrides,
  };
}

describe('toEventRecord (contract: the Lambda Kinesis event)', () => {
  it('is the record AWS delivers, field for field', () => {
    expect(toEventRecord(sdkRecord(), CTX)).toEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'merchant-42',
        sequenceNumber: SEQ,
        data: Buffer.from('{"event_id":"e-1","amount":12.5}').toString('base64'),
        approximateArrivalTimestamp: 1767225600.5,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000003:${SEQ}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: CTX.invokeIdentityArn,
      awsRegion: 'us-east-1',
      eventSourceARN: CTX.streamArn,
    });
  });

  it("wrapped as {Records:[...]} parses with Powertools' KinesisDataStreamSchema, data decoded to the JSON sent", () => {
    const event = {
      Records: [toEventRecord(sdkRecord(), CTX), toEventRecord(sdkRecord({ SequenceNumber: '2' }), CTX)],
    };
    const parsed = KinesisDataStreamSchema.parse(event);
    expect(parsed.Records).toHaveLength(2);
    expect(parsed.Records[0]?.kinesis.data).toEqual({ event_id: 'e-1', amount: 12.5 });
    expect(parsed.Records[0]?.eventID).toBe(`shardId-000000000003:${SEQ}`);
    expect(parsed.Records[1]?.eventID).toBe('shardId-000000000003:2');
    expect(parsed.Records[0]?.kinesis.approximateArrivalTimestamp).toBe(1767225600.5);
  });

  it('approximateArrivalTimestamp is epoch seconds with millisecond precision', () => {
    const at = (iso: string) =>
      toEventRecord(sdkRecord({ ApproximateArrivalTimestamp: new Date(iso) }), CTX).kinesis
        .approximateArrivalTimestamp;
    expect(at('2026-01-01T00:00:00.500Z')).toBe(1767225600.5);
    expect(at('1970-01-01T00:00:01.000Z')).toBe(1);
    expect(at('2020-12-09T07:04:35.123Z')).toBeCloseTo(1607497475.123, 6);
  });

  it('eventID is shardId:sequenceNumber for any shard and sequence', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^shardId-\d{12}$/), fc.stringMatching(/^\d{1,56}$/), (shardId, seq) => {
        const r = toEventRecord(sdkRecord({ SequenceNumber: seq }), { ...CTX, shardId });
        expect(r.eventID).toBe(`${shardId}:${seq}`);
        expect(r.kinesis.sequenceNumber).toBe(seq);
      }),
    );
  });

  it('data round-trips through base64 for arbitrary bytes, and the event still parses with Powertools', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = toEventRecord(sdkRecord({ Data: bytes }), CTX);
        expect(r.kinesis.data).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
        expect(new Uint8Array(Buffer.from(r.kinesis.data, 'base64'))).toEqual(bytes);
        expect(KinesisDataStreamSchema.safeParse({ Records: [r] }).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('eventRecordSize is the byte length of the record as JSON (multi-byte text counted in bytes)', () => {
    const r = toEventRecord(sdkRecord({ PartitionKey: 'clé-€' }), CTX);
    expect(eventRecordSize(r)).toBe(Buffer.byteLength(JSON.stringify(r), 'utf8'));
    expect(eventRecordSize(r)).toBeGreaterThan(JSON.stringify(r).length);
  });
});
