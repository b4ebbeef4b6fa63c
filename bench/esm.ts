import path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import pg from 'pg';
import { kinesisClient, lambdaClient } from '../lib/adapters/aws-clients.ts';
import { startEphemeralStack } from '../local/ephemeral-stack.ts';
import { toEventRecord } from '../local/event-source-mapping/kinesis-event.ts';
import { stackDown, stackUp } from '../local/stack.ts';
import { stackConfig } from '../local/stack-config.ts';
import { ESM_FIXTURE_SCHEMA } from '../test/fixtures/esm-service/schema.ts';
import { FN, measureLatency, waitFor } from './esm-latency.ts';
import { type Bench, type Ratio, type Row, ratio, row, secondsSince } from './report.ts';

/**
 * `npm run bench -- esm`: the local Kinesis event-source mappings (test/fixtures/esm-service) on a throwaway
 * stack.
 *
 * Throughput into the `throughput` function (batchSize 500, counts what it gets) from `esm-throughput` (2 shards):
 * - end to end with the producer running: first PutRecords to the last record counted (bounded by the producer,
 *   so compared with the PutRecords rate);
 * - the drain of a backlog: the same number of records put while the poller is stopped, then the poller started
 *   again; first invoke to the last invoke's end. Its ceiling is the raw kinesalite GetRecords rate of the same
 *   2 shards measured in the same run (every record delivered is first read); the Lambda invoke floor (the same
 *   function invoked directly with the same 500-record events, 2 in flight) is reported beside it.
 *
 * Delivery latency: bench/esm-latency.ts.
 */

const SIZES = {
  full: { throughputRecords: 20_000, latencyRecords: 600, ratePerSecond: 30, floorRecords: 200 },
  smoke: { throughputRecords: 2_000, latencyRecords: 40, ratePerSecond: 40, floorRecords: 20 },
};

/** The fixture's counter function and its stream (2 shards, batchSize 500): the drain below, and the ceiling of
 * `npm run bench -- rtdl`. */
export const THROUGHPUT_STREAM = 'esm-throughput';
export const THROUGHPUT_FN = FN('throughput');

/**
 * Puts `n` records on esm-throughput, 500 per PutRecords call: record i is `data(i)` under `partitionKey(i)`.
 * Answers the highest sequence number put on each shard.
 */
export async function putThroughputRecords(
  kinesis: KinesisClient,
  n: number,
  data: (i: number) => Uint8Array,
  partitionKey: (i: number) => string = (i) => `k${i % 101}`,
): Promise<Map<string, string>> {
  const last = new Map<string, string>();
  for (let i = 0; i < n; i += 500) {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: THROUGHPUT_STREAM,
        Records: Array.from({ length: Math.min(500, n - i) }, (_, j) => ({
          PartitionKey: partitionKey(i + j),
          Data: data(i + j),
        })),
      }),
    );
    if (out.FailedRecordCount)
      throw new Error(`PutRecords on ${THROUGHPUT_STREAM}: ${out.FailedRecordCount} failed`);
    for (const r of out.Records ?? [])
      if (r.ShardId && r.SequenceNumber) last.set(r.ShardId, r.SequenceNumber);
  }
  return last;
}

/**
 * What the throughput function has counted since esm_invocations was last emptied: records, invocations, and the
 * seconds from the first invoke's start to the last invoke's end (Postgres' clock).
 */
export async function throughputDelivered(db: pg.Pool) {
  const r = await db.query<{ n: string | null; calls: string; seconds: number | null }>(
    `SELECT sum(batch_size) AS n, count(*) AS calls, extract(epoch FROM max(ended_at) - min(started_at))::float8 AS seconds
     FROM esm_invocations WHERE function_name = $1`,
    [THROUGHPUT_FN],
  );
  return {
    records: Number(r.rows[0]?.n ?? 0),
    calls: Number(r.rows[0]?.calls ?? 0),
    seconds: Number(r.rows[0]?.seconds ?? 0),
  };
}

/** The raw kinesalite read rate of every shard of a stream from TRIM_HORIZON, shards read concurrently. */
async function getRecordsRate(kinesis: KinesisClient, stream: string, n: number): Promise<number> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const iterators = await Promise.all(
    shards.map(
      async (s) =>
        (
          await kinesis.send(
            new GetShardIteratorCommand({
              StreamName: stream,
              ShardId: s.ShardId,
              ShardIteratorType: 'TRIM_HORIZON',
            }),
          )
        ).ShardIterator,
    ),
  );
  let read = 0;
  const t0 = performance.now();
  await Promise.all(
    iterators.map(async (first) => {
      let iterator = first;
      while (iterator && read < n) {
        const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        if ((out.Records?.length ?? 0) === 0) break;
        read += out.Records?.length ?? 0;
        iterator = out.NextShardIterator;
      }
    }),
  );
  return read / secondsSince(t0);
}

/** Invokes `fn` directly with `n` records in Kinesis events of `batch`, `inFlight` at a time: records/s. */
export async function invokeFloorRate(
  lambda: LambdaClient,
  fn: string,
  n: number,
  batch: number,
  inFlight: number,
  data: Buffer,
): Promise<number> {
  const ctx = {
    shardId: 'shardId-000000000000',
    streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/esm-throughput',
    region: 'us-east-1',
    invokeIdentityArn: `arn:aws:iam::000000000000:role/${fn}-role`,
  };
  const event = (k: number) =>
    `{"Records":[${Array.from({ length: batch }, (_, j) =>
      JSON.stringify(
        toEventRecord(
          {
            SequenceNumber: String(49_000_000_000 + k * batch + j),
            PartitionKey: `k${j % 101}`,
            Data: data,
            ApproximateArrivalTimestamp: new Date(),
          },
          ctx,
        ),
      ),
    ).join(',')}]}`;
  const events = Array.from({ length: Math.ceil(n / batch) }, (_, k) => Buffer.from(event(k)));
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) {
        const k = next++;
        if (k >= events.length) return;
        const out = await lambda.send(new InvokeCommand({ FunctionName: fn, Payload: events[k] }));
        if (out.FunctionError) throw new Error(`${fn} failed on a direct invoke`);
      }
    }),
  );
  return (events.length * batch) / secondsSince(t0);
}

export const esmBench: Bench = {
  name: 'esm',
  summary:
    'event-source mappings: records/s (2 shards, end to end and a backlog drain), delivery latency p50/p99 (1 and 4 shards)',
  async run({ smoke, say }) {
    const size = smoke ? SIZES.smoke : SIZES.full;
    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    const detail: Record<string, unknown> = {};
    const add = (r: Row) => {
      rows.push(r);
      say(`  ${r.name}: ${r.value} ${r.unit} ${r.note}`);
      return r;
    };
    say('bench esm: a throwaway local cloud for test/fixtures/esm-service');
    const stack = await startEphemeralStack(
      path.resolve('test/fixtures/esm-service'),
      'bench-esm',
      () => undefined,
    );
    const db = new pg.Pool({ connectionString: stack.state.databaseUrl, max: 2 });
    try {
      await db.query(ESM_FIXTURE_SCHEMA);
      const kinesis = kinesisClient({ region: stack.state.region, kinesis: stack.state.endpoints.kinesis });
      const lambda = lambdaClient({ region: stack.state.region, lambda: stack.state.endpoints.lambda });
      const idleMaxMs = stack.config.env.LOCAL_ESM_IDLE_MAX_MS;

      // Throughput. The function's first invoke (a worker starting) is not part of it.
      const payload = Buffer.from(JSON.stringify({ pad: 'z'.repeat(450) }));
      await invokeFloorRate(lambda, THROUGHPUT_FN, 1, 1, 1, payload);
      const n = size.throughputRecords;
      const putAll = async () => {
        const t = performance.now();
        await putThroughputRecords(kinesis, n, () => payload);
        return secondsSince(t);
      };
      const delivered = () => throughputDelivered(db);

      // 1. End to end with the producer running: PutRecords → poller → function, as a stream is used.
      await db.query('TRUNCATE esm_invocations');
      say(`  throughput: ${n} records into esm-throughput (2 shards, batchSize 500) while the poller reads`);
      const t0 = performance.now();
      const putSeconds = await putAll();
      await waitFor(`esm throughput (${n} records)`, 300, async () => (await delivered()).records >= n);
      const e2eSeconds = secondsSince(t0);
      const live = await delivered();
      const e2e = add(
        row(
          'esm end-to-end (producer running)',
          n / e2eSeconds,
          'rec/s',
          `first PutRecords to the last record counted; ${live.calls} invocations`,
        ),
      );
      const put = add(
        row(
          'kinesis PutRecords (the producer)',
          n / putSeconds,
          'rec/s',
          '500 per call, while the poller reads',
        ),
      );

      // 2. The poller alone: the same number of records waiting in the stream while the poller is stopped, then
      // drained from its checkpoints; first invoke's start to last invoke's end (Postgres, one clock).
      say(`  throughput: ${n} records waiting in esm-throughput, then the poller restarted`);
      await stackDown(stack.config, () => undefined, ['esm-poller']);
      await db.query('TRUNCATE esm_invocations');
      await putAll();
      await stackUp(stack.config, () => undefined);
      await waitFor(`esm drain (${n} records)`, 300, async () => (await delivered()).records >= n);
      const drained = await delivered();
      const drain = add(
        row(
          'esm drain (backlog, 2 shards)',
          n / drained.seconds,
          'rec/s',
          `first invoke to last invoke end; ${drained.calls} invocations`,
        ),
      );

      // The same drain with the poller's AWS calls (GetRecords, the invokes) sent through the edge endpoint.
      say(
        `  throughput: ${n} more records waiting, the poller restarted with its AWS calls through the edge`,
      );
      const edgeRoute = stackConfig({ ...stack.env, LOCAL_AWS_CALLS: 'edge' });
      await stackDown(edgeRoute, () => undefined, ['esm-poller']);
      await db.query('TRUNCATE esm_invocations');
      await putAll();
      await stackUp(edgeRoute, () => undefined);
      await waitFor(
        `esm drain through the edge (${n} records)`,
        300,
        async () => (await delivered()).records >= n,
      );
      const drainedViaEdge = await delivered();
      const drainEdge = add(
        row(
          'esm drain through the edge (backlog, 2 shards)',
          n / drainedViaEdge.seconds,
          'rec/s',
          `the poller's GetRecords and invokes through the edge endpoint; ${drainedViaEdge.calls} invocations`,
        ),
      );
      ratios.push(
        ratio(
          drainEdge,
          drain,
          'drain through the edge / drain direct to the parts: the edge overhead (goal ≥ 0.9)',
        ),
      );
      await stackDown(stack.config, () => undefined, ['esm-poller']);
      await stackUp(stack.config, () => undefined);

      const getRate = await getRecordsRate(kinesis, THROUGHPUT_STREAM, n);
      const get = add(
        row(
          'kinesis GetRecords (same 2 shards)',
          getRate,
          'rec/s',
          '10,000 per call, shards read at once (the ceiling)',
        ),
      );
      const floorRate = await invokeFloorRate(lambda, THROUGHPUT_FN, n, 500, 2, payload);
      const floor = add(
        row(
          'lambda invoke floor (same function)',
          floorRate,
          'rec/s',
          `direct invokes of 500-record events, 2 in flight, ${Math.ceil(n / 500)} invokes`,
        ),
      );
      ratios.push(
        ratio(
          drain,
          get,
          'drain / raw GetRecords of the same shards: what the poller keeps of the read rate',
        ),
      );
      ratios.push(
        ratio(drain, floor, 'drain / invoke floor: the poller against its function invoked directly'),
      );
      ratios.push(ratio(e2e, put, 'end-to-end / the producer: the producer bounds a running stream'));
      const stages = [put, get, floor].sort((a, b) => a.value - b.value);
      detail.throughput = {
        records: n,
        endToEnd: { seconds: e2eSeconds, invocations: live.calls },
        drain: { seconds: drained.seconds, invocations: drained.calls },
        slowestStage: stages[0]?.name,
      };

      Object.assign(detail, await measureLatency({ db, kinesis, lambda, size, add, ratios, rows, say }));
      return {
        rows,
        ratios,
        detail,
        notes: {
          sizes: size,
          ceiling:
            'throughput: the raw kinesalite GetRecords rate of the same 2 shards (read at once, 10,000 per call), against the drain of a backlog by the poller: every record the poller delivers it first reads, and the invokes (the Lambda invoke floor, same function, same 500-record events, 2 in flight, reported beside) are several times faster here. The end-to-end figure with the producer running is bounded by the producer, so it is compared with PutRecords',
          latencyFloor:
            'the same latency function invoked directly with a one-record event at the same pace: the invoke path without Kinesis and the poller',
          clock:
            'Date.now() in the producer (before PutRecord) and in the handler (first statement): one machine, one clock, ms resolution',
          poller: `an idle shard is polled again after 20 ms doubling up to LOCAL_ESM_IDLE_MAX_MS = ${idleMaxMs} ms; at a paced rate a shard is often idle, so this backoff is most of the latency (AWS polls about once a second)`,
        },
      };
    } finally {
      await db.end();
      await stack.stop();
    }
  },
};
