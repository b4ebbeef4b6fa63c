import type { FlowBinding, JoinFrameKey, SourceEvent } from '../contracts/context-store.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { PlatformError } from '../errors/platform-error.ts';

/**
 * Ports of the Context Store + FlowBinding core (downstream.md §2.4). A store is bound to one stream id
 * (`csfb.v0::<platform_run_id>`); every row it reads or writes is scoped to it. Adapter: Postgres (migration 0008).
 */

/** A join frame as stored: the roles seen so far, each with its payload and eb_ref. */
export interface JoinFrameState {
  join_frame_key: JoinFrameKey;
  arrival_event?: Record<string, unknown>;
  arrival_event_ref?: EbRef;
  arrival_entities?: Record<string, unknown>;
  arrival_entities_ref?: EbRef;
  flow_anchor?: Record<string, unknown>;
  flow_anchor_ref?: EbRef;
  flow_id?: string;
  context_complete: boolean;
}

export interface JoinFrameRecord {
  state: JoinFrameState;
  /** sha256 of the canonical state. */
  payload_hash: string;
  /** The last event that changed the frame. */
  source_event: SourceEvent;
}

/** Per (topic, partition): the last offset applied or accounted for, and the highest event time seen. */
export interface ContextCheckpoint {
  topic: string;
  partition: number;
  next_offset: string;
  offset_kind: EbRef['offset_kind'];
  watermark_ts_utc: string | null;
  updated_at_utc: string;
}

export interface IntakeRow {
  platform_run_id: string;
  event_class: string;
  event_id: string;
  payload_hash: string;
  eb_ref: EbRef;
  event_ts_utc: string;
}

/** A `csfb_join_apply_failures` row; `failure_id` is deterministic, so writing it twice keeps one row. */
export interface ApplyFailure {
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
}

/** What the intake dedupe row said: first sight (now recorded), same hash seen before, or another hash. */
export type IntakeRegistration = 'inserted' | 'duplicate' | 'mismatch';

/** What inserting a binding found: new, the same binding again, or a conflict on flow_id / on the join key. */
export type BindingInsert =
  | 'inserted'
  | 'unchanged'
  | 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH'
  | 'FLOW_BINDING_JOIN_KEY_CONFLICT';

/** The dedupe key of an intake row. */
export type IntakeKey = Pick<IntakeRow, 'platform_run_id' | 'event_class' | 'event_id'>;

/** The rows a batch's records are about to read, loaded at once (a hint: reads work without it). */
export interface ContextPrefetch {
  intakes: IntakeKey[];
  joinFrames: JoinFrameKey[];
  /** The flows the batch's anchors bind (under their join frame's run and scenario run). */
  bindings: Pick<FlowBinding, 'flow_id' | 'join_frame_key'>[];
}

/** The writes of one record, all inside one transaction. */
export interface ContextStoreTransaction {
  prefetch(hints: ContextPrefetch): Promise<void>;
  registerIntake(row: IntakeRow): Promise<IntakeRegistration>;
  /** The frame of `key`, locked until the transaction ends (undefined when there is none yet). */
  lockJoinFrame(key: JoinFrameKey): Promise<JoinFrameRecord | undefined>;
  writeJoinFrame(record: JoinFrameRecord): Promise<void>;
  insertFlowBinding(binding: FlowBinding): Promise<BindingInsert>;
  readCheckpoint(topic: string, partition: number): Promise<ContextCheckpoint | undefined>;
  writeCheckpoint(checkpoint: Omit<ContextCheckpoint, 'updated_at_utc'>): Promise<void>;
  recordApplyFailure(failure: ApplyFailure): Promise<void>;
  /** Adds 1 to each named counter (`csfb_counters`). */
  incrementCounters(names: readonly string[]): Promise<void>;
}

export interface ContextMetrics {
  join_hits: number;
  join_misses: number;
  binding_conflicts: number;
  apply_failures: number;
  apply_failures_hard: number;
  late_context_applied: number;
}

export interface AnomalyRow extends ApplyFailure {
  recorded_at_utc: string;
}

export interface ContextStore {
  readonly streamId: string;
  /** Runs `work` in one transaction: committed when it returns, rolled back when it throws (the error rethrown). */
  inTransaction<T>(work: (transaction: ContextStoreTransaction) => Promise<T>): Promise<T>;
  readFlowBinding(
    platformRunId: string,
    scenarioRunId: string,
    flowId: string,
  ): Promise<FlowBinding | undefined>;
  readFlowBindingForJoinFrame(key: JoinFrameKey): Promise<FlowBinding | undefined>;
  readJoinFrame(key: JoinFrameKey): Promise<JoinFrameRecord | undefined>;
  checkpoints(): Promise<ContextCheckpoint[]>;
  /** Counts of §2.4, scoped to a run (and a scenario run) when given. */
  metrics(scope: { platformRunId?: string; scenarioRunId?: string }): Promise<ContextMetrics>;
  /** The delivery counters: seen, applied, duplicate, skipped, failed, each also `<name>|topic=<t>`. */
  counters(): Promise<Record<string, number>>;
  /** The latest apply failures, newest first. */
  anomalies(scope: { platformRunId?: string; scenarioRunId?: string }, limit: number): Promise<AnomalyRow[]>;
}

/**
 * A conflict found inside the record's transaction (intake hash or binding): the transaction rolls back, then the
 * core records the failure and advances in a transaction of its own.
 */
export class ContextApplyConflict extends PlatformError<
  'INTAKE_PAYLOAD_HASH_MISMATCH' | 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH' | 'FLOW_BINDING_JOIN_KEY_CONFLICT'
> {}
