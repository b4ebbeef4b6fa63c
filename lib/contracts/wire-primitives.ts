import { z } from 'zod';

/**
 * Field types shared by the wire shapes (schemas.layer1.yaml `$defs` and the platform contracts).
 * JSON is read with `parseJsonLossless`, so an integer beyond 2^53 arrives as a bigint; values are kept as
 * parsed, so re-serialising with canonicalJson is byte-identical.
 */

export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');
export const Hex32 = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex characters');

const UINT64_MAX = 2n ** 64n - 1n;
/** uint64: a JSON integer in [0, 2^64 − 1], as a safe-integer number or a bigint. */
export const Uint64 = z
  .union([z.bigint(), z.number().int()])
  .refine((v) => BigInt(v) >= 0n && BigInt(v) <= UINT64_MAX, 'expected an integer in [0, 2^64 - 1]');

/** Envelope time: RFC 3339 UTC with exactly six fractional digits (`…T10:15:30.123456Z`). */
export const Rfc3339Micros = z
  .string()
  .regex(
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$/,
    'expected UTC with exactly 6 fractional digits',
  );

/** Any ISO 8601 timestamp string (the Python side writes `isoformat()`, e.g. `…+00:00`). */
export const IsoTimestamp = z.string().min(1);

/**
 * An identifier-like string of 1–`max` characters that every store can hold as it is: well-formed Unicode (a lone
 * surrogate would be replaced by U+FFFD on the way to UTF-8, so two different ids would collide) and no control
 * character (Postgres text refuses NUL; a newline would split a log line). Ids reach S3 keys, SQL values and logs.
 */
export function SafeText(max: number) {
  return (
    z
      .string()
      .min(1)
      .max(max)
      .refine((s) => !/\p{Cs}/u.test(s), 'expected well-formed Unicode (no lone surrogate)')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
      .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'expected no control character')
  );
}

/** The envelope's `platform_run_id` pattern (shape only; platform-run.ts also checks the instant). */
export const PlatformRunIdPattern = z
  .string()
  .regex(/^platform_[0-9]{8}T[0-9]{6}Z$/, 'expected platform_YYYYMMDDTHHMMSSZ');

/** `{algo: "sha256", hex}`. */
export const Sha256Digest = z.strictObject({ algo: z.literal('sha256'), hex: Hex64 });
export type Sha256Digest = z.infer<typeof Sha256Digest>;

/** SR policy revision (content_digest required). */
export const SrPolicyRev = z.strictObject({
  policy_id: z.string(),
  revision: z.string(),
  content_digest: Hex64,
});
export type SrPolicyRev = z.infer<typeof SrPolicyRev>;

/** Provenance block `{service_release_id, environment, config_revision?, run_config_digest?}`. */
export const Provenance = z.strictObject({
  service_release_id: z.string().min(1).max(256),
  environment: z.string().min(1).max(64),
  config_revision: z.string().min(1).max(128).optional(),
  run_config_digest: Hex64.optional(),
});
export type Provenance = z.infer<typeof Provenance>;

const OUTPUT_OR_GATE_ID = /^[A-Za-z0-9_.-]+$/;
export const OutputId = z.string().min(1).max(128).regex(OUTPUT_OR_GATE_ID, 'expected an output_id');
export const GateId = z.string().min(1).max(128).regex(OUTPUT_OR_GATE_ID, 'expected a gate_id');
