import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type pg from 'pg';
import { toEventRecord } from '../local/event-source-mapping/kinesis-event.ts';
import { median, percentile, type Ratio, type Row, ratio, row, secondsSince } from './report.ts';

/**
 * The delivery-latency half of `npm run bench -- esm`: records sent one by one at a paced rate (PutRecord, the
 * producer's Date.now() in the record) into `esm-latency-1` (1 shard) and `esm-latency-4` (4 shards), each consumed
 * by a function that notes Date.now() when it is invoked (same machine, same clock); p50/p99 per shard count, beside
 * the floor: the same function invoked directly with a one-record event at the same pace (no Kinesis, no poller).
 */

export const FN = (key: string) => `esm-fixture-local-${key}`;

export async function waitFor(
  what: string,
  limitSeconds: number,
  done: () => Promise<boolean>,
  intervalMs = 50,
): Promise<void> {
  const t0 = performance.now();
  while (!(await done())) {
    if (secondsSince(t0) > limitSeconds) throw new Error(`${what}: not done within ${limitSeconds} s`);
    await sleep(intervalMs);
  }
}

const latencyData = (id: string, source: string) =>
  Buffer.from(JSON.stringify({ id, producedMs: Date.now(), source }));

/** Sends `n` records at `rate`/s (an absolute schedule, so a slow call does not shift the rest). */
async function paced(n: number, rate: number, send: (i: number) => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(send(i));
  }
  await Promise.all(pending);
}

interface LatencyFigures {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  meanBatchSize: number;
  shards: number;
}

async function latencies(db: pg.Pool, fn: string, source: string): Promise<LatencyFigures> {
  const r = await db.query<{ ms: number; batch_size: number; shard_id: string }>(
    'SELECT invoked_ms - produced_ms AS ms, batch_size, shard_id FROM esm_latency WHERE function_name = $1 AND source = $2',
    [fn, source],
  );
  const ms = r.rows.map((x) => Number(x.ms));
  return {
    n: ms.length,
    p50: percentile(ms, 50),
    p90: percentile(ms, 90),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    meanBatchSize: r.rows.reduce((a, b) => a + Number(b.batch_size), 0) / r.rows.length,
    shards: new Set(r.rows.map((x) => x.shard_id)).size,
  };
}

const countOf = async (db: pg.Pool, sql: string, params: unknown[]) =>
  Number((await db.query<{ n: string | null }>(sql, params)).rows[0]?.n ?? 0);

export interface LatencySize {
  latencyRecords: number;
  ratePerSecond: number;
  floorRecords: number;
}

export async function measureLatency({
  db,
  kinesis,
  lambda,
  size,
  add,
  ratios,
  rows,
  say,
}: {
  db: pg.Pool;
  kinesis: KinesisClient;
  lambda: LambdaClient;
  size: LatencySize;
  add: (r: Row) => Row;
  ratios: Ratio[];
  rows: Row[];
  say: (line: string) => void;
}): Promise<{ latency: Record<string, unknown> }> {
  // Latency: warm both functions (workers, pools) with a burst over every shard; not measured.
  for (const [fn, stream] of [
    ['latency1', 'esm-latency-1'],
    ['latency4', 'esm-latency-4'],
  ] as const) {
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: 32 }, (_, i) => ({
          PartitionKey: randomUUID(),
          Data: latencyData(`warm-${i}`, 'warm'),
        })),
      }),
    );
    await waitFor(
      `esm latency warm-up of ${fn}`,
      60,
      async () =>
        (await countOf(
          db,
          "SELECT count(*) AS n FROM esm_latency WHERE function_name = $1 AND source = 'warm'",
          [FN(fn)],
        )) >= 32,
    );
  }
  const shardCounts = [
    { fn: 'latency1', stream: 'esm-latency-1', shards: 1 },
    { fn: 'latency4', stream: 'esm-latency-4', shards: 4 },
  ];
  const perShardCount: Record<string, unknown> = {};
  for (const { fn, stream, shards } of shardCounts) {
    const m = size.latencyRecords;
    say(`  latency: ${m} records at ${size.ratePerSecond}/s into ${stream} (${shards} shard(s))`);
    const putMs: number[] = [];
    const t0 = performance.now();
    await paced(m, size.ratePerSecond, async (i) => {
      const t = performance.now();
      await kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: randomUUID(),
          Data: latencyData(`r-${i}`, 'esm'),
        }),
      );
      putMs.push(performance.now() - t);
    });
    await waitFor(
      `esm latency (${stream}, ${m} records)`,
      120,
      async () =>
        (await countOf(
          db,
          "SELECT count(*) AS n FROM esm_latency WHERE function_name = $1 AND source = 'esm'",
          [FN(fn)],
        )) >= m,
    );
    const f = await latencies(db, FN(fn), 'esm');
    perShardCount[`${shards}`] = { ...f, putRecordP50Ms: median(putMs), sendSeconds: secondsSince(t0) };
    const note = `${m} records at ${size.ratePerSecond}/s, PutRecord → handler invoked; ${f.shards} of ${shards} shards used, mean batch ${f.meanBatchSize.toFixed(1)}`;
    add(row(`esm delivery latency p50, ${shards} shard(s)`, f.p50, 'ms', note));
    add(row(`esm delivery latency p99, ${shards} shard(s)`, f.p99, 'ms', `max ${f.max} ms`));
  }

  // The floor: the function invoked directly with a one-record event at the same pace.
  const floorN = size.floorRecords;
  await paced(floorN, size.ratePerSecond, async (i) => {
    const event = {
      Records: [
        toEventRecord(
          {
            SequenceNumber: String(i),
            PartitionKey: 'direct',
            Data: latencyData(`d-${i}`, 'direct'),
            ApproximateArrivalTimestamp: new Date(),
          },
          {
            shardId: 'direct',
            streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/esm-latency-1',
            region: 'us-east-1',
            invokeIdentityArn: 'arn:aws:iam::000000000000:role/direct',
          },
        ),
      ],
    };
    await lambda.send(
      new InvokeCommand({ FunctionName: FN('latency1'), Payload: Buffer.from(JSON.stringify(event)) }),
    );
  });
  const d = await latencies(db, FN('latency1'), 'direct');
  const floorP50 = add(
    row(
      'direct invoke latency p50 (floor)',
      d.p50,
      'ms',
      `${floorN} one-record invokes at ${size.ratePerSecond}/s, InvokeCommand → handler invoked`,
    ),
  );
  const floorP99 = add(row('direct invoke latency p99 (floor)', d.p99, 'ms', `max ${d.max} ms`));
  for (const shards of [1, 4]) {
    const p50 = rows.find((r) => r.name === `esm delivery latency p50, ${shards} shard(s)`) as Row;
    const p99 = rows.find((r) => r.name === `esm delivery latency p99, ${shards} shard(s)`) as Row;
    ratios.push(
      ratio(p50, floorP50, 'delivery latency / direct invoke latency (1 = the poller adds nothing)'),
    );
    ratios.push(ratio(p99, floorP99, 'delivery latency / direct invoke latency'));
  }
  return { latency: { ...perShardCount, direct: d } };
}
