import type { FabricDrain, IngestionGateBound, Invocations, LatencyRun } from './decision-lane.ts';
import type { DecisionSize } from './decision-world.ts';
import { type BenchOutcome, type Row, ratio, row } from './report.ts';
import type { Mapping } from './rtdl-bus.ts';
import type { CeilingDrain, ProjectorDrain } from './rtdl-drain.ts';
import { shardsLabel, topWaits, wholeNumber } from './rtdl-report.ts';

/**
 * What `npm run bench -- decision` (bench/decision.ts) reports: decisions/s beside the ceiling and their ratio, the
 * latency on an idle cloud, the notes a reader of the JSON needs, the raw figures.
 */

/** Everything the bench measured, and what it needs to say how. */
export interface DecisionFigures {
  size: DecisionSize;
  /** Records of the backlog (every topic), and its traffic events. */
  records: number;
  traffic: number;
  meanTrafficBytes: number;
  stackSeconds: number;
  /** What the degrade ladder's tick after pinning the run answered (its mode). */
  ladder: string;
  /** The online features' and the context store's drains of the backlog (untimed for the measure). */
  context: ProjectorDrain[];
  fabric: FabricDrain;
  /** The ceiling's drains of the same traffic records, before and after the fabric's. */
  ceilings: CeilingDrain[];
  /** What IG alone admits of the fabric's envelopes (its bound on decisions/s). */
  bound: IngestionGateBound;
  latency: LatencyRun;
  fabricMappings: Mapping[];
}

const ms = (x: number) => `${Math.round(x)} ms`;
/** The largest share of a tally, as `key (n of total)`. */
const largest = (tally: Record<string, number>) => {
  const total = Object.values(tally).reduce((a, b) => a + b, 0);
  const [key, n] = Object.entries(tally).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  return `${key} (${n} of ${total})`;
};

/** `fn: n × mean ms (max)` for each function invoked, most invoked first. */
export const invocationsLabel = (invocations: Invocations) =>
  `invocations: ${
    Object.entries(invocations)
      .sort((a, b) => b[1].n - a[1].n)
      .map(([fn, i]) => `${fn} ${i.n} × ${i.meanMs} ms (max ${i.maxMs})`)
      .join(', ') || 'none logged'
  }`;

export function decisionOutcome(f: DecisionFigures): BenchOutcome {
  const shards = shardsLabel(f.fabric.placement);
  const ceilingRate = f.ceilings.reduce((s, c) => s + c.rate, 0) / Math.max(1, f.ceilings.length);
  const fabric = row(
    `decision fabric, ${shards}`,
    f.fabric.rate,
    'decisions/s',
    `${f.traffic} traffic events (${f.size.flows} flows) in ${f.fabric.seconds.toFixed(2)} s, enable → one published decision each in df_decisions; posture ${f.fabric.posture.before} → ${f.fabric.posture.after}; ${largest(f.fabric.mix.actions)}; sessions: ${topWaits(f.fabric.waits)}; ${invocationsLabel(f.fabric.invocations)}`,
  );
  const ceiling = row(
    `ceiling: ESM fixture counter, ${shards}`,
    ceilingRate,
    'rec/s',
    `the same ${f.traffic} traffic records, enable → all counted; before / after the fabric: ${f.ceilings.map((c) => wholeNumber(c.rate)).join(' / ')}; first invoke → last end: ${f.ceilings.map((c) => wholeNumber(c.firstToLastRate)).join(' / ')}`,
  );
  const l = f.latency.figures;
  const p50 = row(
    'decision latency p50, idle',
    l.p50,
    'ms',
    `${l.n} flows one at a time (context READY first), traffic event's bus arrival → decision admitted by IG (df_decisions); mean ${ms(l.mean)}, min ${ms(l.min)}; posture ${f.latency.posture.before} → ${f.latency.posture.after}`,
  );
  const p99 = row(
    'decision latency p99, idle',
    l.p99,
    'ms',
    `nearest rank of ${l.n} samples${l.n < 100 ? ' (the max, under 100 samples)' : ''}; p90 ${ms(l.p90)}, max ${ms(l.max)}`,
  );
  const b = f.bound;
  const bound = row(
    'IG alone: decisions/s it can admit',
    b.decisionsPerSecond,
    'decisions/s',
    `the fabric's ${b.envelopes} envelopes (a decision and an intent each) re-keyed and posted to IG's batch route with its publisher and key, ${b.requests} requests of 500, ${b.inFlight} at once: ${wholeNumber(b.rate)} envelopes/s in ${b.seconds.toFixed(2)} s`,
  );
  const rows: Row[] = [fabric, ceiling, bound, p50, p99];
  for (const d of f.context)
    rows.push(
      row(
        `${d.projector} (context drain), ${shardsLabel(d.placement)}`,
        d.rate,
        'rec/s',
        `before the fabric, alone: ${d.records} records on ${d.topics.length} topics, enable → checkpoints at the last offsets`,
      ),
    );
  return {
    rows,
    ratios: [
      ratio(fabric, ceiling, `decision fabric decisions/s / the local ceiling, ${shards} (target ≥ 0.3)`),
      ratio(
        fabric,
        bound,
        'decision fabric decisions/s / what IG alone admits of its envelopes (1 = the fabric costs nothing beside IG)',
      ),
      ratio(
        bound,
        ceiling,
        "what IG alone admits, in decisions/s / the local ceiling: the most the fabric's ratio can reach on this machine",
      ),
    ],
    notes: {
      targets: {
        decisionsPerSecondOverCeiling: '≥ 0.3',
        latencyP50Ms: '< 500 on an idle local cloud',
        asserted: 'never: numbers only',
      },
      sizes: {
        ...f.size,
        recordsInBacklog: f.records,
        trafficEvents: f.traffic,
        meanTrafficRecordBytes: Math.round(f.meanTrafficBytes),
      },
      method:
        "Per flow an arrival event, its arrival entities, its flow anchor (entities from bounded pools) and two traffic events, valid envelopes of a pinned run, flows alternating between the two shards of each stream. The whole backlog waits on the bus with every mapping of the product disabled (UpdateEventSourceMapping on the local poller). The degrade ladder is invoked once after the run is pinned (its schedule also ticks every minute). The online features, then the context store, are enabled alone until their checkpoints reach the backlog's last offsets (P8's position check, their reports' applied counts checked), and disabled: the fabric's context (entities, a READY binding, features covering each traffic offset) is in place. Then the decision fabric's mapping is enabled alone (its workers and IG's warmed first) and timed from that call until df_decisions holds a published decision for every traffic event of the backlog (then exactly one each, none CONTEXT_MISSING, or the bench fails). Decisions/s = traffic events / seconds. The action layer, decision log, archive writer and identity graph stay disabled throughout.",
      ceiling:
        "The ESM fixture's counter function (test/fixtures/esm-service `throughput`, batchSize 500, as in the rtdl and esm benches) on its own throwaway stack, draining the backlog's traffic records (same bytes, count and shard placement), timed the same way (enable → every record counted), before and after the fabric; the row is their mean.",
      latency:
        "Then the online features, context store and decision fabric enabled together on the otherwise idle cloud; flows one at a time: the flow's context put on the bus and waited for (the fabric's own context port finds its entities and a READY binding; detail.latency.contextSeconds), then its first traffic event put and waited for until its decision is published. Latency = admitted_at_ms − bus_arrival_ms of its row in df_decisions (Kinesis's arrival time and the fabric's clock when IG answered, same machine). It includes the poller's idle backoff (up to 1 s per shard consumer) and the fabric's wait for the online features to apply the event itself.",
      ingestionGateBound:
        "A decision is admitted when IG admits its response and intent, so IG's batch route bounds decisions/s. After the fabric's drain the run's published envelopes are given new event ids and posted again to IG's batch route with the fabric's publisher and key, 500 a request, 4 at once (2 consumers, each sending a batch's two chunks at once), first request → last answer. Decisions/s IG allows = envelopes/s ÷ 2.",
      posture:
        "The posture the fabric reads per batch (effectivePosture), before and after each part (in the rows' notes). The ladder is ticked once after the run is pinned and then by its schedule every minute. Should it be FAIL_CLOSED (none stored, stale, or a required signal not OK) no feature group is allowed: CONTEXT_BLOCKED, rules not scored, STEP_UP_ONLY (the context wait and the feature snapshots are paid all the same). detail.fabric.mix and detail.latency.mix: the decisions by action / context status, IG's answers, reason codes.",
      warmup:
        'Before each part the fabric is invoked once per consumer with a one-record batch of another run (counted as run_scope_mismatch in its metrics) and IG answers a health call per consumer, so no cold start is timed.',
      mappings: {
        batchSize: [...new Set(f.fabricMappings.map((m) => m.batchSize))],
        batchingWindowSeconds: [...new Set(f.fabricMappings.map((m) => m.windowSeconds))],
        count: f.fabricMappings.length,
      },
      degradeLadderTick: f.ladder,
    },
    detail: {
      stackStartSeconds: Math.round(f.stackSeconds),
      fabric: { ...f.fabric, seconds: Math.round(f.fabric.seconds * 1000) / 1000 },
      ceilings: f.ceilings,
      context: f.context.map((d) => ({ ...d, seconds: Math.round(d.seconds * 1000) / 1000 })),
      latency: f.latency,
    },
  };
}
