import path from 'node:path';
import pg from 'pg';
import { paths } from '../local/stack-config.ts';
import {
  decisionLatency,
  drainFabric,
  fabricFunction,
  ingestionGateBound,
  type LaneContext,
} from './decision-lane.ts';
import { type DecisionFigures, decisionOutcome, invocationsLabel } from './decision-report.ts';
import { type DecisionSize, decisionBacklog, decisionSizes, trafficOf } from './decision-world.ts';
import { type Bench, type BenchOutcome, secondsSince } from './report.ts';
import { fixtureCeiling, pinRun, stackClients, startBoth } from './rtdl.ts';
import { invoke, listMappings, putBacklog, setEnabled } from './rtdl-bus.ts';
import {
  BENCH_APPLICATION,
  type CeilingDrain,
  drainCeiling,
  drainProjector,
  type ProductContext,
  type ProjectorDrain,
} from './rtdl-drain.ts';
import { shardsLabel, topWaits, wholeNumber } from './rtdl-report.ts';

/**
 * `npm run bench -- decision`: the decision fabric (docs/decision-lane.md) on a throwaway local cloud of the product,
 * issue 14's "decisions/s from traffic on the bus to decision admitted, beside the ESM fixture ceiling in the same
 * run; target ≥ 0.3× the ceiling; decision latency p50 < 500 ms on an idle local cloud". Built on the rtdl bench's
 * parts (bench/rtdl*.ts): the same stacks, bus, mapping switches and ceiling.
 *
 * 1. Decisions/s: a backlog of flows of a pinned run (per flow an arrival event, its arrival entities, its flow
 *    anchor and two traffic events; flows alternating between the two shards) waits on the bus with every mapping
 *    of the product disabled; the degrade ladder is invoked once so the fabric has a posture. The online features,
 *    then the context store, drain it alone (the fabric's context: entities, READY bindings, features covering each
 *    traffic offset); then the decision fabric's mapping is enabled alone and timed from that call until df_decisions
 *    holds one published decision per traffic event. Decisions/s = traffic events ÷ seconds. The action layer,
 *    decision log, archive writer and identity graph stay disabled throughout.
 * 2. The ceiling: the ESM fixture's counter (`throughput`) on a second throwaway stack draining the same traffic
 *    records (same bytes, count, shard placement), timed the same way, before and after the fabric; ratio =
 *    decisions/s ÷ the mean ceiling (target ≥ 0.3; reported, never asserted).
 * 3. Latency on an idle cloud: the online features, context store and fabric enabled; flows one at a time (context
 *    first, waited for until READY, then one traffic event); latency = admitted_at_ms − bus_arrival_ms from
 *    df_decisions; p50 and p99 (target p50 < 500 ms; reported, never asserted).
 *
 * Here the entry (the sequence of a run); the parts: decision-world.ts (sizes, flows, backlogs, latency figures),
 * decision-lane.ts (the fabric's drain, the latency flows, the posture, the decisions' mix), decision-report.ts.
 */

// What the bench's unit tests (test/unit/bench/decision.test.ts) import from here.
export { decisionOutcome } from './decision-report.ts';
export {
  ARRIVAL_ENTITIES_TOPIC,
  CONTEXT_TOPICS,
  DECISION_TOPICS,
  decisionBacklog,
  decisionFlowEvents,
  decisionSizes,
  latencyFigures,
  latencyFlow,
  trafficOf,
} from './decision-world.ts';

export const decisionBench: Bench = {
  name: 'decision',
  summary:
    'Decision fabric: decisions/s bus → admitted ÷ the ESM fixture ceiling (same traffic records, 2 shards); decision latency p50/p99 on an idle cloud',
  run: ({ smoke, say }) => benchDecision(decisionSizes(smoke), smoke, say),
};

const RUN = 'platform_20340101T000001Z';
const PLACEMENT = 2;

async function benchDecision(
  size: DecisionSize,
  smoke: boolean,
  say: (line: string) => void,
): Promise<BenchOutcome> {
  const backlog = decisionBacklog(RUN, 0, size.flows, PLACEMENT);
  const traffic = trafficOf(backlog);
  say(
    `bench decision: throwaway local clouds of the product and of test/fixtures/esm-service; a backlog of ${backlog.records} records (${size.flows} flows, ${traffic.records} traffic events, ${shardsLabel(PLACEMENT)}), then ${size.latencyFlows} flows one at a time`,
  );
  const t0 = performance.now();
  const [product, fixture] = await startBoth(say, 'bench-decision');
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
    const limitSeconds = smoke ? 120 : 900;
    const p = stackClients(product);
    const functionOf = (name: string) => `${product.state.service}-${product.state.stage}-${name}`;
    const mappings = await listMappings(p.esm);
    await setEnabled(p.esm, mappings, false, true);
    const { fx, mappings: fixtureMappings } = await fixtureCeiling(fixture, fdb, limitSeconds);
    const of = (name: string) => mappings.filter((m) => m.functionName === functionOf(name));
    const fabric = mappings.filter((m) => m.functionName === fabricFunction(product.state));
    if (fabric.length === 0) throw new Error(`no mapping for ${fabricFunction(product.state)}`);
    say(`  ${mappings.length} product mappings and ${fixtureMappings.length} fixture mappings disabled`);

    await pinRun(db, RUN, 'bench-decision');
    const tick = (await invoke(p.lambda, functionOf('degrade-ladder'), {})) as { mode?: string };
    const ends = await putBacklog(p.kinesis, backlog);
    say(
      `  ${backlog.records} records of run ${RUN} waiting on ${ends.length} (topic, shard)s; degrade ladder: ${tick.mode}`,
    );

    const ctx: ProductContext = { db, lambda: p.lambda, esm: p.esm, mappings, functionOf, limitSeconds };
    const context: ProjectorDrain[] = [];
    for (const projector of ['online-features', 'context-store'] as const) {
      const d = await drainProjector(ctx, projector, backlog, ends);
      context.push(d);
      say(
        `    ${projector} (context): ${d.records} records in ${d.seconds.toFixed(2)} s = ${wholeNumber(d.rate)} rec/s`,
      );
    }
    const ceilings: CeilingDrain[] = [];
    const ceiling = async () => {
      const c = await drainCeiling(fx, traffic);
      ceilings.push(c);
      say(
        `    ceiling (fixture counter): ${wholeNumber(c.rate)} rec/s (${c.seconds.toFixed(2)} s; first invoke → last end ${wholeNumber(c.firstToLastRate)} rec/s)`,
      );
    };
    await ceiling();
    const lane: LaneContext = {
      db,
      ...p,
      state: product.state,
      run: RUN,
      fabric,
      context: [...of('online-features'), ...of('context-store')],
      limitSeconds,
      lambdaLog: path.join(paths(product.config).logs, 'lambda.log'),
    };
    const drain = await drainFabric(lane, backlog);
    say(
      `    decision-fabric: ${drain.records} decisions in ${drain.seconds.toFixed(2)} s = ${wholeNumber(drain.rate)} decisions/s; posture ${drain.posture.before} → ${drain.posture.after}; sessions: ${topWaits(drain.waits)}; ${invocationsLabel(drain.invocations)}`,
    );
    await ceiling();
    // Each of the fabric's consumers publishes a batch's chunks (decision and intent of 500 events: two) at once.
    const bound = await ingestionGateBound(lane, 2 * PLACEMENT);
    say(
      `    IG alone (the fabric's envelopes re-keyed, ${bound.inFlight} requests of 500 at once): ${wholeNumber(bound.rate)} envelopes/s = ${wholeNumber(bound.decisionsPerSecond)} decisions/s`,
    );
    // The fixture stack stops before the latency part: the cloud is idle but for the flows decided one at a time.
    await stopFixture();
    say(`  latency: ${size.latencyFlows} flows one at a time`);
    const latency = await decisionLatency(lane, size.flows, size.latencyFlows, PLACEMENT, say);
    say(
      `    p50 ${Math.round(latency.figures.p50)} ms, p99 ${Math.round(latency.figures.p99)} ms; posture ${latency.posture.before} → ${latency.posture.after}`,
    );
    const figures: DecisionFigures = {
      size,
      records: backlog.records,
      traffic: traffic.records,
      meanTrafficBytes: traffic.meanBytes,
      stackSeconds,
      ladder: String(tick.mode),
      context,
      fabric: drain,
      ceilings,
      bound,
      latency,
      fabricMappings: fabric,
    };
    return decisionOutcome(figures);
  } finally {
    await db.end().catch(() => undefined);
    await stopFixture().catch(() => undefined);
    await product.stop();
  }
}
