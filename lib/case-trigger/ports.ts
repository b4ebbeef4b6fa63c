import type { ActionOutcomePayload, PublishDecision } from '../contracts/action-layer.ts';
import type { CaseTriggerEnvelope, CaseTriggerPayload, TriggerType } from '../contracts/case-trigger.ts';

/**
 * Ports of the case trigger core (downstream.md §4.1). The store (adapter: Postgres, migration 0020, bound to one
 * stream id `case_trigger.v0::<run>`) holds what must outlive a Lambda (§7.4): the decision → source event map, the
 * outcomes parked until their decision is known, the replay ledger (case_trigger_id → payload hash) with each
 * trigger's publish decision, the payload-mismatch anomalies and the counters. The publisher pushes envelopes to IG.
 */

/** One record of fp.bus.rtdl.v1: where it sits and its (unchecked) envelope (the bus edge's `BusRecord` fits). */
export interface CaseTriggerBusRecord {
  topic: string;
  partition: number;
  offset: string;
  envelope: unknown;
}

/** What a decision_response tells about its decision: the run and the source event it decided on. */
export interface DecisionSource {
  decision_id: string;
  platform_run_id: string;
  scenario_run_id: string;
  source_event_id: string;
}

/** A ledger claim: the trigger's id and payload hash (guarded), and the trigger itself. */
export interface LedgerClaim {
  case_trigger_id: string;
  case_id: string;
  trigger_type: TriggerType;
  source_ref_id: string;
  platform_run_id: string;
  scenario_run_id: string;
  payload_hash: string;
  payload: CaseTriggerPayload;
  first_seen_at_utc: string;
}

export type LedgerAnswer =
  /** First sight of the trigger: the caller publishes it. */
  | { status: 'NEW' }
  /** Seen before with the same hash; `publish_decision` is the one recorded (null: none yet). */
  | { status: 'SEEN'; publish_decision: PublishDecision | null }
  /** Seen before with another hash: quarantined, never published. */
  | { status: 'PAYLOAD_MISMATCH'; stored_payload_hash: string };

export interface PublishRecord {
  case_trigger_id: string;
  decision: PublishDecision;
  receipt_ref: string | null;
  /** Why AMBIGUOUS (IG unavailable, an answer it could not read); null otherwise. */
  reason_code: string | null;
}

/** A corridor anomaly: the same case_trigger_id seen with another payload hash (CASE_TRIGGER_PAYLOAD_MISMATCH). */
export interface PayloadMismatchAnomaly {
  case_trigger_id: string;
  source_ref_id: string;
  platform_run_id: string;
  scenario_run_id: string;
  stored_payload_hash: string;
  observed_payload_hash: string;
  observed_at_utc: string;
}

/** How a parked outcome's wait ended: its trigger settled at IG, was already settled (replay), or quarantined. */
export interface RaisedOutcome {
  outcome_id: string;
  case_trigger_id: string;
  disposition: 'PUBLISHED' | 'REPLAY' | 'QUARANTINED';
}

export interface CaseTriggerStore {
  /** Records decision → source (insert-once per decision_id; the first sighting is kept). */
  recordDecisionSources(sources: readonly DecisionSource[]): Promise<void>;
  /** The sources known for these decision ids (any order; unknown ids are left out). */
  decisionSources(decisionIds: readonly string[]): Promise<DecisionSource[]>;
  /** Parks outcomes whose decision is not known yet (insert-once per outcome_id); answers the newly parked ids. */
  park(outcomes: readonly ActionOutcomePayload[]): Promise<string[]>;
  /** The parked outcomes (as stored: the core parses them) of these decisions whose wait has not ended. */
  waitingFor(decisionIds: readonly string[]): Promise<unknown[]>;
  /** Ends the wait of parked outcomes (ids never parked are ignored; an ended wait is kept). */
  markRaised(raised: readonly RaisedOutcome[]): Promise<void>;
  /**
   * Claims each trigger on the replay ledger (distinct ids; the caller folds repeats of one batch) and answers in
   * order: NEW when this call inserted the row, else the stored row compared by payload hash.
   */
  claim(claims: readonly LedgerClaim[]): Promise<LedgerAnswer[]>;
  /** Records each trigger's publish decision: a settled one is kept, an AMBIGUOUS one replaced by the next. */
  recordPublish(records: readonly PublishRecord[]): Promise<void>;
  /** Records payload-mismatch anomalies (insert-once per id and observed hash). */
  recordAnomalies(anomalies: readonly PayloadMismatchAnomaly[]): Promise<void>;
  /** Adds to the stream's counters (names of observability.ts; zero additions may be left out). */
  addMetrics(additions: Readonly<Record<string, number>>): Promise<void>;
  metrics(): Promise<Record<string, number>>;
}

export interface CaseTriggerPublisher {
  /**
   * Pushes ≤ 500 envelopes to IG's batch route (its own retries inside) and answers one `{decision: ADMIT|DUPLICATE|
   * QUARANTINE, receipt_ref?}` per envelope, in order. Throws when IG stays unavailable: those envelopes are AMBIGUOUS.
   */
  publish(envelopes: readonly CaseTriggerEnvelope[]): Promise<unknown[]>;
}

export interface Clock {
  now(): Date;
}

export interface CaseTriggerPorts {
  store: CaseTriggerStore;
  publisher: CaseTriggerPublisher;
  clock: Clock;
}
