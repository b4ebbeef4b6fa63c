import type {
  LabelSubjectKey,
  LabelType,
  SourceType,
  StoredLabelAssertion,
} from '../contracts/label-store.ts';

/**
 * The Label Store's port (downstream.md §4.3; adapter: Postgres, migration 0019; in memory for the unit tests). The
 * writer claims a batch of assertions at once (insert-or-read by id in one atomic step, so two concurrent writers of
 * one id cannot both commit), then settles what it learnt (replays, mismatch rows, counters) in one more call. Reads
 * serve the as-of query, the API's labels of an event, the timeline and the run's reports.
 */

/** An assertion ready to be stored: the input with its id and payload hash (replay_count starts at 0). */
export type NewLabelAssertion = Omit<StoredLabelAssertion, 'replay_count'>;

/** What the store holds under an id that was there already: the idempotency tuple's columns and the hash. */
export interface StoredIdentity {
  platform_run_id: string;
  event_id: string;
  label_type: string;
  payload_hash: string;
}

export type LabelClaimAnswer =
  /** This call inserted the assertion and its timeline row. */
  | { status: 'COMMITTED' }
  /** The id was there (stored by an earlier call, or a concurrent one that won): nothing written. */
  | { status: 'STORED'; stored: StoredIdentity };

/** A rejected write of a stored id (ls_label_mismatches): the incoming tuple and both hashes. */
export interface LabelMismatch {
  label_assertion_id: string;
  reason_code: 'PAYLOAD_HASH_MISMATCH' | 'DEDUPE_TUPLE_COLLISION';
  platform_run_id: string;
  event_id: string;
  label_type: string;
  incoming_payload_hash: string;
  stored_payload_hash: string;
}

/** What a batch learnt after its claim, written in one step. */
export interface LabelWriteEffects {
  /** One entry per replay (an id may repeat): each adds 1 to that assertion's replay_count. */
  replays: readonly string[];
  mismatches: readonly LabelMismatch[];
  /** Additions to the counters, per platform_run_id (zero additions may be left out). */
  counters: ReadonlyMap<string, Readonly<Record<string, number>>>;
}

/** One row of the append-only timeline. */
export interface LabelTimelineEntry {
  timeline_seq: number;
  label_assertion_id: string;
  label_type: LabelType;
  label_value: string;
  effective_time: string;
  observed_time: string;
  source_type: SourceType;
}

/** A run's totals for its metrics document. */
export interface LabelRunTotals {
  /** Assertions stored for the run. */
  assertions: number;
  /** Σ replay_count over them. */
  replays: number;
  /** The run's counters (names of observability.ts). */
  counters: Record<string, number>;
}

export interface LabelStorePort {
  /**
   * Claims each assertion (distinct ids; the writer folds repeats of one batch first) and answers in order:
   * COMMITTED when this call inserted it (with its timeline row, atomically), else what is stored under the id.
   */
  claim(assertions: readonly NewLabelAssertion[]): Promise<LabelClaimAnswer[]>;
  /** Writes a batch's replays, mismatch rows and counter additions. */
  settle(effects: LabelWriteEffects): Promise<void>;
  /** The subject's assertions of one type observed at or before `asOf`, by observed_time, effective_time, id. */
  assertionsAsOf(
    subject: LabelSubjectKey,
    labelType: LabelType,
    asOf: string,
  ): Promise<StoredLabelAssertion[]>;
  /** Every assertion about one event, by label_type, observed_time, effective_time, id. */
  assertionsOfEvent(subject: LabelSubjectKey): Promise<StoredLabelAssertion[]>;
  /** The subject's timeline of one type, in commit order. */
  timelineOf(subject: LabelSubjectKey, labelType: LabelType): Promise<LabelTimelineEntry[]>;
  /** A page of the run's assertions by id, after `afterId` (exclusive) when given. */
  assertionsOfRun(
    platformRunId: string,
    page: { afterId?: string; limit: number },
  ): Promise<StoredLabelAssertion[]>;
  /** The run's mismatch rows, oldest first. */
  mismatchesOfRun(platformRunId: string): Promise<LabelMismatch[]>;
  runTotals(platformRunId: string): Promise<LabelRunTotals>;
}
