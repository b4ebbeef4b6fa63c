import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { parseJsonLossless } from '../../lib/contracts/canonical-json.ts';

/** Reading Kinesis streams of a local cloud back in tests: every record from TRIM_HORIZON, or one by its eb_ref. */

export interface StreamRecord {
  stream: string;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** The record's bytes as UTF-8. */
  data: string;
}

/** Every record of a stream, all shards from TRIM_HORIZON, in shard then sequence order. */
export async function readStream(kinesis: KinesisClient, stream: string): Promise<StreamRecord[]> {
  const found: StreamRecord[] = [];
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    const shardId = shard.ShardId ?? '';
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    let iterator = ShardIterator;
    for (let i = 0; i < 100 && iterator; i++) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? [])
        found.push({
          stream,
          shardId,
          sequenceNumber: r.SequenceNumber ?? '',
          partitionKey: r.PartitionKey ?? '',
          data: Buffer.from(r.Data ?? new Uint8Array()).toString('utf8'),
        });
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return found;
}

/** The envelope a data-stream record carries (the record is the envelope, §6), parsed losslessly. */
export interface BusEnvelope {
  event_id: string;
  event_type: string;
  platform_run_id?: string;
  [field: string]: unknown;
}

/** Every envelope of `platformRunId` on the given streams, with the record it came in. */
export async function runEnvelopes(
  kinesis: KinesisClient,
  streams: readonly string[],
  platformRunId: string,
): Promise<Array<{ record: StreamRecord; envelope: BusEnvelope }>> {
  const out: Array<{ record: StreamRecord; envelope: BusEnvelope }> = [];
  for (const stream of streams) {
    for (const record of await readStream(kinesis, stream)) {
      let envelope: BusEnvelope;
      try {
        envelope = parseJsonLossless(record.data) as BusEnvelope;
      } catch {
        continue; // not an envelope of any run (the RTDL tests put malformed bytes on the shared bus)
      }
      if (envelope?.platform_run_id === platformRunId) out.push({ record, envelope });
    }
  }
  return out;
}

/** The record an IG receipt's `eb_ref` points at (AT_SEQUENCE_NUMBER on its shard). */
export async function recordAt(
  kinesis: KinesisClient,
  ebRef: { topic: string; partition: number; offset: string },
): Promise<StreamRecord | undefined> {
  const shardId = `shardId-${String(ebRef.partition).padStart(12, '0')}`;
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: ebRef.topic,
      ShardId: shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: ebRef.offset,
    }),
  );
  const r = (await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }))).Records?.[0];
  if (!r) return undefined;
  return {
    stream: ebRef.topic,
    shardId,
    sequenceNumber: r.SequenceNumber ?? '',
    partitionKey: r.PartitionKey ?? '',
    data: Buffer.from(r.Data ?? new Uint8Array()).toString('utf8'),
  };
}
