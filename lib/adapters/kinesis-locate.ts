import { createHash } from 'node:crypto';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import type { BusRecord, Located } from '../ingestion-gate/ports.ts';

/**
 * Finds records already on a Kinesis stream, byte for byte, for the gate's in-doubt publishes (a publisher that
 * died, or lost its answer, between PutRecords and recording where the record went). Each record's shard is the
 * one whose hash key range holds md5(partition key); each such shard is read once from AT_TIMESTAMP (the earliest
 * `since`, less a minute of clock skew) to its tip. Bounded: at most `maxCalls` GetRecords per shard.
 */

const SKEW_MS = 60_000;

function hashKey(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}

function shardFor(shards: readonly Shard[], partitionKey: string): string | undefined {
  const h = hashKey(partitionKey);
  const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
  for (const s of open.length > 0 ? open : shards) {
    const range = s.HashKeyRange;
    if (range?.StartingHashKey && range.EndingHashKey) {
      if (h >= BigInt(range.StartingHashKey) && h <= BigInt(range.EndingHashKey)) return s.ShardId;
    }
  }
  return undefined;
}

export async function locateRecords(
  kinesis: KinesisClient,
  stream: string,
  records: readonly (BusRecord & { since: Date })[],
  maxCalls = 200,
): Promise<Map<number, Located>> {
  const found = new Map<number, Located>();
  if (records.length === 0) return found;
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const byShard = new Map<string, number[]>();
  records.forEach((r, i) => {
    const shard = shardFor(shards, r.partitionKey);
    if (!shard) return;
    const group = byShard.get(shard);
    if (group) group.push(i);
    else byShard.set(shard, [i]);
  });
  for (const [shardId, indexes] of byShard) {
    const wanted = new Map<string, number[]>();
    for (const i of indexes) {
      const data = (records[i] as BusRecord).data;
      wanted.set(data, [...(wanted.get(data) ?? []), i]);
    }
    const since = Math.min(...indexes.map((i) => (records[i] as { since: Date }).since.getTime())) - SKEW_MS;
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shardId,
          ShardIteratorType: 'AT_TIMESTAMP',
          Timestamp: new Date(since),
        }),
      )
    ).ShardIterator;
    for (let call = 0; call < maxCalls && iterator && wanted.size > 0; call++) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        const data = Buffer.from(r.Data ?? new Uint8Array()).toString('utf8');
        const hits = wanted.get(data);
        if (!hits) continue;
        wanted.delete(data);
        for (const i of hits) found.set(i, { shardId, sequenceNumber: r.SequenceNumber ?? '' });
      }
      if ((out.Records ?? []).length === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return found;
}
