import { createHash } from 'node:crypto';
import path from 'node:path';
import { type KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  GetEventSourceMappingCommand,
  InvokeCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import pg from 'pg';
import { kinesisClient, lambdaClient } from '../lib/adapters/aws-clients.ts';
import { postgresOnlineFeatureStore } from '../lib/adapters/online-features-stores.ts';
import type { PlatformDependencies } from '../lib/adapters/platform-dependencies.ts';
import { inBatchTransaction } from '../lib/adapters/postgres/projector-store.ts';
import { caughtUpPorts } from '../lib/adapters/rtdl-progress.ts';
import { canonicalJson, parseJsonLossless, pyFloat } from '../lib/contracts/canonical-json.ts';
import { compareOffsets } from '../lib/contracts/consumer-checkpoint.ts';
import { consumerCheckpointScope, sha256Hex } from '../lib/contracts/identity.ts';
import { type FeatureBusRecord, ONLINE_FEATURES_STREAM_BASE } from '../lib/contracts/online-features.ts';
import {
  applyOnlineFeatureBatch,
  FLOW_ANCHOR_TOPIC,
  type OnlineFeatureIntakeSettings,
  TRAFFIC_TOPIC,
} from '../lib/online-features/intake.ts';
import { PROJECTORS, type Projector } from '../lib/run-lifecycle/rtdl-caught-up.ts';
import { loadFeaturePolicy } from '../lib/runtime/online-features-config.ts';
import { type EphemeralStack, startEphemeralStack } from '../local/ephemeral-stack.ts';
import { ESM_FIXTURE_SCHEMA } from '../test/fixtures/esm-service/schema.ts';
import {
  invokeFloorRate,
  putThroughputRecords,
  THROUGHPUT_FN,
  THROUGHPUT_STREAM,
  throughputDelivered,
} from './esm.ts';
import { waitFor } from './esm-latency.ts';
import {
  type Bench,
  type BenchOutcome,
  median,
  type Ratio,
  type Row,
  ratio,
  row,
  secondsSince,
} from './report.ts';

/**
 * `npm run bench -- rtdl`: the four RTDL projectors (docs/rtdl-core.md) on a throwaway local cloud of the product.
 *
 * 1. Records/s from the bus to applied, per projector, on one shard and on the deployed two. A backlog of valid
 *    envelopes of a pinned run waits on the bus while every projector's mappings are disabled (Lambda's
 *    UpdateEventSourceMapping, served by the local poller); then one projector's mappings are enabled, alone, and
 *    timed from that call until its checkpoints in the run's scope (the P8 gate's position check) stand at the last
 *    sequence number put on every (topic, shard) it reads; then disabled again. Each projector drains the same
 *    backlog in turn (each mapping resumes from its own checkpoint), and has both cores to itself. The backlog is
 *    a flow mix: per flow an arrival event, its flow anchor (entities from bounded pools) and two traffic events,
 *    so each projector gets the records of the topics it reads. "1 shard": every record of a topic under one
 *    partition key (one shard of each stream); "2 shards": flows alternate between the shards. Afterwards P8's own
 *    progress port (lib/adapters/rtdl-progress.ts) must account every event of the backlog per topic, or the bench
 *    fails. At full size the counts per shard are whole batches (batchSize 500, archive writer 1,000).
 * 2. The local ceiling, in the same run: the ESM fixture's counter function (test/fixtures/esm-service `throughput`,
 *    the function of `npm run bench -- esm`'s backlog drain, batchSize 500) on a second throwaway stack, draining
 *    the same records (same bytes, same count, same shard placement), timed the same way (enable → everything
 *    counted), before and after the projectors of each shard count; the ceiling is the mean of the two.
 *    Ratio = projector records/s ÷ ceiling records/s (target ≥ 0.5; reported, never asserted).
 * 3. The online features' cost per event as history grows, in process against the stack's Postgres:
 *    `applyOnlineFeatureBatch` on `postgresOnlineFeatureStore` inside `inBatchTransaction` (what the function runs),
 *    batches of 500 of the same flow mix, µs per event of a fixed-size probe at 10k and at 200k events of history
 *    (median of three probes each); flat ≈ 1.
 */

const SIZES = {
  // 4 records per flow: 8,000 records a backlog, whole batches of 500 and 1,000 on every (topic, shard).
  full: { flows: 2_000, history: [10_000, 200_000] as const, probe: 2_000, probes: 3 },
  smoke: { flows: 60, history: [1_000, 5_000] as const, probe: 250, probes: 3 },
};
export type Size = { flows: number; history: readonly [number, number]; probe: number; probes: number };

/** Full sizes can be changed with BENCH_RTDL_FLOWS (4 records each) and BENCH_RTDL_HISTORY (`10000,200000`). */
export function sizes(smoke: boolean): Size {
  if (smoke) return SIZES.smoke;
  const f = SIZES.full;
  const history = process.env.BENCH_RTDL_HISTORY?.split(',').map(Number);
  return {
    ...f,
    flows: Number(process.env.BENCH_RTDL_FLOWS ?? f.flows),
    history: history?.length === 2 ? [history[0] as number, history[1] as number] : f.history,
  };
}

const TOPIC = {
  traffic: TRAFFIC_TOPIC,
  anchor: FLOW_ANCHOR_TOPIC,
  arrival: 'fp.bus.context.arrival_events.v1',
} as const;
const BACKLOG_TOPICS: string[] = [TOPIC.arrival, TOPIC.anchor, TOPIC.traffic];

/** Each projector's checkpoint table in its run scope `<base>::<run>` (what P8's position check reads). */
const CHECKPOINTS: Record<Projector, { table: string; base: string }> = {
  'archive-writer': { table: 'archive_writer_checkpoints', base: 'archive_writer.v0' },
  'identity-graph': { table: 'ieg_checkpoints', base: 'ieg.v0' },
  'context-store': { table: 'csfb_join_checkpoints', base: 'csfb.v0' },
  'online-features': { table: 'ofp_checkpoints', base: ONLINE_FEATURES_STREAM_BASE },
};

// ---------------------------------------------------------------------------------------------------------------
// The flow mix

const SCENARIO_RUN = '3'.repeat(32);
const pinsOf = (platformRunId: string) => ({
  platform_run_id: platformRunId,
  scenario_run_id: SCENARIO_RUN,
  manifest_fingerprint: 'a'.repeat(64),
  parameter_hash: 'b'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
  run_id: '1'.repeat(32),
});

/** Entity pools of the anchors: each entity is seen again and again as history grows. */
const POOLS = {
  merchant_id: 200,
  party_id: 5_000,
  account_id: 6_000,
  instrument_id: 8_000,
  device_id: 7_000,
  ip_id: 9_000,
} as const;
const ENTITY_BASE = 7_300_000_000_000_000_000n;

/** A deterministic integer hash (no Math.random: two runs build the same world). */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}
const pick = (flow: number, salt: number, n: number) => mix(flow * 7919 + salt * 104_729) % n;

/** Event time: flows 200 ms apart from 2026-03-08T00:00Z, in integer microseconds. */
const T0_MICROS = Date.UTC(2026, 2, 8) * 1000;
export function tsOf(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return new Date(ms).toISOString().replace('Z', `${String(micros - ms * 1000).padStart(3, '0')}Z`);
}

export interface BusEvent {
  topic: string;
  /** Flows alternate between two shards (when the placement uses both). */
  flow: number;
  envelope: Record<string, unknown>;
}

/** The four events of flow `f`: its arrival event, its flow anchor, two traffic events. */
export function flowEvents(platformRunId: string, f: number): BusEvent[] {
  const pins = pinsOf(platformRunId);
  const t = T0_MICROS + f * 200_000;
  const id = (kind: string) => sha256Hex(`bench-rtdl:${platformRunId}:${kind}:${f}`);
  const flowId = 9_100_000_000_000_000_000n + BigInt(f);
  const merchant = 1_000 + pick(f, 1, POOLS.merchant_id);
  const entity = (type: keyof typeof POOLS, salt: number) =>
    ENTITY_BASE + BigInt(salt) * 100_000_000n + BigInt(pick(f, salt, POOLS[type]));
  const amount = (k: number) => pyFloat((mix(f * 3 + k) % 50_000) / 100);
  const envelope = (kind: string, eventType: string, micros: number, payload: Record<string, unknown>) => ({
    event_id: id(kind),
    event_type: eventType,
    ts_utc: tsOf(micros),
    schema_version: 'v1',
    ...pins,
    payload,
  });
  return [
    {
      topic: TOPIC.arrival,
      flow: f,
      envelope: envelope('arrival', 'arrival_events_5B', t, { merchant_id: merchant, arrival_seq: f }),
    },
    {
      topic: TOPIC.anchor,
      flow: f,
      envelope: envelope('anchor', 's3_flow_anchor_with_fraud_6B', t + 1_000, {
        flow_id: flowId,
        merchant_id: merchant,
        arrival_seq: f,
        party_id: entity('party_id', 2),
        account_id: entity('account_id', 3),
        instrument_id: entity('instrument_id', 4),
        device_id: entity('device_id', 5),
        ip_id: entity('ip_id', 6),
        amount: amount(0),
      }),
    },
    ...[0, 1].map((k) => ({
      topic: TOPIC.traffic,
      flow: f,
      envelope: envelope(`traffic-${k}`, 's3_event_stream_with_fraud_6B', t + 2_000 + k * 40_000, {
        flow_id: flowId,
        amount: amount(k + 1),
      }),
    })),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The bus

export type Placement = 1 | 2;

/** A backlog: each topic's records as bytes, with the shard (index in the stream's shard list) each goes to. */
export interface Backlog {
  platformRunId: string;
  placement: Placement;
  records: number;
  meanBytes: number;
  topics: Map<string, Array<{ data: Buffer; shard: number }>>;
}

export function backlogOf(
  platformRunId: string,
  firstFlow: number,
  flows: number,
  placement: Placement,
): Backlog {
  const topics = new Map<string, Array<{ data: Buffer; shard: number }>>(BACKLOG_TOPICS.map((t) => [t, []]));
  let bytes = 0;
  let records = 0;
  for (let f = firstFlow; f < firstFlow + flows; f++)
    for (const e of flowEvents(platformRunId, f)) {
      const data = Buffer.from(canonicalJson(e.envelope));
      topics.get(e.topic)?.push({ data, shard: placement === 1 ? 0 : f % 2 });
      bytes += data.length;
      records++;
    }
  return { platformRunId, placement, records, meanBytes: bytes / records, topics };
}

/** A partition key that lands on each shard of `stream` (Kinesis: MD5 of the key within the shard's hash range). */
async function keysByShard(kinesis: KinesisClient, stream: string): Promise<string[]> {
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
type Ends = Array<{ topic: string; partition: number; offset: string; records: number }>;

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

async function putBacklog(kinesis: KinesisClient, backlog: Backlog): Promise<Ends> {
  const ends: Ends = [];
  for (const [topic, records] of backlog.topics) {
    const keys = await keysByShard(kinesis, topic);
    for (const [shardId, end] of await putRecords(kinesis, topic, records, keys))
      ends.push({ topic, partition: partitionOfShard(shardId), ...end });
  }
  return ends;
}

// ---------------------------------------------------------------------------------------------------------------
// Event-source mappings (Lambda's API, answered by the local poller)

interface Mapping {
  uuid: string;
  functionName: string;
  topic: string;
  batchSize: number;
  windowSeconds: number;
}

async function listMappings(esm: LambdaClient): Promise<Mapping[]> {
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
async function setEnabled(esm: LambdaClient, mappings: Mapping[], enabled: boolean, settle: boolean) {
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

async function invoke(lambda: LambdaClient, fn: string, payload: unknown): Promise<unknown> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError) throw new Error(`${fn} failed: ${text.slice(0, 300)}`);
  return parseJsonLossless(text);
}

// ---------------------------------------------------------------------------------------------------------------
// The drains

interface Drain {
  records: number;
  seconds: number;
  rate: number;
}

interface ProjectorDrain extends Drain {
  projector: Projector;
  placement: Placement;
  topics: string[];
  shardsRead: number;
  counts: unknown;
  /** Shares of the sampled Postgres sessions by state and wait event during the drain. */
  waits: Record<string, number>;
}

interface ProductContext {
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

async function drainProjector(
  ctx: ProductContext,
  projector: Projector,
  backlog: Backlog,
  allEnds: Ends,
): Promise<ProjectorDrain> {
  const fn = ctx.functionOf(projector);
  const mappings = ctx.mappings.filter((m) => m.functionName === fn);
  const topics = BACKLOG_TOPICS.filter((t) => mappings.some((m) => m.topic === t));
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
const BENCH_APPLICATION = 'bench-rtdl';

/**
 * What the projector's Postgres sessions are doing while it drains: every 200 ms, the sessions of the platform
 * database in a transaction (the bench's own left out), by state and wait event ("active CPU": executing;
 * "active Lock:…": waiting for a row another batch holds; "idle in transaction Client:ClientRead": waiting for
 * the function's next statement). Answers each one's share of all samples (of sessions, not of time).
 */
function sampleWaits(db: pg.Pool) {
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

interface FixtureContext {
  db: pg.Pool;
  kinesis: KinesisClient;
  lambda: LambdaClient;
  esm: LambdaClient;
  mapping: Mapping;
  limitSeconds: number;
}

/** The fixture's counter draining the backlog's records (same bytes, same count, same shard placement). */
async function drainCeiling(
  fx: FixtureContext,
  backlog: Backlog,
): Promise<Drain & { firstToLastRate: number }> {
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

// ---------------------------------------------------------------------------------------------------------------
// Online features: cost per event as history grows (in process)

async function ofpHistory(
  db: pg.Pool,
  size: Size,
  say: (line: string) => void,
  beforeProbes: Promise<unknown>,
) {
  const run = 'platform_20330101T000000Z';
  const streamId = consumerCheckpointScope(ONLINE_FEATURES_STREAM_BASE, run);
  const settings: OnlineFeatureIntakeSettings = { requiredPlatformRunId: run, policy: loadFeaturePolicy() };
  const offsets = new Map<string, bigint>();
  let flow = 0;
  let pending: FeatureBusRecord[] = [];
  const take = (n: number): FeatureBusRecord[] => {
    while (pending.length < n) {
      for (const e of flowEvents(run, flow)) {
        if (e.topic === TOPIC.arrival) continue; // not an online-features topic
        const partition = flow % 2;
        const at = `${e.topic}/${partition}`;
        const offset = (offsets.get(at) ?? 49_600_000_000_000_000_000n) + 1n;
        offsets.set(at, offset);
        pending.push({
          topic: e.topic,
          partition,
          offset: offset.toString(),
          offset_kind: 'kinesis_sequence',
          envelope: parseJsonLossless(canonicalJson(e.envelope)),
        });
      }
      flow++;
    }
    const out = pending.slice(0, n);
    pending = pending.slice(n);
    return out;
  };
  let applied = 0;
  const curve: Array<{ history: number; events: number; micros: number }> = [];
  const apply = async (records: FeatureBusRecord[]) => {
    for (let i = 0; i < records.length; i += 500) {
      const outcomes = await inBatchTransaction(db, (scope) =>
        applyOnlineFeatureBatch(
          postgresOnlineFeatureStore(scope, streamId),
          records.slice(i, i + 500),
          settings,
        ),
      );
      const notApplied = outcomes.find((o) => o.status !== 'APPLIED');
      if (notApplied) throw new Error(`online features history: ${JSON.stringify(notApplied)}`);
      applied += outcomes.length;
    }
  };
  // The fill in chunks of a twentieth of the longest history, each timed: the cost per event along the way.
  const chunk = Math.max(500, Math.round(size.history[1] / 20));
  const fillTo = async (history: number) => {
    while (applied < history) {
      const records = take(Math.min(chunk, history - applied));
      const [at, t0] = [applied, performance.now()];
      await apply(records);
      curve.push({
        history: at,
        events: records.length,
        micros: ((performance.now() - t0) * 1000) / records.length,
      });
    }
  };
  const probes = async () => {
    const at = applied;
    const micros: number[] = [];
    for (let k = 0; k < size.probes; k++) {
      const records = take(size.probe);
      const t0 = performance.now();
      await apply(records);
      micros.push(((performance.now() - t0) * 1000) / records.length);
    }
    say(`  online features: history ${at}: ${micros.map((m) => Math.round(m)).join(', ')} µs/event`);
    return { history: at, micros, median: median(micros) };
  };
  const t0 = performance.now();
  await fillTo(size.history[0]);
  await beforeProbes;
  const low = await probes();
  await fillTo(size.history[1]);
  const high = await probes();
  say(
    `  online features: µs/event while the history grew (from ${curve[0]?.history ?? 0} by ${chunk}): ${curve.map((c) => Math.round(c.micros)).join(', ')}`,
  );
  return {
    low,
    high,
    events: applied,
    seconds: secondsSince(t0),
    curve: curve.map((c) => ({ ...c, micros: Math.round(c.micros) })),
  };
}

// ---------------------------------------------------------------------------------------------------------------

export const rtdlBench: Bench = {
  name: 'rtdl',
  summary:
    'RTDL projectors: records/s bus → applied (1 and 2 shards) ÷ the ESM fixture ceiling; online features µs/event at 10k and 200k history',
  run: ({ smoke, say }) => benchRtdl(sizes(smoke), smoke, say),
};

const topWaits = (waits: Record<string, number>) =>
  Object.entries(waits)
    .slice(0, 3)
    .map(([what, share]) => `${what} ${Math.round(share * 100)}%`)
    .join(', ');
const shardsLabel = (p: Placement) => (p === 1 ? '1 shard' : '2 shards');
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

async function startBoth(say: (line: string) => void): Promise<[EphemeralStack, EphemeralStack]> {
  const started = await Promise.allSettled([
    startEphemeralStack(path.resolve('.'), 'bench-rtdl', () => undefined),
    startEphemeralStack(path.resolve('test/fixtures/esm-service'), 'bench-rtdl-ceiling', () => undefined),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    for (const s of started) if (s.status === 'fulfilled') await s.value.stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  say('  both stacks up');
  return started.map((s) => (s as PromiseFulfilledResult<EphemeralStack>).value) as [
    EphemeralStack,
    EphemeralStack,
  ];
}

async function benchRtdl(size: Size, smoke: boolean, say: (line: string) => void): Promise<BenchOutcome> {
  const records = size.flows * 4;
  say(
    `bench rtdl: throwaway local clouds of the product and of test/fixtures/esm-service; backlogs of ${records} records (${size.flows} flows), online features history ${size.history.join(' → ')}`,
  );
  const t0 = performance.now();
  const [product, fixture] = await startBoth(say);
  const stackSeconds = secondsSince(t0);
  const db = new pg.Pool({
    connectionString: product.state.databaseUrl,
    max: 3,
    application_name: BENCH_APPLICATION,
  });
  const fdb = new pg.Pool({ connectionString: fixture.state.databaseUrl, max: 2 });
  let fixtureUp = true;
  const stopFixture = async () => {
    if (!fixtureUp) return;
    fixtureUp = false;
    await fdb.end().catch(() => undefined);
    await fixture.stop();
  };
  try {
    const limitSeconds = smoke ? 60 : 600;
    const clients = (s: EphemeralStack) => ({
      kinesis: kinesisClient({ region: s.state.region, kinesis: s.state.endpoints.kinesis }),
      lambda: lambdaClient({ region: s.state.region, lambda: s.state.endpoints.lambda }),
      esm: lambdaClient({ region: s.state.region, lambda: s.state.endpoints.esm }),
    });
    const p = clients(product);
    const f = clients(fixture);
    const functionOf = (projector: Projector) =>
      `${product.state.service}-${product.state.stage}-${projector}`;
    const projectorFunctions = new Set(PROJECTORS.map(functionOf));
    const mappings = (await listMappings(p.esm)).filter((m) => projectorFunctions.has(m.functionName));
    await setEnabled(p.esm, mappings, false, true);
    const fixtureMappings = await listMappings(f.esm);
    await setEnabled(f.esm, fixtureMappings, false, true);
    const counter = fixtureMappings.find((m) => m.functionName === THROUGHPUT_FN);
    if (!counter) throw new Error(`no mapping for ${THROUGHPUT_FN} in the fixture`);
    await fdb.query(ESM_FIXTURE_SCHEMA);
    say(`  ${mappings.length} projector mappings and ${fixtureMappings.length} fixture mappings disabled`);

    const ctx: ProductContext = { db, lambda: p.lambda, esm: p.esm, mappings, functionOf, limitSeconds };
    const fx: FixtureContext = { db: fdb, ...f, mapping: counter, limitSeconds };
    const drains: ProjectorDrain[] = [];
    let meanBytes = 0;
    const ceilings: Record<Placement, Array<Drain & { firstToLastRate: number }>> = { 1: [], 2: [] };
    for (const placement of [1, 2] as const) {
      const run = placement === 1 ? 'platform_20320101T000001Z' : 'platform_20320101T000002Z';
      await db.query(
        `INSERT INTO platform_runs (platform_run_id, pinned_at_utc, pinned_by, stream_settings)
         VALUES ($1, now(), 'bench-rtdl', '{}') ON CONFLICT DO NOTHING`,
        [run],
      );
      await db.query(
        `INSERT INTO active_run (singleton, platform_run_id, updated_at_utc) VALUES (true, $1, now())
         ON CONFLICT (singleton) DO UPDATE SET platform_run_id = EXCLUDED.platform_run_id, updated_at_utc = now()`,
        [run],
      );
      const backlog = backlogOf(run, (placement - 1) * size.flows, size.flows, placement);
      meanBytes = backlog.meanBytes;
      const ends = await putBacklog(p.kinesis, backlog);
      say(
        `  ${shardsLabel(placement)}: ${backlog.records} records of run ${run} waiting on ${ends.length} (topic, shard)s`,
      );
      const ceiling = async () => {
        const c = await drainCeiling(fx, backlog);
        ceilings[placement].push(c);
        say(
          `    ceiling (fixture counter): ${fmt(c.rate)} rec/s (${c.seconds.toFixed(2)} s; first invoke → last end ${fmt(c.firstToLastRate)} rec/s)`,
        );
      };
      await ceiling();
      for (const projector of PROJECTORS) {
        const d = await drainProjector(ctx, projector, backlog, ends);
        drains.push(d);
        say(
          `    ${projector}: ${d.records} records in ${d.seconds.toFixed(2)} s = ${fmt(d.rate)} rec/s (${d.shardsRead} shards read); Postgres sessions: ${topWaits(d.waits)}`,
        );
      }
      await ceiling();
    }
    // The fixture stack stops while the first history is written (untimed), before any probe.
    const fixtureStopped = stopFixture().catch((error: Error) =>
      say(`  fixture stack stop: ${error.message}`),
    );
    say(
      `  online features in process: batches of 500 to ${size.history[1]} events of history, probes of ${size.probe}`,
    );
    const ofp = await ofpHistory(db, size, say, fixtureStopped);

    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    const ceilingRows = new Map<Placement, Row>();
    for (const placement of [1, 2] as const) {
      const cs = ceilings[placement];
      ceilingRows.set(
        placement,
        row(
          `ceiling: ESM fixture counter, ${shardsLabel(placement)}`,
          cs.reduce((s, c) => s + c.rate, 0) / cs.length,
          'rec/s',
          `${cs[0]?.records} records, enable → all counted; before / after the projectors: ${cs.map((c) => fmt(c.rate)).join(' / ')}; first invoke → last end: ${cs.map((c) => fmt(c.firstToLastRate)).join(' / ')}`,
        ),
      );
    }
    for (const placement of [1, 2] as const)
      for (const d of drains.filter((x) => x.placement === placement)) {
        const r = row(
          `${d.projector}, ${shardsLabel(placement)}`,
          d.rate,
          'rec/s',
          `${d.records} records on ${d.topics.length} topics (${d.shardsRead} shards read), enable → checkpoints at the last offsets; sessions: ${topWaits(d.waits)}`,
        );
        rows.push(r);
        ratios.push(
          ratio(
            r,
            ceilingRows.get(placement) as Row,
            `${d.projector} / the local ceiling, ${shardsLabel(placement)} (target ≥ 0.5)`,
          ),
        );
      }
    rows.push(ceilingRows.get(1) as Row, ceilingRows.get(2) as Row);
    const probeNote = (p: { micros: number[] }) =>
      `median of ${size.probes} probes of ${size.probe} events: ${p.micros.map((m) => Math.round(m)).join(', ')}`;
    const low = row(
      `online features µs/event at ${fmt(ofp.low.history)} history`,
      ofp.low.median,
      'µs/event',
      probeNote(ofp.low),
    );
    const high = row(
      `online features µs/event at ${fmt(ofp.high.history)} history`,
      ofp.high.median,
      'µs/event',
      probeNote(ofp.high),
    );
    rows.push(low, high);
    ratios.push(ratio(high, low, 'online features cost per event, long history / short (flat ≈ 1)'));

    return {
      rows,
      ratios,
      notes: {
        sizes: { ...size, recordsPerBacklog: records },
        method:
          'A backlog of valid envelopes of a pinned run waits on the bus with every projector mapping disabled; one projector at a time has its mappings enabled (UpdateEventSourceMapping on the local poller) and is timed until its checkpoints in the run scope reach the last sequence number put on each (topic, shard) it reads; then disabled. P8\'s progress port must then account every event of the backlog per topic. Per flow: an arrival event, a flow anchor, two traffic events; each projector counts the records of the topics it reads. "1 shard": one partition key per stream; "2 shards": flows alternate between the two shards (the deployed count).',
        ceiling:
          "The ESM fixture's counter function (test/fixtures/esm-service `throughput`, batchSize 500, the function of the esm bench's backlog drain) on its own throwaway stack, draining the same records (same bytes, count and shard placement), timed the same way (enable → every record counted), before and after the projectors of each shard count; the row is their mean. The first-invoke → last-end rate (the esm bench's measure) is in the note. A projector reads one stream per topic, so its \"1 shard\" is one shard of each of its 2–3 streams, where the counter reads one stream.",
        onlineFeatures:
          "In process against the stack Postgres: applyOnlineFeatureBatch on postgresOnlineFeatureStore inside inBatchTransaction, batches of 500 of the same flow mix (flows unique, anchors over bounded entity pools), feature policy from config; µs per event of each probe, median of the probes at each history. detail.onlineFeatures.curve: the µs per event of each chunk of the fill, to tell a trend from the machine's load changing.",
        sessions:
          "detail.drains[].waits: during each drain, every 200 ms, the platform database's sessions in a transaction by state and wait event, as shares of all samples ('active CPU' executing, 'active Lock:…' waiting for rows another batch holds, 'idle in transaction Client:ClientRead' waiting for the function's next statement).",
        mappings: Object.fromEntries(
          PROJECTORS.map((projector) => {
            const own = mappings.filter((m) => m.functionName === functionOf(projector));
            return [
              projector,
              {
                mappings: own.length,
                batchSize: [...new Set(own.map((m) => m.batchSize))],
                batchingWindowSeconds: [...new Set(own.map((m) => m.windowSeconds))],
              },
            ];
          }),
        ),
        batching:
          "per shard the full-size counts are whole batches (500; archive writer 1,000). The projectors' functions.yml set `maximumBatchingWindowInSeconds: 1`, which is not a key of the Serverless stream event (its key is `batchWindow`): the mappings run with no window (see `mappings`), here and on AWS",
        entityPools: POOLS,
        meanRecordBytes: Math.round(meanBytes),
      },
      detail: {
        stackStartSeconds: Math.round(stackSeconds),
        drains: drains.map((d) => ({ ...d, seconds: Math.round(d.seconds * 1000) / 1000 })),
        ceilings,
        scaling: PROJECTORS.map((projector) => {
          const [one, two] = [1, 2].map(
            (pl) => drains.find((d) => d.projector === projector && d.placement === pl)?.rate ?? Number.NaN,
          ) as [number, number];
          return { projector, twoShardsOverOne: Math.round((two / one) * 100) / 100 };
        }),
        onlineFeatures: ofp,
      },
    };
  } finally {
    await db.end().catch(() => undefined);
    await stopFixture().catch(() => undefined);
    await product.stop();
  }
}
