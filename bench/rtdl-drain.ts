import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type pg from 'pg';
import type { PlatformDependencies } from '../lib/adapters/platform-dependencies.ts';
import { caughtUpPorts } from '../lib/adapters/rtdl-progress.ts';
import { compareOffsets } from '../lib/contracts/consumer-checkpoint.ts';
import { consumerCheckpointScope } from '../lib/contracts/identity.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../lib/contracts/online-features.ts';
import type { Projector } from '../lib/run-lifecycle/rtdl-caught-up.ts';
import {
  invokeFloorRate,
  putThroughputRecords,
  THROUGHPUT_FN,
  THROUGHPUT_STREAM,
  throughputDelivered,
} from './esm.ts';
import { waitFor } from './esm-latency.ts';
import { secondsSince } from './report.ts';
import { type Ends, invoke, keysByShard, type Mapping, setEnabled } from './rtdl-bus.ts';
import type { Backlog, Placement } from './rtdl-world.ts';

/**
 * The drains of `npm run bench -- rtdl` (bench/rtdl.ts), each timed from enabling the mappings: a projector's, until
 * its checkpoints in the run's scope (P8's position check) stand at the last offset of each (topic, shard) it reads,
 * then checked against P8's progress port and its report; the ESM fixture counter's (the local ceiling), until every
 * record is counted. Meanwhile, what the platform database's sessions wait on.
 */

/** Each projector's checkpoint table in its run scope `<base>::<run>` (what P8's position check reads). */
const CHECKPOINTS: Record<Projector, { table: string; base: string }> = {
  'archive-writer': { table: 'archive_writer_checkpoints', base: 'archive_writer.v0' },
  'identity-graph': { table: 'ieg_checkpoints', base: 'ieg.v0' },
  'context-store': { table: 'csfb_join_checkpoints', base: 'csfb.v0' },
  'online-features': { table: 'ofp_checkpoints', base: ONLINE_FEATURES_STREAM_BASE },
};

/** A timed drain: records, seconds, records per second. */
export interface Drain {
  records: number;
  seconds: number;
  rate: number;
}

/** A ceiling's drain, and the esm bench's measure of it (first invoke → last end). */
export type CeilingDrain = Drain & { firstToLastRate: number };

export interface ProjectorDrain extends Drain {
  projector: Projector;
  placement: Placement;
  topics: string[];
  shardsRead: number;
  counts: unknown;
  /** Shares of the sampled Postgres sessions by state and wait event during the drain. */
  waits: Record<string, number>;
}

/** The product stack as a projector's drain uses it. */
export interface ProductContext {
  db: pg.Pool;
  lambda: LambdaClient;
  esm: LambdaClient;
  mappings: Mapping[];
  functionOf: (p: Projector) => string;
  limitSeconds: number;
}

/** The P8 position check: the projector's checkpoint in the run's scope at the last offset of each (topic, shard). */
async function checkpointsReached(
  db: pg.Pool,
  projector: Projector,
  run: string,
  ends: Ends,
): Promise<boolean> {
  const { table, base } = CHECKPOINTS[projector];
  const rows = await db.query<{ topic: string; partition: number; next_offset: string }>(
    `SELECT topic, partition_id AS partition, next_offset FROM ${table} WHERE stream_id = $1`,
    [consumerCheckpointScope(base, run)],
  );
  return ends.every((e) =>
    rows.rows.some(
      (r) =>
        r.topic === e.topic && r.partition === e.partition && compareOffsets(r.next_offset, e.offset) >= 0,
    ),
  );
}

/** One projector's mappings enabled, alone, until it has drained the backlog; then disabled. */
export async function drainProjector(
  ctx: ProductContext,
  projector: Projector,
  backlog: Backlog,
  allEnds: Ends,
): Promise<ProjectorDrain> {
  const fn = ctx.functionOf(projector);
  const mappings = ctx.mappings.filter((m) => m.functionName === fn);
  const topics = [...backlog.topics.keys()].filter((t) => mappings.some((m) => m.topic === t));
  const ends = allEnds.filter((e) => topics.includes(e.topic));
  const records = ends.reduce((n, e) => n + e.records, 0);
  const run = backlog.platformRunId;
  // A worker per shard consumer that will invoke at once (serverless-offline starts one per concurrent call).
  await Promise.all(ends.map(() => invoke(ctx.lambda, fn, { action: 'report', platform_run_id: run })));

  const sampler = sampleWaits(ctx.db);
  const t0 = performance.now();
  await setEnabled(ctx.esm, mappings, true, false);
  await waitFor(
    `${projector} drain of ${records} records`,
    ctx.limitSeconds,
    () => checkpointsReached(ctx.db, projector, run, ends),
    20,
  ).finally(() => sampler.stop());
  const seconds = secondsSince(t0);
  const waits = await sampler.result;
  await setEnabled(ctx.esm, mappings, false, true);

  // Every event of the backlog accounted on each topic (P8's count check), else the figure means nothing.
  const progress = await caughtUpPorts({
    pool: async () => ctx.db,
  } as unknown as PlatformDependencies).progress(projector, run);
  for (const topic of topics) {
    const expected = backlog.topics.get(topic)?.length ?? 0;
    if (progress.accounted[topic] !== expected)
      throw new Error(
        `${projector}: ${progress.accounted[topic] ?? 0} of ${expected} events on ${topic} accounted after its checkpoints reached the end`,
      );
  }
  // And applied, not set aside: the report's counts (ProjectorReport) for the run.
  const report = (await invoke(ctx.lambda, fn, { action: 'report', platform_run_id: run })) as {
    counts?: Record<string, number>;
  };
  if (report.counts?.applied !== records)
    throw new Error(
      `${projector}: ${records} records drained, report counts ${JSON.stringify(report.counts)}`,
    );
  return {
    projector,
    placement: backlog.placement,
    topics,
    shardsRead: ends.length,
    records,
    seconds,
    rate: records / seconds,
    counts: report.counts,
    waits,
  };
}

/** The application name of the bench's own connections, left out of the samples below. */
export const BENCH_APPLICATION = 'bench-rtdl';

/**
 * What the projector's Postgres sessions are doing while it drains: every 200 ms, the sessions of the platform
 * database in a transaction (the bench's own left out), by state and wait event ("active CPU": executing;
 * "active Lock:…": waiting for a row another batch holds; "idle in transaction Client:ClientRead": waiting for
 * the function's next statement). Answers each one's share of all samples (of sessions, not of time).
 */
export function sampleWaits(db: pg.Pool) {
  let running = true;
  let wake: () => void = () => undefined;
  const counts = new Map<string, number>();
  const result = (async () => {
    let total = 0;
    while (running) {
      const r = await db
        .query<{ what: string; n: number }>(
          `SELECT state || ' ' || coalesce(wait_event_type || ':' || wait_event, 'CPU') AS what, count(*)::int AS n
         FROM pg_stat_activity
         WHERE datname = current_database() AND backend_type = 'client backend'
           AND state IN ('active', 'idle in transaction') AND application_name <> $1
         GROUP BY 1`,
          [BENCH_APPLICATION],
        )
        .catch(() => ({ rows: [] })); // a sample lost is only a sample
      for (const { what, n } of r.rows) {
        counts.set(what, (counts.get(what) ?? 0) + n);
        total += n;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return Object.fromEntries(
      [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([what, n]) => [what, Math.round((n / Math.max(1, total)) * 100) / 100]),
    );
  })();
  return {
    result,
    stop: () => {
      running = false;
      wake();
    },
  };
}

/** The ESM fixture's stack as the ceiling's drain uses it. */
export interface FixtureContext {
  db: pg.Pool;
  kinesis: KinesisClient;
  lambda: LambdaClient;
  esm: LambdaClient;
  mapping: Mapping;
  limitSeconds: number;
}

/** The fixture's counter draining the backlog's records (same bytes, same count, same shard placement). */
export async function drainCeiling(fx: FixtureContext, backlog: Backlog): Promise<CeilingDrain> {
  const all = [...backlog.topics.values()].flat();
  const keys = await keysByShard(fx.kinesis, THROUGHPUT_STREAM);
  await fx.db.query('TRUNCATE esm_invocations');
  const ends = await putThroughputRecords(
    fx.kinesis,
    all.length,
    (i) => (all[i] as { data: Buffer }).data,
    (i) => keys[(all[i] as { shard: number }).shard] as string,
  );
  await invokeFloorRate(fx.lambda, THROUGHPUT_FN, ends.size, 1, ends.size, all[0]?.data ?? Buffer.from('{}'));
  await fx.db.query('TRUNCATE esm_invocations');
  const t0 = performance.now();
  await setEnabled(fx.esm, [fx.mapping], true, false);
  await waitFor(
    `fixture drain of ${all.length} records`,
    fx.limitSeconds,
    async () => (await throughputDelivered(fx.db)).records >= all.length,
    20,
  );
  const seconds = secondsSince(t0);
  await setEnabled(fx.esm, [fx.mapping], false, true);
  const delivered = await throughputDelivered(fx.db);
  return {
    records: all.length,
    seconds,
    rate: all.length / seconds,
    firstToLastRate: delivered.records / delivered.seconds,
  };
}
