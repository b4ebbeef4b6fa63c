import type { GraphPins, LinkedEntity } from '../contracts/identity-graph.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { PlatformError } from '../errors/platform-error.ts';

/**
 * Ports of the Identity & Entity Graph core (downstream.md §2.2). A store is bound to one stream id
 * (`ieg.v0::<platform_run_id>`); every row it reads or writes is scoped to it. Adapter: Postgres (migration 0009).
 */

/** Per (topic, partition): the last offset applied or accounted for, and the highest event time seen. */
export interface GraphCheckpoint {
  topic: string;
  partition: number;
  next_offset: string;
  offset_kind: EbRef['offset_kind'];
  watermark_ts_utc: string | null;
  updated_at_utc: string;
}

/** The dedupe row of an applied event: key = sha256(run:class:event_id). */
export interface DedupeRow {
  dedupe_key: string;
  platform_run_id: string;
  scenario_run_id: string;
  event_class: string;
  event_id: string;
  payload_hash: string;
  eb_ref: EbRef;
  event_ts_utc: string;
}

/** An entity (or identifier, or edge) sighting: first_seen = min, last_seen = max of the event times. */
export interface EntityUpsert {
  entity_id: string;
  entity_type: string;
  pins: GraphPins;
  seen_ts_utc: string;
}

export interface IdentifierUpsert {
  identifier_type: string;
  identifier_value: string;
  entity_id: string;
  entity_type: string;
  pins: GraphPins;
  seen_ts_utc: string;
  source_event_id: string;
}

export interface EdgeUpsert {
  edge_id: string;
  edge_type: string;
  src_entity_id: string;
  dst_entity_id: string;
  pins: GraphPins;
  seen_ts_utc: string;
  source_event_id: string;
}

/** The arrival a context event belongs to: (scenario run, merchant_id, arrival_seq), as text. */
export interface ArrivalKey {
  scenario_run_id: string;
  merchant_id: string;
  arrival_seq: string;
}

/** An entity met under an arrival key (by a flow anchor or an arrival-entities event). */
export interface ArrivalMember {
  entity_id: string;
  entity_type: string;
}

/** An `ieg_apply_failures` row; `failure_id` is deterministic, so writing it twice keeps one row. */
export interface GraphApplyFailure {
  failure_id: string;
  reason_code: string;
  details: Record<string, unknown>;
  platform_run_id: string | null;
  scenario_run_id: string | null;
  topic: string;
  partition: number;
  offset: string;
  offset_kind: EbRef['offset_kind'];
  event_id: string | null;
  event_type: string | null;
  event_ts_utc: string | null;
}

export const GRAPH_METRIC_NAMES = [
  'events_seen',
  'irrelevant',
  'unusable',
  'duplicate',
  'payload_mismatch',
  'mutating_applied',
] as const;
export type GraphMetricName = (typeof GRAPH_METRIC_NAMES)[number];
export type GraphMetrics = Record<GraphMetricName, number>;

/** What the dedupe row said: first sight (now recorded), same hash seen before, or another hash. */
export type DedupeRegistration = 'inserted' | 'duplicate' | 'mismatch';

/** The rows a batch's records are about to read, loaded at once (a hint: reads work without it). */
export interface GraphPrefetch {
  dedupeKeys: string[];
  arrivals: ArrivalKey[];
}

/** The writes of one record, all inside one transaction. */
export interface IdentityGraphTransaction {
  prefetch(hints: GraphPrefetch): Promise<void>;
  registerEvent(row: DedupeRow): Promise<DedupeRegistration>;
  upsertEntity(entity: EntityUpsert): Promise<void>;
  upsertIdentifier(identifier: IdentifierUpsert): Promise<void>;
  /** Idempotent on `edge_id`: first_seen = min, last_seen = max. */
  upsertEdge(edge: EdgeUpsert): Promise<void>;
  /**
   * Adds `members` under the arrival key (locked until the transaction ends, so two shards serialise) and returns
   * every member the key now has, including those of earlier events.
   */
  joinArrival(key: ArrivalKey, members: readonly ArrivalMember[]): Promise<ArrivalMember[]>;
  /** Adds `by` to the metric of the scenario run ("" when the record had none). */
  countMetric(scenarioRunId: string, name: GraphMetricName, by?: number): Promise<void>;
  readCheckpoint(topic: string, partition: number): Promise<GraphCheckpoint | undefined>;
  writeCheckpoint(checkpoint: Omit<GraphCheckpoint, 'updated_at_utc'>): Promise<void>;
  recordApplyFailure(failure: GraphApplyFailure): Promise<void>;
}

export interface GraphEntity {
  entity_id: string;
  entity_type: string;
  first_seen_ts_utc: string;
  last_seen_ts_utc: string;
}

export interface GraphScope {
  platformRunId?: string;
  scenarioRunId?: string;
}

export interface IdentityGraphStore {
  readonly streamId: string;
  /** Runs `work` in one transaction: committed when it returns, rolled back when it throws (the error rethrown). */
  inTransaction<T>(work: (transaction: IdentityGraphTransaction) => Promise<T>): Promise<T>;
  checkpoints(): Promise<GraphCheckpoint[]>;
  /** The §2.2 counters, summed over the scenario runs in scope. */
  metrics(scope: GraphScope): Promise<GraphMetrics>;
  applyFailureCount(scope: GraphScope): Promise<number>;
  /** The stream's apply failure rows per reason code (every run, and records with no run). */
  failureCountsByReason(): Promise<Record<string, number>>;
  readEntity(entityId: string): Promise<GraphEntity | undefined>;
  /**
   * Entities reachable from `entityId` over edges (either direction) within `maxHops`, each at its fewest hops,
   * nearest first then by id, at most `limit` (the adapter walks with a recursive CTE).
   */
  linkedEntities(entityId: string, maxHops: number, limit: number): Promise<LinkedEntity[]>;
}

/** A dedupe conflict found inside the record's transaction: rolled back, then failed and advanced on its own. */
export class GraphApplyConflict extends PlatformError<'PAYLOAD_HASH_MISMATCH'> {}
