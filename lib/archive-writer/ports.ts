import type { ArchiveCounter } from '../contracts/archive.ts';
import type { PlatformGovernanceEvent } from '../contracts/governance.ts';
import type { Provenance } from '../contracts/wire-primitives.ts';

/**
 * The Archive Writer's ports (downstream.md §2.1): the ledger (Postgres, migration 0007), the segment objects
 * (S3, write-once) and the governance sink. Adapters: lib/adapters/archive-writer-stores.ts.
 */

/** The ledger's primary key: one row per record position on the bus, per consumer scope (`archive_writer.v0::<run>`). */
export interface LedgerKey {
  stream_id: string;
  topic: string;
  partition_id: number;
  offset_kind: string;
  offset_value: string;
}

/** `archive_writer_offsets`: what was archived at a position, and where (`archive_ref`, a byte-range ref). */
export interface LedgerRow extends LedgerKey {
  platform_run_id: string;
  event_id: string;
  event_type: string;
  payload_hash: string;
  archive_ref: string;
}

/** A record seen again at a position already in the ledger. */
export interface Observation {
  key: LedgerKey;
  outcome: 'DUPLICATE' | 'PAYLOAD_MISMATCH';
  /** The hash of what was seen now (for a mismatch: not the ledger's). */
  observed_payload_hash: string;
  platform_run_id: string;
  event_id: string;
}

export interface CounterDelta {
  stream_id: string;
  topic: string;
  /** One of ARCHIVE_COUNTERS, or `skipped.<REASON>`. */
  metric: ArchiveCounter | `skipped.${string}`;
  delta: number;
}

/** The highest offset of a batch per (stream_id, topic, partition): the consumer checkpoint. */
export interface CheckpointAdvance {
  stream_id: string;
  topic: string;
  partition_id: number;
  offset_kind: string;
  next_offset: string;
}

/** The statements of one ledger commit (one transaction). */
export interface LedgerTransaction {
  /** Inserts rows absent so far (`ON CONFLICT DO NOTHING`); answers the keys (ledgerKeyText) it inserted. */
  insertNew(rows: readonly LedgerRow[], at: Date): Promise<Set<string>>;
  find(keys: readonly LedgerKey[]): Promise<LedgerRow[]>;
  /** seen/mismatch counts of existing rows, and a mismatch row (`archive_writer_offset_mismatches`) per mismatch. */
  observe(observations: readonly Observation[], at: Date): Promise<void>;
  addCounters(deltas: readonly CounterDelta[]): Promise<void>;
  /** Moves each checkpoint forward (never back). */
  advance(checkpoints: readonly CheckpointAdvance[], at: Date): Promise<void>;
}

export interface LedgerSummary {
  counters: readonly { topic: string; metric: string; value: number }[];
  /** The newest archive_refs of the scope, oldest first. */
  recent_refs: readonly string[];
}

export interface ArchiveLedger {
  find(keys: readonly LedgerKey[]): Promise<LedgerRow[]>;
  /** Runs `work` in one transaction: all its statements commit together, or none when it throws. */
  commit<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T>;
  /** Counters outside a commit (the write errors of a batch that commits nothing). */
  addCounters(deltas: readonly CounterDelta[]): Promise<void>;
  summary(streamId: string, refLimit: number): Promise<LedgerSummary>;
}

/** Write-once segment objects in the platform bucket. */
export interface SegmentStore {
  /** true when created, false when the key already existed (same content: keys are content-addressed). */
  putOnce(key: string, body: string): Promise<boolean>;
  /** The `s3://bucket/key` of a key. */
  refOf(key: string): string;
}

/** Governance facts, write-once by event_id (the same S3 sink the World Streamer uses). */
export interface GovernanceSink {
  emit(event: PlatformGovernanceEvent): Promise<boolean>;
}

export interface ArchiveWriterPorts {
  ledger: ArchiveLedger;
  segments: SegmentStore;
  governance: GovernanceSink;
  now: () => Date;
}

export interface ArchiveWriterSettings {
  /** `archive_writer.v0`: scopes are `<base>::<platform_run_id>`. */
  streamBase: string;
  /** `ARCHIVE_WRITER_REQUIRED_PLATFORM_RUN_ID`: records of other runs are skipped and counted. */
  requiredPlatformRunId?: string | undefined;
  provenance: Provenance;
}

/** The text of a ledger key, for maps and the adapter's answers. */
export function ledgerKeyText(key: LedgerKey): string {
  return [key.stream_id, key.topic, key.partition_id, key.offset_kind, key.offset_value].join('\u0000');
}
