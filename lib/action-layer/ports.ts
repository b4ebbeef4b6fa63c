import { z } from 'zod';
import {
  type ActionOutcomeEnvelope,
  type ActionOutcomePayload,
  EXECUTION_STATES,
  type PublishDecision,
} from '../contracts/action-layer.ts';
import { SafeText } from '../contracts/wire-primitives.ts';

/**
 * Ports of the Action Layer core (downstream.md §3.3). The store (adapter: Postgres, migration 0017, bound to one
 * stream id `al.v0::<run>`) holds the semantic ledger (one row per intent, claimed before it runs), the append-only
 * outcomes with their hash guard, the publish result per outcome and the counters. The executor carries out an
 * action (the simulated one in executor.ts); the publisher pushes outcome envelopes to IG. Clock and sleeper keep
 * the core free of real time.
 */

/** An intent's claim on the semantic ledger: PK (run, scenario run, semantic key); the intent hash is guarded. */
export interface SemanticClaim {
  platform_run_id: string;
  scenario_run_id: string;
  semantic_key: string;
  idempotency_key: string;
  action_id: string;
  decision_id: string;
  intent_hash: string;
  first_seen_at_utc: string;
}

/** The outcome already recorded for a claimed intent, and its publish decision (null: none recorded yet). */
export interface RecordedOutcome {
  /** As stored (the core parses it). */
  outcome: unknown;
  publish_decision: PublishDecision | null;
}

export type ClaimAnswer =
  /** First sight of the intent: it is the caller's to run. */
  | { status: 'NEW' }
  /**
   * Seen before with the same hash. `outcome` is what that earlier sight recorded — undefined when it claimed the
   * intent but ended before appending an outcome.
   */
  | { status: 'DROP_DUPLICATE'; outcome: RecordedOutcome | undefined }
  /** Seen before with another hash: an anomaly (quarantine), never run. */
  | { status: 'HASH_MISMATCH'; stored_intent_hash: string };

export type AppendAnswer = 'NEW' | 'DUPLICATE' | 'HASH_MISMATCH';

export interface PublishRecord {
  outcome_id: string;
  decision: PublishDecision;
  receipt_ref: string | null;
  /** Why AMBIGUOUS (IG unavailable, an answer it could not read); null otherwise. */
  reason_code: string | null;
}

export interface ActionLayerStore {
  /**
   * Claims each intent (distinct semantic keys; the caller folds duplicates of one batch) and answers in order: NEW
   * when this call inserted the ledger row, else the stored row compared by intent hash.
   */
  claim(claims: readonly SemanticClaim[]): Promise<ClaimAnswer[]>;
  /**
   * Appends an outcome (PK outcome_id): NEW; DUPLICATE when the same outcome (same hash) is there; HASH_MISMATCH when
   * another is (nothing written). NEW and DUPLICATE link the outcome to its ledger row (`semantic_key`).
   */
  append(semanticKey: string, outcome: ActionOutcomePayload, outcomeHash: string): Promise<AppendAnswer>;
  /**
   * Records each outcome's publish decision (distinct outcome ids). A settled decision (ADMIT, DUPLICATE,
   * QUARANTINE) is kept; an AMBIGUOUS one is replaced by the next answer.
   */
  recordPublish(records: readonly PublishRecord[]): Promise<void>;
  /** Adds to the stream's counters (names of observability.ts; zero additions may be left out). */
  addMetrics(additions: Readonly<Record<string, number>>): Promise<void>;
  /** The stream's counters. */
  metrics(): Promise<Record<string, number>>;
}

/** What the executor is asked: the effect of one attempt, keyed by the intent's semantic key. */
export interface ExecutionRequest {
  action_kind: string;
  action_payload: Readonly<Record<string, unknown>>;
  /** The semantic key: an effect provider dedupes on it, so a resumed intent never acts twice. */
  idempotency_token: string;
  attempt_seq: number;
}

/** One attempt's answer, parsed at the port (an executor is a boundary). */
export const ExecutionResult = z.strictObject({
  state: z.enum(EXECUTION_STATES),
  provider_code: SafeText(256),
  provider_ref: SafeText(1024).nullable(),
  message: z.string().max(2048),
});
export type ExecutionResult = z.infer<typeof ExecutionResult>;

export interface ActionExecutor {
  /** One attempt; its answer is parsed by the core (an invalid one, or a throw, is an unknown commit). */
  execute(request: ExecutionRequest): Promise<unknown>;
}

export interface OutcomePublisher {
  /**
   * Pushes the envelopes to IG (its own retries inside) and answers one `{decision: ADMIT|DUPLICATE|QUARANTINE,
   * receipt_ref?}` per envelope, in order. Throws when IG stays unavailable: every envelope is then AMBIGUOUS.
   */
  publish(envelopes: readonly ActionOutcomeEnvelope[]): Promise<unknown[]>;
}

export interface Clock {
  now(): Date;
}

export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

export interface ActionLayerPorts {
  store: ActionLayerStore;
  executor: ActionExecutor;
  publisher: OutcomePublisher;
  clock: Clock;
  sleeper: Sleeper;
}
