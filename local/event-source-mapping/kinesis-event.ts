import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';

/** The event Lambda receives from a Kinesis event-source mapping, field for field as AWS builds it. */
export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: '1.0';
    partitionKey: string;
    sequenceNumber: string;
    data: string;
    approximateArrivalTimestamp: number;
  };
  eventSource: 'aws:kinesis';
  eventVersion: '1.0';
  eventID: string;
  eventName: 'aws:kinesis:record';
  invokeIdentityArn: string;
  awsRegion: string;
  eventSourceARN: string;
}

export interface EventContext {
  shardId: string;
  streamArn: string;
  region: string;
  /** The execution role the mapping invokes with. */
  invokeIdentityArn: string;
}

export function toEventRecord(record: KinesisRecord, ctx: EventContext): KinesisEventRecord {
  const seq = record.SequenceNumber ?? '';
  const arrival = record.ApproximateArrivalTimestamp ?? new Date();
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: seq,
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      // epoch seconds with millisecond precision, as AWS sends it
      approximateArrivalTimestamp: arrival.getTime() / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${ctx.shardId}:${seq}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: ctx.invokeIdentityArn,
    awsRegion: ctx.region,
    eventSourceARN: ctx.streamArn,
  };
}

/** Size of a record in a batch as Lambda counts it towards the 6 MB payload cap (its JSON form). */
export function eventRecordSize(r: KinesisEventRecord): number {
  return Buffer.byteLength(JSON.stringify(r));
}
