/** Every reason code and status word of the oracle store, in one place (control-ingress.md §1.4, §2.1, §2.2). */

/** Checker issue codes (§2.2), plus the hash-law codes this project adds (README: deliberate differences). */
export const CHECK_REASON_CODES = [
  'RUN_RECEIPT_UNREADABLE',
  'RUN_RECEIPT_INVALID',
  'SCENARIO_ID_AMBIGUOUS',
  'SCENARIO_ID_MISSING',
  'GATE_RECEIPT_MISSING',
  /** A required gate's flag digest differs from the digest its hash law gives for the bundle. */
  'GATE_DIGEST_MISMATCH',
  /** A required gate's flag exists but its index, or a file the hash law reads, does not. */
  'GATE_BUNDLE_INCOMPLETE',
  /** A required gate's `_passed.flag` is neither JSON with the digest field nor `digest_field = value`. */
  'GATE_FLAG_UNPARSEABLE',
  'OUTPUT_UNKNOWN',
  'OUTPUT_TEMPLATE_MISSING',
  'OUTPUT_MISSING',
  'TEMPLATE_TOKEN_MISSING',
  'PACK_NOT_SEALED',
  'PACK_MANIFEST_MISSING',
  'PACK_MANIFEST_INVALID',
] as const;
export type CheckReasonCode = (typeof CHECK_REASON_CODES)[number];

export type IssueSeverity = 'ERROR' | 'WARN';
export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

/** Why `sealPack` refused (§2.1). */
export const SEAL_ERROR_CODES = [
  'SCENARIO_ID_MISSING',
  /** Longer than the manifest schema's 256 characters. */
  'SCENARIO_ID_INVALID',
  /** No run_receipt.json at the pack root. */
  'PACK_ROOT_NOT_FOUND',
  /** run_receipt.json is not JSON. */
  'RUN_RECEIPT_UNREADABLE',
  /** run_receipt.json lacks a well-formed manifest_fingerprint, parameter_hash or seed. */
  'WORLD_KEY_MISSING',
  'MANIFEST_MISMATCH',
  'SEAL_MISMATCH',
] as const;
export type SealErrorCode = (typeof SEAL_ERROR_CODES)[number];

/** One gate's verification outcome by its hash law (§1.4). */
export const GATE_STATUSES = ['PASS', 'FAIL', 'MISSING', 'CONFLICT'] as const;
export type GateStatus = (typeof GATE_STATUSES)[number];

export const SEAL_STATUSES = ['SEALED_OK', 'SEALED_FAILED'] as const;
export type SealStatus = (typeof SEAL_STATUSES)[number];
