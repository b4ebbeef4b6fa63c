import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import {
  type EventContext,
  eventRecordSize,
  type KinesisEventRecord,
  toEventRecord,
} from './kinesis-event.ts';

/** A record read from a shard, with what the mapping needs to batch, order and age it. */
export interface StreamRecord {
  sequenceNumber: string;
  partitionKey: string;
  arrival: Date;
  event: KinesisEventRecord;
  /** Bytes this record adds to an invocation payload. */
  size: number;
}

export function streamRecord(r: KinesisRecord, ctx: EventContext): StreamRecord {
  const event = toEventRecord(r, ctx);
  return {
    sequenceNumber: event.kinesis.sequenceNumber,
    partitionKey: event.kinesis.partitionKey,
    arrival: r.ApproximateArrivalTimestamp ?? new Date(),
    event,
    size: eventRecordSize(event) + 1,
  };
}

/** Kinesis sequence numbers are decimal strings beyond 2^53: compare them as BigInt. */
export function compareSequence(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
