import type { EffectivePosture } from '../contracts/degrade-ladder.ts';
import type { Posture } from './ladder.ts';
import type { DegradePolicy } from './policy.ts';

/**
 * The posture as the Decision Fabric must use it (downstream.md §3.1): the stored one while it is younger than the
 * policy's max age; else — none stored, the store failing, or too old — the FAIL_CLOSED mask, with the reason
 * (`FAILSAFE_MISSING`, `FAILSAFE_STORE_ERROR`, `FAILSAFE_STALE`), so a decision is never made on a posture nobody
 * vouches for.
 */

export type { EffectivePosture };

export async function effectivePosture(
  read: () => Promise<Posture | undefined>,
  policy: DegradePolicy,
  now: Date,
): Promise<EffectivePosture> {
  const failsafe = (reason: string, stored?: Posture): EffectivePosture => ({
    mode: 'FAIL_CLOSED',
    capabilities_mask: policy.modes.FAIL_CLOSED,
    source: 'FAILSAFE',
    reason,
    posture_seq: stored?.posture_seq ?? null,
    policy_rev: stored?.policy_rev ?? null,
    decided_at_utc: stored?.decided_at_utc ?? null,
  });
  let stored: Posture | undefined;
  try {
    stored = await read();
  } catch {
    return failsafe('FAILSAFE_STORE_ERROR');
  }
  if (!stored) return failsafe('FAILSAFE_MISSING');
  const age = (now.getTime() - new Date(stored.decided_at_utc).getTime()) / 1000;
  if (!(age <= policy.posture_max_age_seconds)) return failsafe('FAILSAFE_STALE', stored);
  return {
    mode: stored.mode,
    capabilities_mask: stored.capabilities_mask,
    source: 'STORE',
    reason: null,
    posture_seq: stored.posture_seq,
    policy_rev: stored.policy_rev,
    decided_at_utc: stored.decided_at_utc,
  };
}
