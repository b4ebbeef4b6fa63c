import type { EngineInvocation } from '../contracts/engine-invocation.ts';
import type { ObjectReader } from '../oracle-store/object-store.ts';

/**
 * The Scenario Runner's ports (control-ingress.md §3). Adapters: Postgres for RunAuthority, S3 for
 * RunArtifactStore and OracleWorldReader, Kinesis `sr-control-bus` for ControlBusPublisher.
 */

/** Time and waiting; tests pass a controllable fake. */
export interface Clock {
  now(): Date;
  /** Used only for the JSONL append backoff (§0). */
  sleep(milliseconds: number): Promise<void>;
}

/** A row of `sr_run_equivalence` (§3.2). */
export interface EquivalenceRow {
  run_equivalence_key: string;
  run_id: string;
  intent_fingerprint: string;
  first_seen_at: Date;
  last_seen_at: Date;
}

/** A row of `sr_run_leases` (§3.2). */
export interface LeaseRow {
  run_id: string;
  owner_id: string;
  lease_token: string;
  expires_at: Date;
  updated_at: Date;
}

/** Port: the run authority (Postgres tables `sr_run_equivalence`, `sr_run_leases`). */
export interface RunAuthority {
  /**
   * `INSERT … ON CONFLICT (run_equivalence_key) DO NOTHING`, then `last_seen_at = seenAt`, then select the
   * stored row; `inserted` says whether this call created it.
   */
  registerEquivalence(entry: {
    run_equivalence_key: string;
    run_id: string;
    intent_fingerprint: string;
    seen_at: Date;
  }): Promise<{ row: EquivalenceRow; inserted: boolean }>;
  /**
   * Takes the lease when no row exists for `lease.run_id` or the stored row's `expires_at <= lease.updated_at`
   * (one statement: `INSERT … ON CONFLICT (run_id) DO UPDATE … WHERE sr_run_leases.expires_at <= $now`);
   * false when someone else holds an unexpired lease.
   */
  tryAcquireLease(lease: LeaseRow): Promise<boolean>;
  /** Sets `expires_at` iff the row has `lease_token` and `expires_at > now`; false otherwise. */
  renewLease(renewal: { run_id: string; lease_token: string; now: Date; expires_at: Date }): Promise<boolean>;
  /** Deletes the row iff it still has `lease_token`; false when it did not (expired and taken over). */
  releaseLease(release: { run_id: string; lease_token: string }): Promise<boolean>;
}

/** An SR artifact as stored, with the identity the store gives it (S3 ETag). */
export interface StoredArtifact {
  body: Uint8Array;
  etag: string;
}

/**
 * Port: the platform object store, keys relative to its root (`<platform_run_id>/sr/…`, §3.4). Write-once is
 * `If-None-Match: *`; the JSONL append is read + `If-Match: <etag>` (§0).
 */
export interface RunArtifactStore {
  /** Printable address of the root (e.g. `s3://fraud-platform`). */
  readonly root: string;
  read(key: string): Promise<StoredArtifact | undefined>;
  /** False when the key already exists (412). */
  writeOnce(key: string, body: string): Promise<boolean>;
  /** Unconditional put (run_status, run_record_index). */
  overwrite(key: string, body: string): Promise<void>;
  /** Put iff the stored ETag is still `etag`; false on 412 (someone wrote in between) or when absent. */
  replaceIfMatch(key: string, body: string, etag: string): Promise<boolean>;
}

/** Port: read access to sealed engine worlds in the Oracle Store. */
export interface OracleWorldReader {
  /**
   * The engine run root (an `s3://…` address or a path) as an ObjectReader whose keys are relative to it;
   * undefined when nothing is stored there (→ ENGINE_ROOT_MISSING).
   */
  open(engineRunRoot: string): Promise<ObjectReader | undefined>;
}

/** Port: the control bus (Kinesis stream `sr-control-bus`, §3.6). */
export interface ControlBusPublisher {
  /** Puts one record (`Data` = SJ text, `PartitionKey`); throws on failure (→ READY_PUBLISH_FAILED). */
  publish(record: { stream_record: string; partition_key: string; message_id: string }): Promise<{
    /** Kinesis sequence number or another bus offset, recorded in READY_PUBLISHED. */
    offset?: string;
  }>;
}

/** What an EngineInvoker reports back. */
export interface EngineAttemptReport {
  outcome: 'SUCCEEDED' | 'FAILED';
  reason_code?: string;
  /** Where the engine wrote the world; default: the invocation's `engine_run_root`. */
  engine_run_root?: string;
  stdout?: string;
  stderr?: string;
}

/** Port: starts an engine run (FORCE_INVOKE only, §3.3 step 4); parity never calls it. */
export interface EngineInvoker {
  invoke(
    invocation: EngineInvocation,
    attempt: { attempt_id: string; attempt_no: number },
  ): Promise<EngineAttemptReport>;
}

export interface ScenarioRunnerPorts {
  authority: RunAuthority;
  artifacts: RunArtifactStore;
  world: OracleWorldReader;
  bus: ControlBusPublisher;
  clock: Clock;
  /** Absent: FORCE_INVOKE fails with ENGINE_FAILED ("no engine invoker configured"). */
  engine?: EngineInvoker;
}
