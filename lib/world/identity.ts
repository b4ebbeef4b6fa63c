import { sha256Hex } from '../contracts/identity.ts';

/** Version of the generator's recipe; part of every identity preimage, so a new recipe is a new world. */
export const WORLD_RECIPE = 'fraud-platform/lib/world@v1';

/** Length of the simulated arrival horizon. */
export const HORIZON_HOURS = 24;
export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_HOUR = 3_600 * MICROS_PER_SECOND;

/** The engine world key and run id, plus the generator's fixed clock; all a function of (seed, events). */
export interface WorldIdentity {
  readonly seed: bigint;
  readonly events: number;
  readonly manifestFingerprint: string;
  readonly parameterHash: string;
  readonly runId: string;
  /** Start of the arrival horizon, epoch microseconds (midnight UTC). */
  readonly horizonStartMicros: number;
  /** When the "engine run" finished: fixed by the seed, never the wall clock. */
  readonly createdUtc: string;
}

/**
 * The size is part of the world key: two worlds of one seed but different sizes hold different rows,
 * and an identical manifest_fingerprint would let one pass for the other.
 */
export function worldIdentity(seed: bigint, events: number): WorldIdentity {
  const base = `${WORLD_RECIPE}|seed=${seed.toString()}|events=${events}`;
  const dayOffset = Number(seed % 28n);
  const horizonStartMs = Date.UTC(2026, 2, 1) + dayOffset * 86_400_000;
  const createdMs = horizonStartMs + (HORIZON_HOURS + 30) * 3_600_000;
  return {
    seed,
    events,
    manifestFingerprint: sha256Hex(`${base}|manifest_fingerprint`),
    parameterHash: sha256Hex(`${base}|parameter_hash`),
    runId: sha256Hex(`${base}|run_id`).slice(0, 32),
    horizonStartMicros: horizonStartMs * 1000,
    createdUtc: formatUtcMicros(createdMs * 1000),
  };
}

/** Epoch microseconds → `YYYY-MM-DDTHH:MM:SS.ffffffZ` (the engine's rfc3339_micros). */
export function formatUtcMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const fraction = micros - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(fraction).padStart(3, '0')}Z`;
}
