import type { z } from 'zod';
import { canonicalJson } from '../contracts/canonical-json.ts';
import type { SealRequest as SealTaskRequest } from '../contracts/oracle-pipeline.ts';
import { PlatformError } from '../errors/platform-error.ts';
import { sha256Hex } from './digest.ts';
import { CATALOGUE_DIGEST, GATE_MAP_DIGEST } from './interface-pack.ts';
import type { ObjectReader, WriteOnceStore } from './object-store.ts';
import {
  jsonObjectBody,
  PACK_MANIFEST_KEY,
  PACK_SEAL_KEY,
  PackManifest,
  PackSeal,
  pythonUtcIsoformat,
  ReceiptWorldKey,
  RUN_RECEIPT_KEY,
  readJsonBytes,
  type WorldKey,
} from './pack-contracts.ts';
import type { SealErrorCode, SealStatus } from './reason-codes.ts';

/**
 * Seals an engine world as an oracle pack (control-ingress.md §2.1): `_oracle_pack_manifest.json`, then
 * `_SEALED.json`, both write-once at the store root (the engine run root), each re-read and compared with
 * what this call would write, timestamps excluded. Sealing the same world again changes nothing.
 */

/** A refusal; `name` is the reason code. */
export class SealError extends PlatformError<SealErrorCode> {
  constructor(code: SealErrorCode, message: string) {
    super(code, `${code}: ${message}`);
  }
}

export interface SealRequest {
  scenarioId: string;
  engineRelease: string;
  /** The manifest's created_at_utc and the seal's sealed_at_utc. */
  now: Date;
  /** Default SEALED_OK. */
  sealStatus?: SealStatus;
}

export interface SealResult {
  oracle_pack_id: string;
  /** As stored (on a re-seal: the first call's, with its timestamps). */
  manifest: PackManifest;
  seal: PackSeal;
  /** Whether this call wrote either file. */
  created: boolean;
}

/** `sha256("{mf}|{ph}|{scenario_id}|{seed}|{engine_release}|{catalogue_digest}|{gate_map_digest}")`. */
export function oraclePackId(
  worldKey: WorldKey,
  engineRelease: string,
  catalogueDigest: string = CATALOGUE_DIGEST,
  gateMapDigest: string = GATE_MAP_DIGEST,
): string {
  const { manifest_fingerprint, parameter_hash, scenario_id, seed } = worldKey;
  return sha256Hex(
    `${manifest_fingerprint}|${parameter_hash}|${scenario_id}|${seed}|${engineRelease}|${catalogueDigest}|${gateMapDigest}`,
  );
}

/** The world key from run_receipt.json plus the scenario (which never comes from the receipt). */
export async function readWorldKey(store: ObjectReader, scenarioId: string): Promise<WorldKey> {
  const bytes = await store.get(RUN_RECEIPT_KEY);
  if (bytes === undefined)
    throw new SealError('PACK_ROOT_NOT_FOUND', `no ${RUN_RECEIPT_KEY} under ${store.root}`);
  const json = readJsonBytes(bytes);
  if (!json.ok) throw new SealError('RUN_RECEIPT_UNREADABLE', json.error);
  const receipt = ReceiptWorldKey.safeParse(json.value);
  if (!receipt.success) {
    const fields = [...new Set(receipt.error.issues.map((i) => String(i.path[0] ?? '(root)')))];
    throw new SealError('WORLD_KEY_MISSING', `run receipt lacks a well-formed ${fields.join(', ')}`);
  }
  const { manifest_fingerprint, parameter_hash, seed } = receipt.data;
  return { manifest_fingerprint, parameter_hash, scenario_id: scenarioId, seed };
}

export async function sealPack(store: WriteOnceStore, request: SealRequest): Promise<SealResult> {
  const { scenarioId, engineRelease, now } = request;
  if (!scenarioId?.trim()) throw new SealError('SCENARIO_ID_MISSING', 'a scenario_id is required');
  if (scenarioId.length > 256) throw new SealError('SCENARIO_ID_INVALID', 'scenario_id is longer than 256');
  const worldKey = await readWorldKey(store, scenarioId);
  const oracle_pack_id = oraclePackId(worldKey, engineRelease);

  const manifest: PackManifest = {
    version: 'v0',
    oracle_pack_id,
    world_key: worldKey,
    engine_release: engineRelease,
    catalogue_digest: CATALOGUE_DIGEST,
    gate_map_digest: GATE_MAP_DIGEST,
    created_at_utc: pythonUtcIsoformat(now),
  };
  const manifestWrite = await writeOnce(
    store,
    PACK_MANIFEST_KEY,
    manifest,
    'created_at_utc',
    'MANIFEST_MISMATCH',
  );
  const stored = PackManifest.safeParse(manifestWrite.stored);
  if (!stored.success) throw new SealError('MANIFEST_MISMATCH', `${PACK_MANIFEST_KEY} fails its schema`);

  const seal: PackSeal = {
    version: 'v0',
    oracle_pack_id,
    seal_status: request.sealStatus ?? 'SEALED_OK',
    sealed_at_utc: pythonUtcIsoformat(now),
  };
  const sealWrite = await writeOnce(store, PACK_SEAL_KEY, seal, 'sealed_at_utc', 'SEAL_MISMATCH');
  const storedSeal = PackSeal.safeParse(sealWrite.stored);
  if (!storedSeal.success) throw new SealError('SEAL_MISMATCH', `${PACK_SEAL_KEY} fails its schema`);

  return {
    oracle_pack_id,
    manifest: stored.data,
    seal: storedSeal.data,
    created: manifestWrite.created || sealWrite.created,
  };
}

/** The object without its timestamp, as CJ; missing fields compare as null (the reference's `.get`). */
function fingerprint(value: unknown, keys: readonly string[], timestampKey: string): string {
  const record = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  const entries = keys
    .filter((k) => k !== timestampKey)
    .map((k) => [k, (record as Record<string, unknown>)[k] ?? null]);
  return canonicalJson(Object.fromEntries(entries));
}

async function writeOnce(
  store: WriteOnceStore,
  key: string,
  value: PackManifest | PackSeal,
  timestampKey: string,
  mismatch: 'MANIFEST_MISMATCH' | 'SEAL_MISMATCH',
): Promise<{ created: boolean; stored: unknown }> {
  const created = await store.putIfAbsent(key, jsonObjectBody(value));
  const bytes = await store.get(key);
  if (bytes === undefined) throw new SealError(mismatch, `${key} vanished after a write-once put`);
  const json = readJsonBytes(bytes);
  if (!json.ok) throw new SealError(mismatch, `${key} is not JSON: ${json.error}`);
  const keys = Object.keys(value);
  if (fingerprint(json.value, keys, timestampKey) !== fingerprint(value, keys, timestampKey)) {
    const existingId = (json.value as { oracle_pack_id?: unknown } | null)?.oracle_pack_id;
    throw new SealError(
      mismatch,
      `${key} already holds a different pack (stored oracle_pack_id ${String(existingId)}, this one ${value.oracle_pack_id})`,
    );
  }
  return { created, stored: json.value };
}

/** The oracle-seal task: the request's engine release (or the deployment's), the seal, its answer. */
export async function sealRequestedPack(
  store: WriteOnceStore,
  request: z.output<typeof SealTaskRequest>,
  defaultEngineRelease: string,
  now: Date,
) {
  const result = await sealPack(store, {
    scenarioId: request.scenario_id,
    engineRelease: request.engine_release ?? defaultEngineRelease,
    now,
  });
  return {
    oracle_pack_id: result.oracle_pack_id,
    created: result.created,
    seal_status: result.seal.seal_status,
  };
}
