import type { OraclePackRef } from '../contracts/ready.ts';
import type { ObjectReader } from '../oracle-store/object-store.ts';
import { PACK_MANIFEST_KEY, PackManifest, readJsonBytes } from '../oracle-store/pack-contracts.ts';
import type { RunReasonCode } from './reason-codes.ts';

/**
 * The facts view's `oracle_pack_ref` (control-ingress.md §3.3 step 7, §3.6), built before READY: a sealed pack's
 * manifest must name the run's world key; no manifest gives a ref without a pack id.
 */

export type OraclePackRefResult =
  | { ok: true; ref: OraclePackRef }
  | {
      ok: false;
      reason: Extract<RunReasonCode, 'ORACLE_PACK_MISMATCH' | 'ORACLE_PACK_INVALID'>;
      detail: string;
    };

export interface PackRefInput {
  world: ObjectReader;
  engineRunRoot: string;
  worldKey: {
    manifest_fingerprint: string;
    parameter_hash: string;
    seed: bigint | number;
    scenario_id: string;
  };
  /** Default `<engine_run_root>/stream_view/ts_utc` (§2.3). */
  streamViewRoot?: string;
}

export async function buildOraclePackRef(input: PackRefInput): Promise<OraclePackRefResult> {
  const root = input.engineRunRoot.replace(/\/+$/, '');
  const ref: OraclePackRef = {
    engine_run_root: input.engineRunRoot,
    scenario_id: input.worldKey.scenario_id,
    stream_view_root: input.streamViewRoot ?? `${root}/stream_view/ts_utc`,
  };
  const bytes = await input.world.get(PACK_MANIFEST_KEY);
  if (bytes === undefined) return { ok: true, ref };
  const json = readJsonBytes(bytes);
  const parsed = json.ok ? PackManifest.safeParse(json.value) : undefined;
  if (!parsed?.success) return { ok: false, reason: 'ORACLE_PACK_INVALID', detail: PACK_MANIFEST_KEY };
  const key = parsed.data.world_key;
  const want = input.worldKey;
  const differing = [
    key.manifest_fingerprint !== want.manifest_fingerprint && 'manifest_fingerprint',
    key.parameter_hash !== want.parameter_hash && 'parameter_hash',
    key.seed !== BigInt(want.seed) && 'seed',
    key.scenario_id !== want.scenario_id && 'scenario_id',
  ].filter((f): f is string => typeof f === 'string');
  if (differing.length > 0)
    return {
      ok: false,
      reason: 'ORACLE_PACK_MISMATCH',
      detail: `pack world_key differs in ${differing.join(',')}`,
    };
  return {
    ok: true,
    ref: {
      ...ref,
      oracle_pack_id: parsed.data.oracle_pack_id,
      manifest_ref: `${root}/${PACK_MANIFEST_KEY}`,
      engine_release: parsed.data.engine_release,
    },
  };
}
