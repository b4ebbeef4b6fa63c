import { z } from 'zod';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import { SEAL_STATUSES } from './reason-codes.ts';

/**
 * Wire shapes the oracle store reads and writes at the engine run root (control-ingress.md §1.2, §2.1).
 * JSON here is read with `parseJsonLossless`, so a uint64 seed beyond 2^53 arrives as a bigint.
 */

export const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters');
export const Hex32 = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex characters');

const UINT64_MAX = 2n ** 64n - 1n;
/** uint64 as an exact bigint, from a JSON integer (number or lossless bigint). */
export const Uint64 = z
  .union([z.bigint(), z.number().int()])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v <= UINT64_MAX, 'expected an integer in [0, 2^64 - 1]');

/** run_receipt.json: the only source of the world key; extra engine metadata is allowed. */
export const RunReceipt = z.looseObject({
  run_id: Hex32,
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  seed: Uint64,
  created_utc: z.string().optional(),
  contracts_layout: z.string().optional(),
  contracts_root: z.string().optional(),
  runs_root: z.string().optional(),
  external_roots: z.array(z.string()).optional(),
});
export type RunReceipt = z.infer<typeof RunReceipt>;

/** The part of the receipt a pack is keyed by (`run_id` is not part of the world key). */
export const ReceiptWorldKey = z.looseObject({
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  seed: Uint64,
});

export const ScenarioId = z.string().min(1).max(256);

export const WorldKey = z.strictObject({
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  scenario_id: ScenarioId,
  seed: Uint64,
});
export type WorldKey = z.infer<typeof WorldKey>;

/** `_oracle_pack_manifest.json` (closed). */
export const PackManifest = z.strictObject({
  version: z.string(),
  oracle_pack_id: Hex64,
  world_key: WorldKey,
  engine_release: z.string(),
  catalogue_digest: Hex64,
  gate_map_digest: Hex64,
  created_at_utc: z.string().min(1),
});
export type PackManifest = z.infer<typeof PackManifest>;

/** `_SEALED.json` (closed). */
export const PackSeal = z.strictObject({
  version: z.string(),
  oracle_pack_id: Hex64,
  seal_status: z.enum(SEAL_STATUSES),
  sealed_at_utc: z.string().min(1),
});
export type PackSeal = z.infer<typeof PackSeal>;

export const RUN_RECEIPT_KEY = 'run_receipt.json';
export const PACK_MANIFEST_KEY = '_oracle_pack_manifest.json';
export const PACK_SEAL_KEY = '_SEALED.json';
/** Readers also accept the legacy marker. */
export const LEGACY_PACK_SEAL_KEY = '_SEALED.flag';

/** How JSON objects are written at the run root: CJ + "\n". */
export function jsonObjectBody(value: unknown): string {
  return `${canonicalJson(value)}\n`;
}

export type JsonRead = { ok: true; value: unknown } | { ok: false; error: string };

/** Decodes UTF-8 strictly and parses losslessly. */
export function readJsonBytes(bytes: Uint8Array): JsonRead {
  try {
    return { ok: true, value: parseJsonLossless(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Python `datetime.isoformat()` of a UTC instant: microseconds only when non-zero, `+00:00`. */
export function pythonUtcIsoformat(at: Date): string {
  const iso = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const millis = at.getUTCMilliseconds();
  const base = iso.slice(0, 19);
  return millis === 0 ? `${base}+00:00` : `${base}.${String(millis).padStart(3, '0')}000+00:00`;
}
