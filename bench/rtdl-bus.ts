import { createHash } from 'node:crypto';
import { type KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  GetEventSourceMappingCommand,
  InvokeCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { parseJsonLossless } from '../lib/contracts/canonical-json.ts';
import { waitFor } from './esm-latency.ts';
import type { Backlog } from './rtdl-world.ts';

/**
 * The bus side of `npm run bench -- rtdl` (bench/rtdl.ts): a backlog put on a stack's Kinesis streams shard by shard
 * (a partition key that lands on each shard), where it ends on each (topic, shard), and the event-source mappings
 * listed, enabled and disabled through Lambda's API (answered by the local poller), and a function invoked.
 */

/** A partition key that lands on each shard of `stream` (Kinesis: MD5 of the key within the shard's hash range). */
export async function keysByShard(kinesis: KinesisClient, stream: string): Promise<string[]> {
  const shards = ((await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []).sort(
    (a, b) => String(a.ShardId).localeCompare(String(b.ShardId)),
  );
  return shards.map((s) =>
    partitionKeyIn(BigInt(s.HashKeyRange?.StartingHashKey ?? 0), BigInt(s.HashKeyRange?.EndingHashKey ?? 0)),
  );
}

/** The first `rtdl-<k>` whose MD5 (as Kinesis hashes a partition key) lies in [lo, hi]. */
export function partitionKeyIn(lo: bigint, hi: bigint): string {
  for (let k = 0; ; k++) {
    const key = `rtdl-${k}`;
    const hash = BigInt(`0x${createHash('md5').update(key).digest('hex')}`);
    if (hash >= lo && hash <= hi) return key;
  }
}

/** Where the backlog ends: the last sequence number put on each (topic, partition). */
export type Ends = Array<{ topic: string; partition: number; offset: string; records: number }>;

const partitionOfShard = (shardId: string) => Number(/([0-9]+)$/.exec(shardId)?.[1] ?? -1);

async function putRecords(
  kinesis: KinesisClient,
  stream: string,
  records: Array<{ data: Buffer; shard: number }>,
  keys: string[],
): Promise<Map<string, { offset: string; records: number }>> {
  const ends = new Map<string, { offset: string; records: number }>();
  for (let i = 0; i < records.length; i += 500) {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: records
          .slice(i, i + 500)
          .map((r) => ({ PartitionKey: keys[r.shard] as string, Data: r.data })),
      }),
    );
    if (out.FailedRecordCount) throw new Error(`PutRecords on ${stream}: ${out.FailedRecordCount} failed`);
    for (const r of out.Records ?? []) {
      const shard = r.ShardId as string;
      const end = ends.get(shard);
      ends.set(shard, { offset: r.SequenceNumber as string, records: (end?.records ?? 0) + 1 });
    }
  }
  return ends;
}

/** Puts each topic's records of the backlog on its stream; answers where the backlog ends. */
export async function putBacklog(kinesis: KinesisClient, backlog: Backlog): Promise<Ends> {
  const ends: Ends = [];
  for (const [topic, records] of backlog.topics) {
    const keys = await keysByShard(kinesis, topic);
    for (const [shardId, end] of await putRecords(kinesis, topic, records, keys))
      ends.push({ topic, partition: partitionOfShard(shardId), ...end });
  }
  return ends;
}

/** An event-source mapping as the bench reads it. */
export interface Mapping {
  uuid: string;
  functionName: string;
  topic: string;
  batchSize: number;
  windowSeconds: number;
}

export async function listMappings(esm: LambdaClient): Promise<Mapping[]> {
  const out = await esm.send(new ListEventSourceMappingsCommand({}));
  return (out.EventSourceMappings ?? []).map((m) => ({
    uuid: m.UUID as string,
    functionName: String(m.FunctionArn).split(':function:')[1] ?? String(m.FunctionArn),
    topic: String(m.EventSourceArn).split(':stream/')[1] ?? '',
    batchSize: m.BatchSize ?? 0,
    windowSeconds: m.MaximumBatchingWindowInSeconds ?? 0,
  }));
}

/** Sends the updates at once; with `settle`, waits until every mapping has stopped (or started) its consumers. */
export async function setEnabled(esm: LambdaClient, mappings: Mapping[], enabled: boolean, settle: boolean) {
  await Promise.all(
    mappings.map((m) => esm.send(new UpdateEventSourceMappingCommand({ UUID: m.uuid, Enabled: enabled }))),
  );
  if (!settle) return;
  const wanted = enabled ? 'Enabled' : 'Disabled';
  await waitFor(`${mappings.length} mappings ${wanted}`, 60, async () => {
    const states = await Promise.all(
      mappings.map(async (m) => (await esm.send(new GetEventSourceMappingCommand({ UUID: m.uuid }))).State),
    );
    return states.every((s) => s === wanted);
  });
}

/** Invokes `fn` with `payload`; a function error throws with the start of its answer. */
export async function invoke(lambda: LambdaClient, fn: string, payload: unknown): Promise<unknown> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError) throw new Error(`${fn} failed: ${text.slice(0, 300)}`);
  return parseJsonLossless(text);
}
