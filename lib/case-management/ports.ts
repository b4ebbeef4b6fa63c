import type {
  CasePage,
  CaseTimelineEvent,
  CaseView,
  LabelEmissionStatus,
} from '../contracts/case-management.ts';
import type { CaseSubjectKey } from '../contracts/case-trigger.ts';
import type { LabelAssertionInput, LabelWriteResult } from '../contracts/label-store.ts';

/**
 * Ports of the case management core (downstream.md §4.2). The store (adapter: Postgres, migration 0021) holds the
 * trigger intake ledger, the cases, the append-only timeline, the label emissions (the handshake with the label
 * store) and the quarantine; its counts are read from those rows, so they hold whatever was redelivered. The label
 * writer is the label store's writer (wired in process by the adapter: a core does not import another core).
 */

/** A case's contribution of one new trigger (the store adds them up per case). */
export interface CaseRow {
  case_id: string;
  case_subject_key: CaseSubjectKey;
  subject_hash: string;
  observed_time: string;
}

/** The label emission a new trigger starts: PENDING until the label store answers. */
export interface LabelEmission {
  label_assertion_id: string;
  case_id: string;
  case_trigger_id: string;
  platform_run_id: string;
  /** The LABEL_PENDING event (the assertion's case_timeline_event_id). */
  label_pending_event_id: string;
  input: LabelAssertionInput;
}

/** One trigger to take in, with every row it writes if it is new (the store writes them only then). */
export interface TriggerIntake {
  case_trigger_id: string;
  payload_hash: string;
  platform_run_id: string;
  case_id: string;
  trigger_type: string;
  source_ref_id: string;
  observed_time: string;
  /** The trigger payload as canonical JSON (the intake ledger's evidence). */
  payload_json: string;
  /** When it is taken in (a new case's created_at_utc). */
  recorded_at_utc: string;
  case_row: CaseRow;
  /** CASE_TRIGGERED, EVIDENCE_ATTACHED…, LABEL_PENDING, in that order. */
  timeline: CaseTimelineEvent[];
  emission: LabelEmission;
}

/** A pending emission, as stored (attempts: writes already tried). */
export interface PendingEmission extends LabelEmission {
  attempts: number;
  observed_time: string;
}

export type IntakeAnswer =
  /** This call took the trigger in: its case, timeline and emission rows are written. */
  | { outcome: 'NEW_TRIGGER' }
  /** Taken in before with the same hash: nothing written; its emission when it is still PENDING. */
  | { outcome: 'DUPLICATE_TRIGGER'; pending: PendingEmission | undefined }
  /** Taken in before with another hash: nothing written. */
  | { outcome: 'TRIGGER_PAYLOAD_MISMATCH'; stored_payload_hash: string };

/** What one write attempt of a pending label ended in. */
export interface LabelSettlement {
  label_assertion_id: string;
  /** The attempts stored when this one began (a settlement applies only if they are unchanged). */
  attempts_before: number;
  status: LabelEmissionStatus;
  /** ACCEPTED / REJECTED: the label store's reason (or RETRY_LIMIT_EXCEEDED); PENDING: null. */
  reason_code: string | null;
  /** `LS_WRITE_EXCEPTION:<code>` when the write threw. */
  last_error: string | null;
  /** LABEL_ACCEPTED or LABEL_REJECTED when the emission ends here. */
  timeline_event: CaseTimelineEvent | undefined;
}

/** A record set aside: evidence of a trigger that is not taken in (contract or identity fault, payload mismatch). */
export interface QuarantineRow {
  topic: string;
  partition: number;
  offset: string;
  reason_code: string;
  detail: string | null;
  event_id: string | null;
  case_trigger_id: string | null;
  platform_run_id: string | null;
  /** The record's bytes as base64 (the first 64 KiB), their sha256 and length. */
  data_base64: string;
  data_sha256: string;
  data_bytes: number;
}

export interface CaseListQuery {
  platform_run_id: string;
  limit: number;
  /** Only cases created before this sequence (the previous page's cursor). */
  before_sequence: number | undefined;
}

export interface CaseStore {
  /**
   * Takes the triggers in (distinct case_trigger_ids), in one transaction: the intake ledger claimed, and for each
   * NEW one its case (created, or trigger_count added to), its timeline events and its label emission. Answers in
   * order.
   */
  takeIn(intakes: readonly TriggerIntake[]): Promise<IntakeAnswer[]>;
  /**
   * Records write attempts, each only if its emission is still PENDING with `attempts_before` attempts (a concurrent
   * attempt that got there first wins), appending its timeline event when it ends the emission. Answers, in order,
   * whether each was recorded.
   */
  settle(settlements: readonly LabelSettlement[]): Promise<boolean[]>;
  /** Sets records aside; one row per (scope, topic, partition, offset), a redelivery keeps the first. */
  quarantine(scopeId: string, rows: readonly QuarantineRow[]): Promise<void>;
  /** Adds to the scope's delivery counters (records skipped, duplicates): the rest are counted from the rows. */
  addCounters(scopeId: string, additions: Readonly<Record<string, number>>): Promise<void>;
  /** A run's PENDING emissions, oldest first. */
  pendingEmissions(platformRunId: string, limit: number): Promise<PendingEmission[]>;
  /** The run's counts (observability.ts names): from its rows and the scope's delivery counters. */
  counts(platformRunId: string): Promise<Record<string, number>>;
  /**
   * Appends events to existing cases' timelines (the label API's INVESTIGATOR_ASSERTION): each once per id and per
   * (case, type, source ref) — an event already there is left as it is; an event of no case is not written.
   */
  appendTimeline(events: readonly CaseTimelineEvent[]): Promise<void>;
  listCases(query: CaseListQuery): Promise<CasePage>;
  /** One case with its timeline in the order it was written; undefined when there is none. */
  caseView(caseId: string): Promise<CaseView | undefined>;
}

/** The label store's writer (§4.3), in process. It may throw (then the label stays PENDING and is retried). */
export interface LabelWriter {
  write(input: LabelAssertionInput): Promise<LabelWriteResult>;
  /** Several at once (answers in order); when absent, or when it throws, each is written alone. */
  writeMany?(inputs: readonly LabelAssertionInput[]): Promise<LabelWriteResult[]>;
}

export interface Clock {
  now(): Date;
}

export interface CaseManagementPorts {
  store: CaseStore;
  labels: LabelWriter;
  clock: Clock;
}
