import path from 'node:path';
import pg from 'pg';
import { kinesisClient, lambdaClient } from '../lib/adapters/aws-clients.ts';
import { PROJECTORS, type Projector } from '../lib/run-lifecycle/rtdl-caught-up.ts';
import { type EphemeralStack, startEphemeralStack } from '../local/ephemeral-stack.ts';
import { ESM_FIXTURE_SCHEMA } from '../test/fixtures/esm-service/schema.ts';
import { THROUGHPUT_FN } from './esm.ts';
import { type Bench, type BenchOutcome, secondsSince } from './report.ts';
import { listMappings, type Mapping, putBacklog, setEnabled } from './rtdl-bus.ts';
import {
  BENCH_APPLICATION,
  type CeilingDrain,
  drainCeiling,
  drainProjector,
  type FixtureContext,
  type ProductContext,
  type ProjectorDrain,
} from './rtdl-drain.ts';
import { onlineFeaturesHistory } from './rtdl-online-features.ts';
import { rtdlOutcome, shardsLabel, topWaits, wholeNumber } from './rtdl-report.ts';
import { type Size, sizes } from './rtdl-sizes.ts';
import { backlogOf, type Placement } from './rtdl-world.ts';

/**
 * `npm run bench -- rtdl`: the four RTDL projectors (docs/rtdl-core.md) on a throwaway local cloud of the product.
 *
 * 1. Records/s from the bus to applied, per projector, on one shard and on the deployed two. A backlog of valid
 *    envelopes of a pinned run waits on the bus while every mapping of the product (the decision lane's too) is
 *    disabled (Lambda's UpdateEventSourceMapping, served by the local poller); then one projector's mappings are
 *    enabled, alone, and timed from that call until its checkpoints in the run's scope (the P8 gate's position
 *    check) stand at the last sequence number put on every (topic, shard) it reads; then disabled again. Each
 *    projector drains the same backlog in turn (each mapping resumes from its own checkpoint), and has both cores
 *    to itself. The backlog is a flow mix: per flow an arrival event, its flow anchor (entities from bounded pools)
 *    and two traffic events, so each projector gets the records of the topics it reads. "1 shard": every record of
 *    a topic under one partition key (one shard of each stream); "2 shards": flows alternate between the shards.
 *    Afterwards P8's own progress port (lib/adapters/rtdl-progress.ts) must account every event of the backlog per
 *    topic, or the bench fails. At full size the counts per shard are whole batches (batchSize 500, archive writer
 *    1,000).
 * 2. The local ceiling, in the same run: the ESM fixture's counter function (test/fixtures/esm-service `throughput`,
 *    the function of `npm run bench -- esm`'s backlog drain, batchSize 500) on a second throwaway stack, draining
 *    the same records (same bytes, same count, same shard placement), timed the same way (enable → everything
 *    counted), before and after the projectors of each shard count; the ceiling is the mean of the two.
 *    Ratio = projector records/s ÷ ceiling records/s (target ≥ 0.5; reported, never asserted).
 * 3. The online features' cost per event as history grows, in process against the stack's Postgres:
 *    `applyOnlineFeatureBatch` on `postgresOnlineFeatureStore` inside `inBatchTransaction` (what the function runs),
 *    batches of 500 of the same flow mix, µs per event of a fixed-size probe at 10k and at 200k events of history
 *    (median of three probes each); flat ≈ 1.
 *
 * Here the entry (`rtdlBench`, the sequence of a run); the parts by concept: rtdl-sizes.ts (how big), rtdl-world.ts
 * (the flow mix and its backlogs), rtdl-bus.ts (putting backlogs on the bus, switching the mappings),
 * rtdl-drain.ts (the timed drains), rtdl-online-features.ts (part 3), rtdl-report.ts (rows, ratios, notes).
 */

// What the bench's unit tests (test/unit/bench/rtdl.test.ts) and other callers import from here.
export { partitionKeyIn } from './rtdl-bus.ts';
export { type Size, sizes } from './rtdl-sizes.ts';
export { type Backlog, type BusEvent, backlogOf, flowEvents, type Placement, tsOf } from './rtdl-world.ts';

export const rtdlBench: Bench = {
  name: 'rtdl',
  summary:
    'RTDL projectors: records/s bus → applied (1 and 2 shards) ÷ the ESM fixture ceiling; online features µs/event at 10k and 200k history',
  run: ({ smoke, say }) => benchRtdl(sizes(smoke), smoke, say),
};

/** The product's throwaway stack (`<label>`) and the ESM fixture's (`<label>-ceiling`), started side by side. */
export async function startBoth(
  say: (line: string) => void,
  label = 'bench-rtdl',
): Promise<[EphemeralStack, EphemeralStack]> {
  const started = await Promise.allSettled([
    startEphemeralStack(path.resolve('.'), label, () => undefined),
    startEphemeralStack(path.resolve('test/fixtures/esm-service'), `${label}-ceiling`, () => undefined),
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

/** A stack's Kinesis, its Lambda API (functions) and the local poller's Lambda API (event-source mappings). */
export const stackClients = (s: EphemeralStack) => ({
  kinesis: kinesisClient({ region: s.state.region, kinesis: s.state.endpoints.kinesis }),
  lambda: lambdaClient({ region: s.state.region, lambda: s.state.endpoints.lambda }),
  esm: lambdaClient({ region: s.state.region, lambda: s.state.endpoints.esm }),
});

/** Pins `run` (platform_runs) and makes it the active run, the scope of every function that reads it. */
export async function pinRun(db: pg.Pool, run: string, pinnedBy: string): Promise<void> {
  await db.query(
    `INSERT INTO platform_runs (platform_run_id, pinned_at_utc, pinned_by, stream_settings)
     VALUES ($1, now(), $2, '{}') ON CONFLICT DO NOTHING`,
    [run, pinnedBy],
  );
  await db.query(
    `INSERT INTO active_run (singleton, platform_run_id, updated_at_utc) VALUES (true, $1, now())
     ON CONFLICT (singleton) DO UPDATE SET platform_run_id = EXCLUDED.platform_run_id, updated_at_utc = now()`,
    [run],
  );
}

/** The fixture's mappings all disabled (settled), its tables made; the counter's drain context. */
export async function fixtureCeiling(
  fixture: EphemeralStack,
  db: pg.Pool,
  limitSeconds: number,
): Promise<{ fx: FixtureContext; mappings: Mapping[] }> {
  const f = stackClients(fixture);
  const mappings = await listMappings(f.esm);
  await setEnabled(f.esm, mappings, false, true);
  const counter = mappings.find((m) => m.functionName === THROUGHPUT_FN);
  if (!counter) throw new Error(`no mapping for ${THROUGHPUT_FN} in the fixture`);
  await db.query(ESM_FIXTURE_SCHEMA);
  return { fx: { db, ...f, mapping: counter, limitSeconds }, mappings };
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
    const p = stackClients(product);
    const functionOf = (projector: Projector) =>
      `${product.state.service}-${product.state.stage}-${projector}`;
    const projectorFunctions = new Set(PROJECTORS.map(functionOf));
    // Every mapping of the product disabled (the decision lane's too: it reads the traffic topic).
    const allMappings = await listMappings(p.esm);
    await setEnabled(p.esm, allMappings, false, true);
    const mappings = allMappings.filter((m) => projectorFunctions.has(m.functionName));
    const { fx, mappings: fixtureMappings } = await fixtureCeiling(fixture, fdb, limitSeconds);
    say(
      `  ${allMappings.length} product mappings (${mappings.length} of the projectors) and ${fixtureMappings.length} fixture mappings disabled`,
    );

    const ctx: ProductContext = { db, lambda: p.lambda, esm: p.esm, mappings, functionOf, limitSeconds };
    const drains: ProjectorDrain[] = [];
    let meanBytes = 0;
    const ceilings: Record<Placement, CeilingDrain[]> = { 1: [], 2: [] };
    for (const placement of [1, 2] as const) {
      const run = placement === 1 ? 'platform_20320101T000001Z' : 'platform_20320101T000002Z';
      await pinRun(db, run, 'bench-rtdl');
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
          `    ceiling (fixture counter): ${wholeNumber(c.rate)} rec/s (${c.seconds.toFixed(2)} s; first invoke → last end ${wholeNumber(c.firstToLastRate)} rec/s)`,
        );
      };
      await ceiling();
      for (const projector of PROJECTORS) {
        const d = await drainProjector(ctx, projector, backlog, ends);
        drains.push(d);
        say(
          `    ${projector}: ${d.records} records in ${d.seconds.toFixed(2)} s = ${wholeNumber(d.rate)} rec/s (${d.shardsRead} shards read); Postgres sessions: ${topWaits(d.waits)}`,
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
    const onlineFeatures = await onlineFeaturesHistory(db, size, say, fixtureStopped);
    return rtdlOutcome({
      size,
      records,
      stackSeconds,
      meanBytes,
      drains,
      ceilings,
      onlineFeatures,
      mappings,
      functionOf,
    });
  } finally {
    await db.end().catch(() => undefined);
    await stopFixture().catch(() => undefined);
    await product.stop();
  }
}
