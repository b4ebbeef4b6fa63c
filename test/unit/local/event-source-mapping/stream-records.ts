import { type StreamRecord, streamRecord } from '../../../../local/event-source-mapping/stream-record.ts';

/** Record factories for the event-source-mapping cores: realistic shard ids and sequence numbers. */

export const SHARD_ID = 'shardId-000000000001';
export const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/fraud-local-traffic';

/** A real Kinesis sequence number (56 digits, beyond 2^53); offsets are added as BigInt. */
export const BASE_SEQUENCE = 49590338271490256608559692538361571095921575989136588898n;

export const sequenceAt = (offset: number | bigint): string => String(BASE_SEQUENCE + BigInt(offset));

export interface RecordSpec {
  sequenceNumber: string;
  partitionKey?: string;
  arrival?: Date;
  data?: unknown;
}

export function record(spec: RecordSpec): StreamRecord {
  return streamRecord(
    {
      SequenceNumber: spec.sequenceNumber,
      PartitionKey: spec.partitionKey ?? 'merchant-1',
      Data: new TextEncoder().encode(JSON.stringify(spec.data ?? { seq: spec.sequenceNumber })),
      ApproximateArrivalTimestamp: spec.arrival ?? new Date('2026-01-01T00:00:00.000Z'),
    },
    {
      shardId: SHARD_ID,
      streamArn: STREAM_ARN,
      region: 'us-east-1',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/fraud-local-score-role',
    },
  );
}

/** `n` records in stream order, sequence numbers 1000 apart, all of one partition key unless given. */
export function records(
  n: number,
  partitionKeyOf: (i: number) => string = () => 'merchant-1',
): StreamRecord[] {
  return Array.from({ length: n }, (_, i) =>
    record({ sequenceNumber: sequenceAt(i * 1000), partitionKey: partitionKeyOf(i) }),
  );
}
