import { randomUUID } from 'node:crypto';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { describe, expect, inject, it } from 'vitest';
import { clientsFor } from '../../support/clients.ts';

const { state } = inject('stack');
const { kinesis } = clientsFor(state);
const stream = 'fp.bus.audit.v1';

describe('Kinesis emulator', () => {
  it('reads back what was put, in order, per shard', async () => {
    const run = randomUUID();
    const keys = ['k-a', 'k-b', 'k-c'];
    const records = Array.from({ length: 300 }, (_, i) => ({ key: keys[i % 3] ?? 'k-a', i }));
    for (let start = 0; start < records.length; start += 100) {
      const chunk = records.slice(start, start + 100);
      const out = await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: chunk.map((r) => ({
            PartitionKey: r.key,
            Data: Buffer.from(JSON.stringify({ run, key: r.key, i: r.i })),
          })),
        }),
      );
      expect(out.FailedRecordCount).toBe(0);
    }
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    const seen: Array<{ key: string; i: number }> = [];
    for (const shard of shards) {
      let iterator = (
        await kinesis.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      for (let empty = 0; iterator && empty < 2; ) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        iterator = out.NextShardIterator;
        const mine = (out.Records ?? [])
          .map((r) => JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString()))
          .filter((d) => d.run === run);
        seen.push(...mine);
        empty = (out.Records ?? []).length === 0 ? empty + 1 : 0;
      }
    }
    expect(seen).toHaveLength(records.length);
    for (const key of keys) {
      const order = seen.filter((s) => s.key === key).map((s) => s.i);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  });
});
