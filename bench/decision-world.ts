import { parseJsonLossless } from '../lib/contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../lib/contracts/envelope.ts';
import { sha256Hex } from '../lib/contracts/identity.ts';
import { flowIdOf, pinsOf } from '../lib/decision-fabric/context.ts';
import { percentile } from './report.ts';
import {
  type Backlog,
  type BusEvent,
  backlogFrom,
  flowEvents,
  type Placement,
  TOPIC,
  tsOf,
} from './rtdl-world.ts';

/**
 * The world and sizes of `npm run bench -- decision` (bench/decision.ts): the RTDL bench's flow mix
 * (bench/rtdl-world.ts) with each flow's arrival entities added — per flow its arrival event, arrival entities, flow
 * anchor and two traffic events, what the decision fabric needs before it decides on a traffic event: the flow's
 * anchor applied by the online features and a READY binding from the context store (a join frame with the arrival
 * event and the anchor) — as backlogs; and the latency figures of a few samples.
 */

export const ARRIVAL_ENTITIES_TOPIC = 'fp.bus.context.arrival_entities.v1';
/** The topics of a decision backlog, in the order they are put on the bus (the traffic last). */
export const DECISION_TOPICS: readonly string[] = [
  TOPIC.arrival,
  ARRIVAL_ENTITIES_TOPIC,
  TOPIC.anchor,
  TOPIC.traffic,
];
/** The flow's context: what must be applied before its traffic is decided on with its context READY. */
export const CONTEXT_TOPICS: readonly string[] = DECISION_TOPICS.filter((t) => t !== TOPIC.traffic);

const SIZES = {
  // 2,000 flows: 4,000 traffic events, 2,000 on each of the two traffic shards (four batches of 500 each).
  full: { flows: 2_000, latencyFlows: 36 },
  smoke: { flows: 60, latencyFlows: 5 },
};
export type DecisionSize = { flows: number; latencyFlows: number };

/** Full sizes can be changed with BENCH_DECISION_FLOWS (2 traffic events each) and BENCH_DECISION_LATENCY_FLOWS. */
export function decisionSizes(smoke: boolean): DecisionSize {
  if (smoke) return SIZES.smoke;
  const f = SIZES.full;
  return {
    flows: Number(process.env.BENCH_DECISION_FLOWS ?? f.flows),
    latencyFlows: Number(process.env.BENCH_DECISION_LATENCY_FLOWS ?? f.latencyFlows),
  };
}

/**
 * The five events of flow `f`: its arrival event, its arrival entities (`s1_arrival_entities_6B`: the arrival's
 * join key and the anchor's entities), its flow anchor and two traffic events.
 */
export function decisionFlowEvents(platformRunId: string, f: number): BusEvent[] {
  const [arrival, ...rest] = flowEvents(platformRunId, f);
  if (!arrival) throw new Error(`flow ${f} has no arrival event`);
  const anchor = rest.find((e) => e.topic === TOPIC.anchor)?.envelope.payload as Record<string, unknown>;
  const { merchant_id, arrival_seq } = arrival.envelope.payload as Record<string, unknown>;
  const { party_id, account_id, instrument_id, device_id, ip_id } = anchor;
  const arrivalMicros = Date.parse(String(arrival.envelope.ts_utc)) * 1000;
  const entities: BusEvent = {
    topic: ARRIVAL_ENTITIES_TOPIC,
    flow: f,
    envelope: {
      ...arrival.envelope,
      event_id: sha256Hex(`bench-decision:${platformRunId}:arrival-entities:${f}`),
      event_type: 's1_arrival_entities_6B',
      ts_utc: tsOf(arrivalMicros + 500),
      payload: {
        merchant_id,
        arrival_seq,
        party_id,
        account_id,
        instrument_id,
        device_id,
        ip_id,
        session_id: `session-${f}`,
      },
    },
  };
  return [arrival, entities, ...rest];
}

/** The backlog of flows `firstFlow` … `firstFlow + flows - 1`: every event of each, on the decision topics. */
export function decisionBacklog(
  platformRunId: string,
  firstFlow: number,
  flows: number,
  placement: Placement,
): Backlog {
  const events: BusEvent[] = [];
  for (let f = firstFlow; f < firstFlow + flows; f++) events.push(...decisionFlowEvents(platformRunId, f));
  return backlogFrom(platformRunId, placement, events, DECISION_TOPICS);
}

/** The backlog's traffic records alone (same bytes, same shards): what the ceiling drains. */
export function trafficOf(backlog: Backlog): Backlog {
  const traffic = backlog.topics.get(TOPIC.traffic) ?? [];
  const bytes = traffic.reduce((n, r) => n + r.data.length, 0);
  return {
    ...backlog,
    records: traffic.length,
    meanBytes: bytes / traffic.length,
    topics: new Map([[TOPIC.traffic, traffic]]),
  };
}

/**
 * One flow of the latency part: its context as a backlog, then its first traffic event alone; and that event's
 * id, flow id and context pins as the fabric reads them from its bytes.
 */
export function latencyFlow(platformRunId: string, f: number, placement: Placement) {
  const events = decisionFlowEvents(platformRunId, f);
  const context = events.filter((e) => e.topic !== TOPIC.traffic);
  const traffic = backlogFrom(
    platformRunId,
    placement,
    events.filter((e) => e.topic === TOPIC.traffic).slice(0, 1),
    [TOPIC.traffic],
  );
  const bytes = traffic.topics.get(TOPIC.traffic)?.[0]?.data.toString('utf8') ?? '';
  const envelope = CanonicalEnvelope.parse(parseJsonLossless(bytes));
  const flowId = flowIdOf(envelope);
  if (flowId === null) throw new Error(`flow ${f}: its traffic event names no flow`);
  return {
    context: backlogFrom(platformRunId, placement, context, CONTEXT_TOPICS),
    traffic,
    trafficEventId: envelope.event_id,
    flowId,
    pins: pinsOf(envelope),
  };
}

/** Latency figures (ms) of the samples: p50 and p99 by nearest rank (with under 100 samples p99 is the max). */
export function latencyFigures(ms: readonly number[]) {
  const xs = [...ms];
  return {
    n: xs.length,
    p50: percentile(xs, 50),
    p90: percentile(xs, 90),
    p99: percentile(xs, 99),
    min: xs.length ? Math.min(...xs) : Number.NaN,
    max: xs.length ? Math.max(...xs) : Number.NaN,
    mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN,
  };
}
export type LatencyFigures = ReturnType<typeof latencyFigures>;
