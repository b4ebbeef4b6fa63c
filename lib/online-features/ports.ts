import type { FeatureKey } from '../contracts/online-features.ts';
import type { EbRef } from '../contracts/receipts.ts';
import type { AnchorEntityType } from './keys.ts';
import type { Totals } from './windows.ts';

/**
 * Ports of the Online Feature Plane core (downstream.md §2.3). A store is bound to one stream id
 * (`ofp.v0::<platform_run_id>`); every row it reads or writes is scoped to it. Adapter: Postgres (migrations 0010,
 * 0011).
 */

/** The (platform run, scenario run) a key's state belongs to. */
export interface FeatureScope {
  platform_run_id: string;
  scenario_run_id: string;
}

/** One event seen under one key: its event time and amount, and the one-minute bucket it adds to. */
export interface FeatureObservation {
  scope: FeatureScope;
  key: FeatureKey;
  event_id: string;
  event_ts_micros: bigint;
  bucket_start_micros: bigint;
  amount_micros: bigint;
}

/** The entities one flow anchor names, at its event time: one row per anchor, read for distinct counterparts. */
export interface EntitySighting {
  scope: FeatureScope;
  event_id: string;
  event_ts_micros: bigint;
  /** The flow the anchor opens (its payload's flow_id), when it names one. */
  flow_id?: string;
  entities: Partial<Record<AnchorEntityType, string>>;
}

/** Per (topic, partition): the highest offset applied or accounted for, and the highest event time seen. */
export interface FeatureCheckpoint {
  topic: string;
  partition: number;
  next_offset: string;
  offset_kind: EbRef['offset_kind'];
  watermark_ts_utc: string | null;
}

export interface SemanticRow {
  platform_run_id: string;
  event_class: string;
  event_id: string;
  payload_hash: string;
  eb_ref: EbRef;
  event_ts_utc: string;
}

export interface PayloadMismatchRow {
  platform_run_id: string;
  event_class: string;
  event_id: string;
  incoming_payload_hash: string;
  eb_ref: EbRef;
}

export type Registration = 'inserted' | 'duplicate';
export type SemanticRegistration = Registration | 'mismatch';

/** The rows a batch's records are about to read, loaded at once (a hint: reads work without it). */
export interface FeaturePrefetch {
  offsets: EbRef[];
  events: Pick<SemanticRow, 'platform_run_id' | 'event_class' | 'event_id'>[];
}

/** The writes of one record, all inside one transaction. */
export interface OnlineFeatureTransaction {
  prefetch(hints: FeaturePrefetch): Promise<void>;
  /** `ofp_applied_events`: the offset seen for the first time, or again. */
  registerOffset(ebRef: EbRef, eventId: string | null): Promise<Registration>;
  /** `ofp_semantic_dedupe` on (run, event class, event id): new, same hash, or another hash (not written). */
  registerEvent(row: SemanticRow): Promise<SemanticRegistration>;
  recordPayloadMismatch(row: PayloadMismatchRow): Promise<void>;
  /** Adds the event to each key's bucket and writes its event rows (the keys of one event are distinct). */
  addObservations(observations: readonly FeatureObservation[]): Promise<void>;
  /** Writes an anchor's entity row (once per event). */
  addEntitySighting(sighting: EntitySighting): Promise<void>;
  readCheckpoint(topic: string, partition: number): Promise<FeatureCheckpoint | undefined>;
  writeCheckpoint(checkpoint: FeatureCheckpoint): Promise<void>;
  /** Adds 1 to each named counter. */
  incrementMetrics(names: readonly string[]): Promise<void>;
}

/** What a snapshot reads (lib/online-features/snapshot.ts): the store, or a batch's history loaded at once. */
export interface FeatureReader {
  /** Whether any event of the scope was applied. */
  hasState(scope: FeatureScope): Promise<boolean>;
  /** Sums of the key's buckets whose start is in [first, last] (first null: unbounded). */
  sumBuckets(scope: FeatureScope, key: FeatureKey, first: bigint | null, last: bigint): Promise<Totals>;
  /** Sums of the key's events with event time in (after, atOrBefore] (after null: unbounded). */
  sumEvents(scope: FeatureScope, key: FeatureKey, after: bigint | null, atOrBefore: bigint): Promise<Totals>;
  /** The key's latest event time at or before `atOrBefore`. */
  lastEventAtOrBefore(scope: FeatureScope, key: FeatureKey, atOrBefore: bigint): Promise<bigint | undefined>;
  /** The key's first event time, when it is at or before `atOrBefore`. */
  firstEventAtOrBefore(scope: FeatureScope, key: FeatureKey, atOrBefore: bigint): Promise<bigint | undefined>;
  /**
   * How many distinct `counterpart` ids the anchors naming `key` (an anchor entity) carry with event time in
   * (after, atOrBefore].
   */
  distinctCounterparts(
    scope: FeatureScope,
    key: { key_type: AnchorEntityType; key_id: string },
    counterpart: AnchorEntityType,
    after: bigint,
    atOrBefore: bigint,
  ): Promise<number>;
  checkpoints(): Promise<FeatureCheckpoint[]>;
}

/** One event of a key, as `ofp_feature_events` holds it. */
export interface KeyEvent {
  event_ts_micros: bigint;
  amount_micros: bigint;
}

/** The anchors' sightings: event time and entity ids. */
export interface SightingRow {
  event_ts_micros: bigint;
  entities: Partial<Record<AnchorEntityType, string>>;
}

/** Everything the snapshots of a batch read, loaded in a few statements (lib/online-features/history.ts). */
export interface KeyHistory {
  /** Per key (`<key_type>:<key_id>`), its events at or before the bound, in event time order. */
  events: Map<string, KeyEvent[]>;
  /** The sightings naming any of the requested entity keys, at or before the bound. */
  sightings: SightingRow[];
}

/** A flow's entities, as its anchor named them. */
export interface FlowEntities {
  flow_id: string;
  anchor_event_id: string;
  anchor_ts_micros: bigint;
  entities: Partial<Record<AnchorEntityType, string>>;
}

export interface OnlineFeatureStore extends FeatureReader {
  readonly streamId: string;
  /** Runs `work` in one transaction: committed when it returns, rolled back when it throws (the error rethrown). */
  inTransaction<T>(work: (transaction: OnlineFeatureTransaction) => Promise<T>): Promise<T>;
  /** The events of `keys` (and the sightings of their anchor entities) with event time at or before `atOrBefore`. */
  loadHistory(scope: FeatureScope, keys: readonly FeatureKey[], atOrBefore: bigint): Promise<KeyHistory>;
  /** The entities of each flow whose anchor was applied (flows without one are absent). */
  flowEntities(scope: FeatureScope, flowIds: readonly string[]): Promise<FlowEntities[]>;
  metrics(): Promise<Record<string, number>>;
}
