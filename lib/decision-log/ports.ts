import type { AuditRecord, IntentLink, LineageChain, OutcomeLink } from '../contracts/decision-log.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import type { EbRef } from '../contracts/receipts.ts';

/**
 * Ports of the Decision Log & Audit core (downstream.md §3.4). A store is bound to one stream id
 * (`dla.v0::<platform_run_id>`); every row it reads or writes is scoped to it. A batch is one transaction: it loads
 * the rows its records read (replay observations, candidates, chains, checkpoints) at once, the core decides, and it
 * writes the batch's rows at once. Adapter: Postgres (migration 0018). Audit records go to the audit sink (S3
 * segments + index, and the audit event on fp.bus.audit.v1), inside the batch's transaction: when the sink fails the
 * batch rolls back and is retried, and the sink must take a record it already holds (same audit_id, same digest) as
 * done — records are deterministic, so a retried batch rebuilds them byte-identical.
 */

/** Where a record sits: the key of its replay observation, its quarantine rows and its attempts. */
export interface OffsetKey {
  topic: string;
  partition: number;
  offset_kind: EbRef['offset_kind'];
  offset: string;
}

/** What an offset was seen to carry the first time (`dla_intake_replay_observations`). */
export interface ReplayObservation extends OffsetKey {
  platform_run_id: string;
  scenario_run_id: string;
  event_type: string;
  event_id: string;
  payload_hash: string;
}

/** The append-only candidate key: (run, event_type, event_id). */
export interface CandidateKey {
  platform_run_id: string;
  event_type: string;
  event_id: string;
}

export interface StoredCandidate extends CandidateKey {
  payload_hash: string;
}

export interface IntakeCandidateRow extends StoredCandidate {
  scenario_run_id: string;
  schema_version: string;
  ts_utc: string;
  eb_ref: EbRef;
  envelope: CanonicalEnvelope;
}

/** A `dla_intake_quarantine` row: one per (offset, reason), so a redelivered reject keeps its first row. */
export interface QuarantineRow extends OffsetKey {
  reason_code: string;
  detail: string | null;
  platform_run_id: string | null;
  scenario_run_id: string | null;
  event_type: string | null;
  event_id: string | null;
  schema_version: string | null;
  payload_hash: string | null;
  published_at_utc: string | null;
  /** The record's data as parsed (null when it was not JSON). */
  envelope: unknown;
  quarantined_at_utc: string;
}

export type WriteStatus = 'NEW' | 'DUPLICATE';

/** A `dla_intake_attempts` row: every delivery is logged, whatever became of it. */
export interface IntakeAttempt extends OffsetKey {
  platform_run_id: string | null;
  scenario_run_id: string | null;
  event_type: string | null;
  event_id: string | null;
  accepted: boolean;
  /** ACCEPT, an inlet rejection, PAYLOAD_HASH_MISMATCH, LINEAGE_CONFLICT, REPLAY_DIVERGENCE or WRITE_FAILED. */
  reason_code: string;
  write_status: WriteStatus | null;
  checkpoint_advanced: boolean;
  detail: string | null;
  attempted_at_utc: string;
}

/** Per (topic, partition): the last offset accounted for and the highest event time seen. */
export interface DecisionLogCheckpoint {
  topic: string;
  partition: number;
  next_offset: string;
  offset_kind: EbRef['offset_kind'];
  watermark_ts_utc: string | null;
  updated_at_utc: string;
}

/** The rows a batch reads, named by its records. */
export interface BatchKeys {
  offsets: OffsetKey[];
  candidates: CandidateKey[];
  decisionIds: string[];
  partitions: { topic: string; partition: number }[];
}

/** The stored rows of a batch's keys (absent keys left out); chains and checkpoints locked until it ends. */
export interface BatchState {
  observations: ReplayObservation[];
  candidates: StoredCandidate[];
  chains: LineageChain[];
  checkpoints: DecisionLogCheckpoint[];
}

/** A chain as the batch leaves it: the new links to insert, and the audit it was marked with. */
export interface ChainWrite {
  chain: LineageChain;
  /** Whether the chain was stored when the batch loaded it (else it is inserted, expecting no other). */
  existed: boolean;
  newIntents: IntentLink[];
  newOutcomes: OutcomeLink[];
  audit: { audit_id: string; record_digest: string } | null;
}

/** Everything a batch writes, in one go. */
export interface BatchWrites {
  attempts: IntakeAttempt[];
  quarantines: QuarantineRow[];
  /** First sightings of offsets. */
  observations: ReplayObservation[];
  /** New candidates only (a candidate is never overwritten). */
  candidates: IntakeCandidateRow[];
  chains: ChainWrite[];
  checkpoints: DecisionLogCheckpoint[];
}

export interface DecisionLogTransaction {
  load(keys: BatchKeys): Promise<BatchState>;
  write(writes: BatchWrites): Promise<void>;
}

/** Which rows a read counts: a run and / or a scenario run (undefined: all of the stream's). */
export interface DecisionLogScope {
  platformRunId?: string;
  scenarioRunId?: string;
}

/** The raw counts the §3.4 metrics are made of. */
export interface DecisionLogCounts {
  attempts_total: number;
  accepted_total: number;
  rejected_total: number;
  /** Accepted attempts whose candidate was new / a duplicate. */
  new_total: number;
  duplicate_total: number;
  run_scope_skipped_total: number;
  checkpoint_advanced_total: number;
  write_failed_total: number;
  candidate_total: number;
  quarantine_total: number;
  replay_divergence_total: number;
  lineage_resolved_total: number;
  lineage_unresolved_total: number;
  audit_record_total: number;
}

export interface DecisionLogStore {
  readonly streamId: string;
  /** Runs `work` in one transaction: committed when it returns, rolled back when it throws (the error rethrown). */
  inTransaction<T>(work: (transaction: DecisionLogTransaction) => Promise<T>): Promise<T>;
  /** Logs attempts in a transaction of their own (the WRITE_FAILED attempts of a batch that rolled back). */
  recordAttempts(attempts: readonly IntakeAttempt[]): Promise<void>;
  readChain(decisionId: string): Promise<LineageChain | undefined>;
  counts(scope: DecisionLogScope): Promise<DecisionLogCounts>;
  /** For each cutoff, how many UNRESOLVED chains have been so since before it. */
  unresolvedSince(scope: DecisionLogScope, cutoffsUtc: readonly string[]): Promise<number[]>;
  checkpoints(): Promise<DecisionLogCheckpoint[]>;
  /** Quarantine rows per reason code. */
  anomalyLanes(scope: DecisionLogScope): Promise<Record<string, number>>;
  /** The latest attempts, newest first. */
  recentAttempts(scope: DecisionLogScope, limit: number): Promise<IntakeAttempt[]>;
}

/** Where audit records go, write-once by audit_id (the same record again is a no-op; another digest is an error). */
export interface AuditSink {
  append(records: readonly AuditRecord[]): Promise<void>;
}

export interface DecisionLogPorts {
  store: DecisionLogStore;
  auditSink: AuditSink;
  now: () => Date;
}
