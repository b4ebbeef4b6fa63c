import { applyContextBatch } from '../../../lib/context-store/intake.ts';
import type { LaneBusRecord } from '../../../lib/contracts/decision-lane.ts';
import type { FeatureBusRecord } from '../../../lib/contracts/online-features.ts';
import { applyOnlineFeatureBatch } from '../../../lib/online-features/intake.ts';
import { SETTINGS as CONTEXT_SETTINGS, contextRecord } from '../../support/context-store.ts';
import { SETTINGS as FEATURE_SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { ANCHOR_ENTITIES, anchorRecord } from '../online-features/anchor-records.ts';
import type { FabricWorld } from './fakes.ts';

/**
 * Flows for the decision fabric's tests: each a flow anchor (read by both the Online Feature Plane and the Context
 * Store, as the bus delivers it to both), its arrival event (the Context Store's other role) and one traffic event —
 * the source event the fabric decides on — with the truth columns the engine writes in both payloads.
 */

export interface FlowSpec {
  flowId: bigint;
  /** The join frame's arrival_seq (one per flow: the merchant is the same). */
  arrivalSeq: number;
  anchorTs: string;
  trafficTs: string;
  amount?: number;
  partition?: number;
}

type Envelope = { envelope: Record<string, unknown> };
export type FlowRecords = Record<'anchor' | 'arrival' | 'traffic', FeatureBusRecord & Envelope>;

export function flowRecords(spec: FlowSpec): FlowRecords {
  const amount = spec.amount ?? 20;
  const anchor = anchorRecord({
    flowId: spec.flowId,
    tsUtc: spec.anchorTs,
    amount,
    eventId: `anchor-${spec.flowId}`,
  });
  (anchor.envelope.payload as Record<string, unknown>).arrival_seq = spec.arrivalSeq;
  const arrival = contextRecord('arrival_events_5B', {
    merchantId: ANCHOR_ENTITIES.merchant_id,
    arrivalSeq: spec.arrivalSeq,
    tsUtc: spec.anchorTs,
    eventId: `arrival-${spec.flowId}`,
  });
  const traffic = trafficRecord({
    flowId: spec.flowId,
    tsUtc: spec.trafficTs,
    amount,
    eventId: `traffic-${spec.flowId}`,
    partition: spec.partition ?? 0,
  });
  return { anchor, arrival, traffic };
}

/**
 * Four flows on one device, instrument and IP, a minute apart: the first of 300 (a high amount from a new device and
 * IP: QUEUE_REVIEW), the second plain (ALLOW), the third and fourth a burst of the device and the instrument (DECLINE).
 */
export const FOUR_FLOWS: readonly FlowSpec[] = [1, 2, 3, 4].map((n) => ({
  flowId: 9_100_000_000_000_000_000n + BigInt(n),
  arrivalSeq: n,
  anchorTs: `2026-03-08T00:0${n}:00.000000Z`,
  trafficTs: `2026-03-08T00:0${n}:05.000000Z`,
  amount: n === 1 ? 300 : 20,
}));
export const FOUR_ACTIONS = ['QUEUE_REVIEW', 'ALLOW', 'DECLINE', 'DECLINE'];

/** A bus record as the fabric's edge hands it over, accepted by Kinesis a second after its event time. */
export function laneRecord(record: FeatureBusRecord & Envelope): LaneBusRecord {
  const ts = record.envelope.ts_utc;
  const at = typeof ts === 'string' && !Number.isNaN(Date.parse(ts)) ? Date.parse(ts) : 0;
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    offset_kind: 'kinesis_sequence',
    published_at_utc: new Date(at + 1000).toISOString(),
    envelope: record.envelope,
  };
}

/** Applies records to the world's Online Feature Plane and Context Store, as their projectors would; all must apply. */
export async function project(
  world: Pick<FabricWorld, 'features' | 'contexts'>,
  records: { features?: readonly FeatureBusRecord[]; context?: readonly FeatureBusRecord[] },
) {
  const outcomes = [
    ...(await applyOnlineFeatureBatch(world.features, records.features ?? [], FEATURE_SETTINGS)),
    ...(await applyContextBatch(world.contexts, records.context ?? [], CONTEXT_SETTINGS)),
  ];
  const refused = outcomes.filter((o) => o.status !== 'APPLIED');
  if (refused.length > 0) throw new Error(`not applied: ${JSON.stringify(refused)}`);
}

/** Every role of the flows applied: anchors and traffic to the features, anchors and arrivals to the context. */
export const projectFlows = (
  world: Pick<FabricWorld, 'features' | 'contexts'>,
  flows: readonly FlowRecords[],
) =>
  project(world, {
    features: [...flows.map((f) => f.anchor), ...flows.map((f) => f.traffic)],
    context: flows.flatMap((f) => [f.anchor, f.arrival]),
  });
