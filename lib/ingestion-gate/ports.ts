import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import type { EbRef } from '../contracts/receipts.ts';

/**
 * The Ingestion Gate's ports (control-ingress.md §5): the admission authority and outbox (Postgres), the event
 * bus (Kinesis), write-once evidence (S3), payload validation and health. Adapters live in lib/adapters.
 */

/**
 * An admission row (§5.8 `admissions`), which is also the outbox entry: the record to publish is stored with
 * the row before publishing, so a failed or interrupted publish is retried from here (README: deliberate
 * differences — nothing is left ambiguous).
 */
export interface AdmissionRow {
  dedupe_key: string;
  /** PUBLISH_PENDING with an eb_ref: published, its receipt not yet written (markPublished). */
  state: 'PUBLISH_PENDING' | 'ADMITTED';
  platform_run_id: string;
  event_class: string;
  event_id: string;
  event_type: string;
  payload_hash: string;
  /**
   * The stream and partition key the record goes to, and the record itself (CJ of the envelope) while the row is
   * PUBLISH_PENDING; an ADMITTED row no longer keeps it ('').
   */
  stream: string;
  partition_key: string;
  partitioning_profile_id: string;
  record: string;
  publish_attempts: number;
  last_error: string | null;
  eb_ref: EbRef | null;
  receipt_ref: string | null;
  admitted_at_utc: string | null;
  /** When the row was reserved (the earliest its record can be on the bus); absent on rows not yet stored. */
  created_at?: Date | string | undefined;
}

/**
 * The admission authority, in set-wise operations: a batch of up to 500 events costs one query to reserve, one
 * to read the rows that already existed, and one to record the outcome.
 */
export interface AdmissionStore {
  find(dedupeKey: string): Promise<AdmissionRow | undefined>;
  findMany(dedupeKeys: readonly string[]): Promise<AdmissionRow[]>;
  /** Inserts PUBLISH_PENDING rows claimed by the caller until `claimUntil`; returns the keys it inserted. */
  reserveMany(rows: readonly AdmissionRow[], claimUntil: Date): Promise<Set<string>>;
  /** Claims a PUBLISH_PENDING row whose claim has lapsed; false when it is claimed or no longer pending. */
  claim(dedupeKey: string, now: Date, claimUntil: Date): Promise<boolean>;
  /**
   * Records where published rows went, at once after the publish and before any evidence is written: a row that
   * is PUBLISH_PENDING with an eb_ref is on the bus, and whoever finishes it (a later push, the outbox) writes its
   * receipt without publishing it again.
   */
  markPublished(published: readonly { dedupe_key: string; eb_ref: EbRef }[]): Promise<void>;
  /** Records failed publishes; the rows stay PUBLISH_PENDING and their claims are released. */
  markPublishFailed(failures: readonly { dedupe_key: string; error: string }[]): Promise<void>;
  /**
   * One atomic write of a batch's outcome: published rows become ADMITTED, and the receipts and quarantine
   * records (already in the evidence store) are indexed (§5.8; on conflict do nothing).
   */
  commit(outcome: AdmissionOutcome): Promise<void>;
  /** PUBLISH_PENDING rows whose claim has lapsed, oldest first (the outbox drain). */
  pending(now: Date, limit: number): Promise<AdmissionRow[]>;
}

export interface AdmittedEntry {
  dedupe_key: string;
  eb_ref: EbRef;
  receipt_ref: string;
  admitted_at_utc: string;
}

export interface AdmissionOutcome {
  admitted: AdmittedEntry[];
  receipts: ReceiptIndexEntry[];
  quarantines: QuarantineIndexEntry[];
}

export interface ReceiptIndexEntry {
  receipt_id: string;
  platform_run_id: string;
  event_id: string;
  event_type: string;
  dedupe_key: string | null;
  decision: 'ADMIT' | 'DUPLICATE' | 'QUARANTINE';
  eb_ref: EbRef | null;
  receipt_ref: string;
  reason_codes: string[];
  created_at_utc: string;
}

export interface QuarantineIndexEntry {
  quarantine_id: string;
  platform_run_id: string;
  event_id: string | null;
  reason_codes: string[];
  evidence_ref: string;
  created_at_utc: string;
}

export interface BusRecord {
  partitionKey: string;
  data: string;
}

export type PublishResult = { shardId: string; sequenceNumber: string } | { error: string };

/** Where a record sits on a stream. */
export interface Located {
  shardId: string;
  sequenceNumber: string;
}

/**
 * PutRecords to one stream: one result per record, in order (a record that failed names its error; a call that
 * failed as a whole fails every record of it).
 */
export interface EventBus {
  publish(stream: string, records: readonly BusRecord[]): Promise<PublishResult[]>;
  /**
   * Finds records that may already be on the stream (a publish whose answer was lost), byte for byte, reading from
   * each record's `since`; answers the index of each one found and where it is.
   */
  locate(stream: string, records: readonly (BusRecord & { since: Date })[]): Promise<Map<number, Located>>;
}

/** Write-once documents (S3 `If-None-Match: *` in the platform bucket). */
export interface EvidenceStore {
  /** Writes the body unless the key exists; returns the object's URI either way. */
  putOnce(key: string, body: string): Promise<{ ref: string; created: boolean }>;
  /** The URI a key has (or will have). */
  refOf(key: string): string;
}

/** §5.3 step 4: the payload schema of an event type; returns the problems (empty = valid). */
export interface PayloadValidator {
  validate(eventType: string, payload: Record<string, unknown> | undefined): string[];
}

export type HealthState = 'GREEN' | 'AMBER' | 'RED';
export interface HealthReport {
  state: HealthState;
  reasons: string[];
}

/** What the gate needs at every admission besides the ports. */
export interface AdmissionContext {
  store: AdmissionStore;
  bus: EventBus;
  evidence: EvidenceStore;
  payloads: PayloadValidator;
  health: () => Promise<HealthReport>;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  policy: IgPolicy;
}

/** The gate's policy and identity, stamped on every receipt (§5.4). */
export interface IgPolicy {
  revision: string;
  contentDigest: string;
  serviceReleaseId: string;
  environment: string;
  /** How long the publisher owns a reserved row before another caller may publish it. */
  claimMs: number;
  /** How long a duplicate push waits for an in-flight publish before answering PUBLISH_IN_FLIGHT_RETRY. */
  inFlightWaitMs: number;
  denyOnAmber: boolean;
}

export type Envelope = CanonicalEnvelope;
