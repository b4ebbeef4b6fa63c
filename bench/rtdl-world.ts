import { canonicalJson, pyFloat } from '../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../lib/contracts/identity.ts';
import { FLOW_ANCHOR_TOPIC, TRAFFIC_TOPIC } from '../lib/online-features/intake.ts';

/**
 * The synthetic world of `npm run bench -- rtdl` (bench/rtdl.ts): the flow mix — per flow an arrival event, its flow
 * anchor (entities from bounded pools) and two traffic events, valid envelopes of a pinned run, deterministic — and
 * the backlogs built from it, each topic's records as bytes with the shard each goes to.
 */

/** The topics of the flow mix. */
export const TOPIC = {
  traffic: TRAFFIC_TOPIC,
  anchor: FLOW_ANCHOR_TOPIC,
  arrival: 'fp.bus.context.arrival_events.v1',
} as const;
/** The topics of a backlog, in the order they are put on the bus. */
export const BACKLOG_TOPICS: string[] = [TOPIC.arrival, TOPIC.anchor, TOPIC.traffic];

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
export const POOLS = {
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

/** Where a backlog's flows lie: every record of a topic on one shard, or flows alternating between two. */
export type Placement = 1 | 2;

/** A backlog: each topic's records as bytes, with the shard (index in the stream's shard list) each goes to. */
export interface Backlog {
  platformRunId: string;
  placement: Placement;
  records: number;
  meanBytes: number;
  topics: Map<string, Array<{ data: Buffer; shard: number }>>;
}

/** The backlog of flows `firstFlow` … `firstFlow + flows - 1` of the run, as bytes, placed on the shards. */
export function backlogOf(
  platformRunId: string,
  firstFlow: number,
  flows: number,
  placement: Placement,
): Backlog {
  const events: BusEvent[] = [];
  for (let f = firstFlow; f < firstFlow + flows; f++) events.push(...flowEvents(platformRunId, f));
  return backlogFrom(platformRunId, placement, events, BACKLOG_TOPICS);
}

/**
 * Any events of the run as a backlog: each of `topics` (in the order they are put on the bus) with its events as
 * bytes, in the order given, on shard 0 or, with two shards, on their flow's (flows alternate).
 */
export function backlogFrom(
  platformRunId: string,
  placement: Placement,
  events: readonly BusEvent[],
  topics: readonly string[],
): Backlog {
  const byTopic = new Map<string, Array<{ data: Buffer; shard: number }>>(topics.map((t) => [t, []]));
  let bytes = 0;
  for (const e of events) {
    const records = byTopic.get(e.topic);
    if (!records) throw new Error(`event on ${e.topic}, not a topic of the backlog (${topics.join(', ')})`);
    const data = Buffer.from(canonicalJson(e.envelope));
    records.push({ data, shard: placement === 1 ? 0 : e.flow % 2 });
    bytes += data.length;
  }
  const records = events.length;
  return { platformRunId, placement, records, meanBytes: bytes / records, topics: byTopic };
}
