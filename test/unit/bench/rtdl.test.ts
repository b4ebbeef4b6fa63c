import { afterEach, describe, expect, it, vi } from 'vitest';
import { backlogOf, flowEvents, partitionKeyIn, sizes, tsOf } from '../../../bench/rtdl.ts';
import { parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import { FLOW_ANCHOR_TOPIC, TRAFFIC_TOPIC } from '../../../lib/online-features/intake.ts';

const RUN = 'platform_20320101T000001Z';
const ARRIVAL_TOPIC = 'fp.bus.context.arrival_events.v1';

describe('bench rtdl: the flow mix', () => {
  it('a flow is its arrival event, its flow anchor and two traffic events: canonical envelopes of the run', () => {
    const events = flowEvents(RUN, 7);
    expect(events.map((e) => [e.topic, e.envelope.event_type])).toEqual([
      [ARRIVAL_TOPIC, 'arrival_events_5B'],
      [FLOW_ANCHOR_TOPIC, 's3_flow_anchor_with_fraud_6B'],
      [TRAFFIC_TOPIC, 's3_event_stream_with_fraud_6B'],
      [TRAFFIC_TOPIC, 's3_event_stream_with_fraud_6B'],
    ]);
    for (const e of events) expect(CanonicalEnvelope.safeParse(e.envelope).success).toBe(true);
    expect(new Set(events.map((e) => e.envelope.event_id)).size).toBe(4);
    expect(events.every((e) => e.envelope.platform_run_id === RUN)).toBe(true);
    const anchor = events[1]?.envelope.payload as Record<string, unknown>;
    expect(Object.keys(anchor).sort()).toEqual(
      [
        'account_id',
        'amount',
        'arrival_seq',
        'device_id',
        'flow_id',
        'instrument_id',
        'ip_id',
        'merchant_id',
        'party_id',
      ].sort(),
    );
    // The join key of the context store: the anchor's (merchant, arrival_seq) is its arrival event's.
    expect(events[0]?.envelope.payload).toEqual({
      merchant_id: anchor.merchant_id,
      arrival_seq: anchor.arrival_seq,
    });
    expect(flowEvents(RUN, 7)).toEqual(events); // deterministic
  });

  it('anchors draw entities from bounded pools, so entities repeat as history grows', () => {
    const merchants = new Set(
      Array.from({ length: 5_000 }, (_, f) =>
        String(
          (flowEvents(RUN, f)[1]?.envelope.payload as { merchant_id?: number } | undefined)?.merchant_id,
        ),
      ),
    );
    expect(merchants.size).toBeLessThanOrEqual(200);
    expect(merchants.size).toBeGreaterThan(150);
  });

  it('event times are RFC 3339 with microseconds', () => {
    expect(tsOf(Date.UTC(2026, 2, 8) * 1000 + 1_234_567)).toBe('2026-03-08T00:00:01.234567Z');
    expect(tsOf(Date.UTC(2026, 2, 8) * 1000)).toBe('2026-03-08T00:00:00.000000Z');
  });

  it('the backlog bytes are the canonical JSON of the envelopes', () => {
    const backlog = backlogOf(RUN, 0, 3, 2);
    const first = backlog.topics.get(FLOW_ANCHOR_TOPIC)?.[0];
    expect(parseJsonLossless(first?.data.toString('utf8') ?? '')).toMatchObject({
      event_type: 's3_flow_anchor_with_fraud_6B',
    });
    expect(backlog.records).toBe(12);
  });
});

describe('bench rtdl: placement on shards', () => {
  it('one shard puts every record on shard 0; two alternate flows, keeping a flow on one shard', () => {
    const one = backlogOf(RUN, 0, 10, 1);
    expect([...one.topics.values()].flat().every((r) => r.shard === 0)).toBe(true);
    const two = backlogOf(RUN, 0, 10, 2);
    expect(two.topics.get(TRAFFIC_TOPIC)?.map((r) => r.shard)).toEqual([
      0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1,
    ]);
  });

  it('at full size every (topic, shard) holds whole batches of 500 and of 1,000 (the archive writer)', () => {
    const { flows } = sizes(false);
    for (const placement of [1, 2] as const) {
      const backlog = backlogOf(RUN, 0, flows, placement);
      for (const records of backlog.topics.values())
        for (const shard of [0, 1]) {
          const n = records.filter((r) => r.shard === shard).length;
          expect(n % 1_000).toBe(0);
        }
    }
  });

  it('finds a partition key inside each half of the hash key space (MD5, as Kinesis routes)', () => {
    const half = 2n ** 127n;
    const low = partitionKeyIn(0n, half - 1n);
    const high = partitionKeyIn(half, 2n ** 128n - 1n);
    expect(low).not.toBe(high);
    expect(partitionKeyIn(0n, 2n ** 128n - 1n)).toBe('rtdl-0');
  });
});

describe('bench rtdl: sizes', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('smoke is tiny; full is 10k → 200k history; BENCH_RTDL_FLOWS and BENCH_RTDL_HISTORY change the full sizes', () => {
    expect(sizes(true)).toMatchObject({ history: [1_000, 5_000] });
    expect(sizes(true).flows * 4).toBeLessThan(500);
    expect(sizes(false)).toMatchObject({ flows: 2_000, history: [10_000, 200_000], probe: 2_000 });
    vi.stubEnv('BENCH_RTDL_FLOWS', '500');
    vi.stubEnv('BENCH_RTDL_HISTORY', '2000,20000');
    expect(sizes(false)).toMatchObject({ flows: 500, history: [2_000, 20_000] });
  });
});
