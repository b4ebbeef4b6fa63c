import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ARRIVAL_ENTITIES_TOPIC,
  CONTEXT_TOPICS,
  DECISION_TOPICS,
  decisionBacklog,
  decisionFlowEvents,
  decisionOutcome,
  decisionSizes,
  latencyFigures,
  latencyFlow,
  trafficOf,
} from '../../../bench/decision.ts';
import { type FabricDrain, invocationsIn, type LatencyRun } from '../../../bench/decision-lane.ts';
import type { DecisionFigures } from '../../../bench/decision-report.ts';
import { flowEvents } from '../../../bench/rtdl.ts';
import { parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import { FLOW_ANCHOR_TOPIC, TRAFFIC_TOPIC } from '../../../lib/online-features/intake.ts';

const RUN = 'platform_20340101T000001Z';
const ARRIVAL_TOPIC = 'fp.bus.context.arrival_events.v1';

describe('bench decision: the flows', () => {
  it("a flow is the rtdl bench's flow with its arrival entities after its arrival event", () => {
    const events = decisionFlowEvents(RUN, 7);
    expect(events.map((e) => [e.topic, e.envelope.event_type])).toEqual([
      [ARRIVAL_TOPIC, 'arrival_events_5B'],
      [ARRIVAL_ENTITIES_TOPIC, 's1_arrival_entities_6B'],
      [FLOW_ANCHOR_TOPIC, 's3_flow_anchor_with_fraud_6B'],
      [TRAFFIC_TOPIC, 's3_event_stream_with_fraud_6B'],
      [TRAFFIC_TOPIC, 's3_event_stream_with_fraud_6B'],
    ]);
    expect(events.filter((e) => e.topic !== ARRIVAL_ENTITIES_TOPIC)).toEqual(flowEvents(RUN, 7));
    for (const e of events) expect(CanonicalEnvelope.safeParse(e.envelope).success).toBe(true);
    expect(new Set(events.map((e) => e.envelope.event_id)).size).toBe(5);
    expect(events.every((e) => e.envelope.platform_run_id === RUN && e.flow === 7)).toBe(true);
    expect(decisionFlowEvents(RUN, 7)).toEqual(events); // deterministic
  });

  it("the arrival entities join the arrival event's frame and name the anchor's entities", () => {
    const [arrival, entities, anchor] = decisionFlowEvents(RUN, 11).map(
      (e) => e.envelope.payload as Record<string, unknown>,
    );
    expect(entities).toMatchObject({ merchant_id: arrival?.merchant_id, arrival_seq: arrival?.arrival_seq });
    for (const key of ['party_id', 'account_id', 'instrument_id', 'device_id', 'ip_id'])
      expect(entities?.[key]).toBe(anchor?.[key]);
  });
});

describe('bench decision: backlogs', () => {
  it('a backlog holds every event of its flows on the decision topics, flows alternating between two shards', () => {
    const backlog = decisionBacklog(RUN, 0, 4, 2);
    expect([...backlog.topics.keys()]).toEqual(DECISION_TOPICS);
    expect(backlog.records).toBe(20);
    expect(backlog.topics.get(TRAFFIC_TOPIC)?.map((r) => r.shard)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(backlog.topics.get(ARRIVAL_ENTITIES_TOPIC)?.map((r) => r.shard)).toEqual([0, 1, 0, 1]);
    const first = backlog.topics.get(ARRIVAL_ENTITIES_TOPIC)?.[0]?.data.toString('utf8') ?? '';
    expect(parseJsonLossless(first)).toMatchObject({ event_type: 's1_arrival_entities_6B' });
  });

  it('the ceiling drains the traffic records alone: same bytes, same shards', () => {
    const backlog = decisionBacklog(RUN, 0, 6, 2);
    const traffic = trafficOf(backlog);
    expect([...traffic.topics.keys()]).toEqual([TRAFFIC_TOPIC]);
    expect(traffic.records).toBe(12);
    expect(traffic.topics.get(TRAFFIC_TOPIC)).toBe(backlog.topics.get(TRAFFIC_TOPIC));
    const bytes = traffic.topics.get(TRAFFIC_TOPIC)?.reduce((n, r) => n + r.data.length, 0) ?? 0;
    expect(traffic.meanBytes).toBeCloseTo(bytes / 12);
  });

  it('at full size each traffic shard holds whole batches of 500 (the fabric’s batchSize)', () => {
    const traffic = trafficOf(decisionBacklog(RUN, 0, decisionSizes(false).flows, 2));
    for (const shard of [0, 1]) {
      const n = traffic.topics.get(TRAFFIC_TOPIC)?.filter((r) => r.shard === shard).length ?? 0;
      expect(n).toBeGreaterThan(0);
      expect(n % 500).toBe(0);
    }
  });

  it('a latency flow is its context, then its first traffic event, with what the fabric reads from its bytes', () => {
    const flow = latencyFlow(RUN, 2_005, 2);
    expect([...flow.context.topics.keys()]).toEqual(CONTEXT_TOPICS);
    expect(flow.context.records).toBe(3);
    expect(flow.traffic.records).toBe(1);
    const traffic = decisionFlowEvents(RUN, 2_005)[3]?.envelope as {
      event_id: string;
      payload: { flow_id: bigint };
    };
    expect(flow.trafficEventId).toBe(traffic.event_id);
    expect(flow.flowId).toBe(String(traffic.payload.flow_id));
    expect(flow.pins).toMatchObject({ platform_run_id: RUN, seed: 42, scenario_id: 'baseline_v1' });
    expect(flow.traffic.topics.get(TRAFFIC_TOPIC)?.[0]?.shard).toBe(1);
  });
});

describe('bench decision: sizes and figures', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('smoke is tiny; full is 2,000 flows and 36 latency flows; the environment changes the full sizes', () => {
    expect(decisionSizes(true).flows * 5).toBeLessThan(500);
    expect(decisionSizes(false)).toEqual({ flows: 2_000, latencyFlows: 36 });
    vi.stubEnv('BENCH_DECISION_FLOWS', '500');
    vi.stubEnv('BENCH_DECISION_LATENCY_FLOWS', '12');
    expect(decisionSizes(false)).toEqual({ flows: 500, latencyFlows: 12 });
  });

  it('latency figures: percentiles by nearest rank, NaN without samples', () => {
    const f = latencyFigures([400, 100, 300, 200, 1_000]);
    expect(f).toMatchObject({ n: 5, p50: 300, p90: 1_000, p99: 1_000, min: 100, max: 1_000, mean: 400 });
    expect(latencyFigures([]).p50).toBeNaN();
  });
});

describe('bench decision: the outcome', () => {
  const mix = { actions: { 'ALLOW / CONTEXT_READY': 40 }, publish: { 'ADMIT,ADMIT': 40 }, reasons: {} };
  const ceiling = (rate: number) => ({ records: 40, seconds: 40 / rate, rate, firstToLastRate: rate * 2 });
  const figures: DecisionFigures = {
    size: { flows: 20, latencyFlows: 3 },
    records: 100,
    traffic: 40,
    meanTrafficBytes: 700,
    stackSeconds: 30,
    ladder: 'NORMAL',
    context: [],
    fabric: {
      records: 40,
      seconds: 2,
      rate: 20,
      placement: 2,
      posture: { before: 'NORMAL (seq 1)', after: 'NORMAL (seq 1)' },
      waits: {},
      mix,
      invocations: { 'decision-fabric': { n: 2, meanMs: 900, maxMs: 1_000 } },
    } satisfies FabricDrain,
    ceilings: [ceiling(900), ceiling(1_100)],
    bound: {
      envelopes: 80,
      requests: 1,
      inFlight: 4,
      seconds: 0.5,
      rate: 160,
      decisionsPerSecond: 80,
      answers: { ADMIT: 80 },
    },
    latency: {
      figures: latencyFigures([300, 450, 700]),
      samples: [300, 450, 700],
      posture: { before: 'NORMAL (seq 1)', after: 'NORMAL (seq 1)' },
      mix,
      contextSeconds: [0.3, 0.4, 0.5],
    } satisfies LatencyRun,
    fabricMappings: [],
  };

  it('rows: decisions/s, the mean ceiling, IG alone, latency p50 and p99; ratios to the ceiling and to IG, never judged', () => {
    const outcome = decisionOutcome(figures);
    expect(outcome.rows.map((r) => [r.name, r.value, r.unit])).toEqual([
      ['decision fabric, 2 shards', 20, 'decisions/s'],
      ['ceiling: ESM fixture counter, 2 shards', 1_000, 'rec/s'],
      ['IG alone: decisions/s it can admit', 80, 'decisions/s'],
      ['decision latency p50, idle', 450, 'ms'],
      ['decision latency p99, idle', 700, 'ms'],
    ]);
    // 0.02 is far below the 0.3 target: reported, not thrown.
    expect(outcome.ratios).toEqual([
      {
        measure: 'decision fabric, 2 shards',
        ceiling: 'ceiling: ESM fixture counter, 2 shards',
        ratio: 0.02,
        meaning: expect.stringContaining('target ≥ 0.3'),
      },
      {
        measure: 'decision fabric, 2 shards',
        ceiling: 'IG alone: decisions/s it can admit',
        ratio: 0.25,
        meaning: expect.stringContaining('IG alone'),
      },
      {
        measure: 'IG alone: decisions/s it can admit',
        ceiling: 'ceiling: ESM fixture counter, 2 shards',
        ratio: 0.08,
        meaning: expect.stringContaining('the most'),
      },
    ]);
    expect(outcome.notes?.targets).toMatchObject({ latencyP50Ms: expect.stringContaining('< 500') });
    expect(outcome.rows[0]?.note).toContain('invocations: decision-fabric 2 × 900 ms (max 1000)');
  });

  it("reads each invocation's duration from serverless-offline's Lambda log", () => {
    const log = [
      '(λ: decision-fabric) RequestId: 69093fb9-1b77  Duration: 1453.69 ms  Billed Duration: 1454 ms',
      'some other line',
      '(λ: ingestion-gate-api) RequestId: 5fd194e1  Duration: 100.4 ms  Billed Duration: 101 ms',
      '(λ: decision-fabric) RequestId: f90da6bf  Duration: 546.31 ms  Billed Duration: 547 ms',
    ].join('\n');
    expect(invocationsIn(log)).toEqual({
      'decision-fabric': { n: 2, meanMs: 1_000, maxMs: 1_454 },
      'ingestion-gate-api': { n: 1, meanMs: 100, maxMs: 100 },
    });
    expect(invocationsIn('')).toEqual({});
  });
});
