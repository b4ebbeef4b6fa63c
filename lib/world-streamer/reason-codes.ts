import { PlatformError } from '../errors/platform-error.ts';
/**
 * Every status word and reason code of the World Streamer, in one place (control-ingress.md §4.1–§4.7).
 * Codes marked "ours" are additions of this project's serverless shape (README: deliberate differences).
 */

/** §4.1 step 8 / §4.2: what one READY message came to. Only STREAMED and SKIPPED_OUT_OF_SCOPE are final. */
export const READY_STATUSES = ['STREAMED', 'FAILED', 'SKIPPED_DUPLICATE', 'SKIPPED_OUT_OF_SCOPE'] as const;
export type ReadyStatus = (typeof READY_STATUSES)[number];

/** The statuses after which a READY is never streamed again (§10 "Control bus"). */
export const FINAL_READY_STATUSES = ['STREAMED', 'SKIPPED_OUT_OF_SCOPE'] as const;
export type FinalReadyStatus = (typeof FINAL_READY_STATUSES)[number];

/** §4.1 steps 2–6: why a READY was not streamed. */
export const READY_REASON_CODES = [
  'RUN_FACTS_INVALID',
  'PLATFORM_RUN_ID_MISSING',
  'PLATFORM_RUN_ID_MISMATCH',
  'SCENARIO_RUN_ID_MISSING',
  'SCENARIO_RUN_ID_MISMATCH',
  'PLATFORM_RUN_SCOPE_MISMATCH',
  'SCENARIO_ID_MISSING',
  'ENGINE_ROOT_MISSING',
] as const;
export type ReadyReasonCode = (typeof READY_REASON_CODES)[number];

/** §4.2–§4.4, §4.7: why a stream (or one output of it) FAILED. */
export const STREAM_REASON_CODES = [
  'ENGINE_ROOT_MISSING',
  'PLATFORM_RUN_ID_MISSING',
  'RUN_RECEIPT_UNREADABLE',
  'SCENARIO_ID_MISSING',
  'WORLD_KEY_MISSING',
  'PACK_MANIFEST_INVALID',
  'WORLD_KEY_MISMATCH',
  'PACK_MANIFEST_MISSING',
  'PACK_NOT_SEALED',
  'NO_TRAFFIC_OUTPUTS',
  'GATE_PASS_MISSING',
  'PRODUCER_ID_MISSING',
  'PRODUCER_ALLOWLIST_MISSING',
  'PRODUCER_ALLOWLIST_EMPTY',
  'PRODUCER_ALLOWLIST_UNREADABLE',
  'PRODUCER_ALLOWLIST_UNSUPPORTED',
  'PRODUCER_NOT_ALLOWED',
  'STREAM_VIEW_MISSING',
  'STREAM_VIEW_RECEIPT_BAD',
  'STREAM_VIEW_ID_MISMATCH',
  'STREAM_VIEW_OUTPUT_MISMATCH',
  'STREAM_VIEW_EMPTY',
  'PRIMARY_KEY_MISSING',
  /** A row whose `ts_utc` does not parse (contracts/envelope.ts `EventTimeMissing`). */
  'TS_UTC_INVALID',
  'IG_PUSH_REJECTED',
  'IG_PUSH_RETRY_EXHAUSTED',
  /** Ours: another writer advanced this output's checkpoint while a chunk ran (two sessions on one scope). */
  'CHECKPOINT_CONFLICT',
  'STREAM_FAILED',
] as const;
export type StreamReasonCode = (typeof STREAM_REASON_CODES)[number];

export type ReasonCode = ReadyReasonCode | StreamReasonCode;

/** §4.2 `StreamResult.status`. */
export type StreamStatus = 'STREAMED' | 'FAILED';

/** Why a checkpoint was saved (§4.6 "Saved", session `checkpoint_saved.reason`). */
export const CHECKPOINT_REASONS = ['chunk', 'max_events', 'output_complete', 'failed_prefix'] as const;
export type CheckpointReason = (typeof CHECKPOINT_REASONS)[number];

/** §4.1 governance families WSP emits. */
export const GOVERNANCE_FAMILIES = ['RUN_READY_SEEN', 'RUN_STARTED', 'RUN_ENDED', 'RUN_CANCELLED'] as const;
export type GovernanceFamily = (typeof GOVERNANCE_FAMILIES)[number];

/** A failure with a reason code, thrown inside the core and turned into a result at its edge. */
export class StreamFailure extends PlatformError<StreamReasonCode> {
  constructor(code: StreamReasonCode, detail?: string) {
    super(code, undefined, detail === undefined ? {} : { detail });
  }
}
