import type { ContextPins, ContextQueryResponse } from '../contracts/context-store.ts';
import type { PublishDecision } from '../contracts/decision-lane.ts';
import type { EffectivePosture } from '../contracts/degrade-ladder.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import type {
  FeatureKey,
  GetFeaturesRequest,
  GetFeaturesResponse,
  OffsetBasis,
} from '../contracts/online-features.ts';

/**
 * Ports of the Decision Fabric core (downstream.md §3.2). Adapters: the Online Feature Plane's and the Context
 * Store's state read in process over Postgres (lib/adapters/decision-fabric-context.ts), the decision ledger in
 * Postgres (migration 0016), IG's batch route over HTTP, the Degrade Ladder's posture store.
 */

/** The entities a flow's anchor named (read from the Online Feature Plane). */
export interface FlowEntityIds {
  flow_id: string;
  anchor_event_id: string;
  entities: Record<string, string>;
}

/** How far the projectors the fabric reads have come, per topic and partition (the highest offset applied). */
export interface AppliedOffsets {
  /** `<topic>|<partition>` → the Kinesis sequence number applied last. */
  offsets: ReadonlyMap<string, string>;
}

export interface DecisionContextPort {
  /** The Online Feature Plane's applied offsets (its checkpoints). */
  featureProgress(): Promise<AppliedOffsets>;
  /** The entities of each flow whose anchor the Online Feature Plane applied. */
  flowEntities(pins: ContextPins, flowIds: readonly string[]): Promise<FlowEntityIds[]>;
  /** The Context Store's `resolve_flow_binding` for each flow (READY, MISSING_BINDING, …). */
  flowBindings(pins: ContextPins, flowIds: readonly string[]): Promise<Map<string, ContextQueryResponse>>;
  /** OFP `get_features` for each request, answered from one load of the keys' history. */
  snapshots(requests: readonly GetFeaturesRequest[]): Promise<GetFeaturesResponse[]>;
}

export interface LedgerEntry {
  decision_id: string;
  platform_run_id: string;
  scenario_run_id: string;
  source_event_id: string;
  flow_id: string | null;
  action_kind: string;
  context_status: string;
  reason_codes: string[];
  /** sha256 of the decision's canonical content (without its times): what a replay must reproduce. */
  payload_hash: string;
  /** The envelopes to publish, in order (the decision, then its intent). */
  envelopes: CanonicalEnvelope[];
  /** When the source event reached the bus (ms since the epoch). */
  bus_arrival_ms: number;
}

/**
 * A ledger claim: NEW (first time), PENDING (stored, its publish not recorded: publish the stored envelopes again),
 * REPLAY_MATCH (stored and published; publish nothing), MISMATCH (stored with another payload hash: the stored one
 * stands, the mismatch is recorded).
 */
export type LedgerClaim =
  | { status: 'NEW' }
  | { status: 'PENDING' | 'MISMATCH'; stored: CanonicalEnvelope[]; published: boolean }
  | { status: 'REPLAY_MATCH' };

export interface DecisionLedger {
  /** Claims each entry (by decision_id) in one transaction; mismatches are recorded, never overwritten. */
  claim(entries: readonly LedgerEntry[]): Promise<LedgerClaim[]>;
  /** Records that the decisions were published, with IG's answers and when they came. */
  markPublished(
    results: readonly { decision_id: string; decisions: PublishDecision[]; admitted_at_ms: number }[],
  ): Promise<void>;
  /** Adds to the fabric's counters. */
  addMetrics(counts: Readonly<Record<string, number>>): Promise<void>;
}

/** IG's answer for one envelope of a batch. */
export interface PublishResult {
  decision: PublishDecision;
}

export interface DecisionPublisher {
  /**
   * Publishes the envelopes through IG's batch route; answers one result per envelope, in order. Throws when IG
   * stays unavailable or refuses the batch (the batch is retried; the ledger keeps it from being decided twice).
   */
  publish(envelopes: readonly CanonicalEnvelope[]): Promise<PublishResult[]>;
}

export interface Clock {
  now(): Date;
}

export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

export interface DecisionFabricPorts {
  context: DecisionContextPort;
  ledger: DecisionLedger;
  publisher: DecisionPublisher;
  posture(): Promise<EffectivePosture>;
  clock: Clock;
  sleeper: Sleeper;
}

export type { FeatureKey, OffsetBasis };
