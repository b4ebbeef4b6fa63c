import { PlatformError } from '../errors/platform-error.ts';
/**
 * Every state, reason code and record kind of the Scenario Runner, in one place (control-ingress.md §3.3–§3.6).
 */

/** §3.3 run states (`VERIFYING` exists in the reference's enum but is never used). */
export const RUN_STATES = [
  'OPEN',
  'PLANNED',
  'EXECUTING',
  'WAITING_EVIDENCE',
  'READY',
  'FAILED',
  'QUARANTINED',
] as const;
export type RunState = (typeof RUN_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<RunState> = new Set(['READY', 'FAILED', 'QUARANTINED']);

/**
 * §3.3 transitions. Re-writing the same state is allowed (a resumed run that is still waiting), and
 * WAITING_EVIDENCE → EXECUTING is added so a resumed FORCE_INVOKE run may make another attempt.
 */
const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  OPEN: ['PLANNED', 'FAILED', 'QUARANTINED'],
  PLANNED: ['EXECUTING', 'WAITING_EVIDENCE', 'READY', 'FAILED', 'QUARANTINED'],
  EXECUTING: ['WAITING_EVIDENCE', 'READY', 'FAILED', 'QUARANTINED'],
  WAITING_EVIDENCE: ['EXECUTING', 'READY', 'FAILED', 'QUARANTINED'],
  READY: [],
  FAILED: [],
  QUARANTINED: [],
};

/** Whether a status may move from `from` (undefined: no status yet, only OPEN) to `to`. */
export function canTransition(from: RunState | undefined, to: RunState): boolean {
  if (from === undefined) return to === 'OPEN';
  return from === to || TRANSITIONS[from].includes(to);
}

/** Reason codes a run status carries (FAILED, QUARANTINED, WAITING_EVIDENCE). */
export const RUN_REASON_CODES = [
  // §3.3 submit: auth
  'AUTH_DENIED',
  // §3.3 step 2 plan
  'UNKNOWN_OUTPUT_ID',
  'UNKNOWN_GATE_ID',
  // §3.3 steps 3–4 reuse / invoke
  'ENGINE_ROOT_MISSING',
  'ATTEMPT_LIMIT_EXCEEDED',
  'ENGINE_INVOCATION_INVALID',
  'ENGINE_RECEIPT_MISSING',
  'ENGINE_RECEIPT_INVALID',
  'ENGINE_RECEIPT_MISMATCH',
  /** The engine invoker reported a failure without a code of its own. */
  'ENGINE_FAILED',
  // §3.3 step 5 evidence
  'LOCATOR_SCHEMA_INVALID',
  /** A gate receipt fails gate_receipt.schema (the reference's code; not listed in the spec). */
  'RECEIPT_SCHEMA_INVALID',
  'EVIDENCE_CONFLICT',
  'EVIDENCE_WAITING',
  'EVIDENCE_MISSING_DEADLINE',
  'GATE_FAIL',
  // §3.5 instance receipts
  'INSTANCE_DIGEST_MISSING',
  'INSTANCE_SCOPE_MISSING',
  'INSTANCE_RECEIPT_SCHEMA_INVALID',
  'INSTANCE_RECEIPT_DRIFT',
  // §3.3 step 7 READY
  'ORACLE_PACK_MISMATCH',
  'ORACLE_PACK_INVALID',
  // §3.4 write-once facts view
  'FACTS_VIEW_DRIFT',
] as const;
export type RunReasonCode = (typeof RUN_REASON_CODES)[number];

/** Refusals: the submission is answered with an error and the run's status is left as it was. */
export const SUBMIT_ERROR_CODES = [
  /** The RunRequest fails its closed schema (§3.1). */
  'RUN_REQUEST_INVALID',
  /** §3.2 the same run_equivalence_key with another intent fingerprint. */
  'EQUIV_KEY_COLLISION',
  /** §3.2 `ensure_lease` failed: token changed or the lease expired mid-run. */
  'LEASE_LOST',
  /** §3.3 step 2 the stored plan differs from this submission's (other outputs, strategy or policy). */
  'PLAN_DRIFT',
  /** §3.4 the stored ready_signal differs from the one this run would write. */
  'READY_SIGNAL_DRIFT',
  /** §0 JSONL append: five If-Match conflicts in a row. */
  'S3_APPEND_CONFLICT',
  /** A stored SR artifact (status, plan, facts view) is not what its schema says. */
  'RUN_ARTIFACT_INVALID',
  /** A status write the §3.3 transition table forbids (an invariant; never expected). */
  'STATUS_TRANSITION_INVALID',
] as const;
export type SubmitErrorCode = (typeof SUBMIT_ERROR_CODES)[number];

/** §3.4 record kinds this core writes (reemit and dev_min kinds are not implemented). */
export const RECORD_KINDS = [
  'RUN_ACCEPTED',
  'PLAN_COMMITTED',
  'GOV_POLICY_REV',
  'GOV_PLAN_HASH',
  'ENGINE_ATTEMPT_LAUNCH_REQUESTED',
  'ENGINE_ATTEMPT_FINISHED',
  'EVIDENCE_WAITING',
  'EVIDENCE_FAIL',
  'EVIDENCE_CONFLICT',
  'READY_COMMITTED',
  'GOV_BUNDLE_HASH',
  'GOV_RUN_IDENTITY_SOURCES',
  'READY_PUBLISHED',
  'READY_PUBLISH_FAILED',
  'AUTH_DENIED',
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** Refusals a retry of the same submission can get past (a lease or an append lost to another writer). */
const RETRYABLE_SUBMIT_ERRORS: ReadonlySet<SubmitErrorCode> = new Set(['LEASE_LOST', 'S3_APPEND_CONFLICT']);

/** Thrown for every SUBMIT_ERROR_CODES refusal; `code` is the reason (and the name). */
export class ScenarioRunnerError extends PlatformError<SubmitErrorCode> {
  constructor(code: SubmitErrorCode, detail: string) {
    super(code, `${code}: ${detail}`, { detail, retryable: RETRYABLE_SUBMIT_ERRORS.has(code) });
  }
}
