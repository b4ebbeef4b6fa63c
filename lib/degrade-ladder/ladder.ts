import { type CapabilitiesMask, compareModes, type DegradePolicy, type Mode, policyRevOf } from './policy.ts';
import type { JudgedSignal } from './signals.ts';

/**
 * The ladder itself (downstream.md §3.1): the baseline mode the signals call for, and the next posture from the
 * current one — a worse mode at once, a better one only once its baseline has held for the quiet period (the time
 * accumulates across ticks and restarts whenever the baseline is not better). Each tick's posture has the next seq.
 */

export interface Baseline {
  mode: Mode;
  /** Why: the first signal that set the mode (`REQUIRED_SIGNAL_NOT_OK:<name>:<status>`…), or ALL_SIGNALS_OK. */
  reason: string;
}

/** Any required signal not OK ⇒ FAIL_CLOSED; an optional one in ERROR ⇒ DEGRADED_2; missing or stale ⇒ DEGRADED_1. */
export function baselineOf(signals: readonly JudgedSignal[]): Baseline {
  const required = signals.find((s) => s.required && s.status !== 'OK');
  if (required)
    return { mode: 'FAIL_CLOSED', reason: `REQUIRED_SIGNAL_NOT_OK:${required.name}:${required.status}` };
  const failed = signals.find((s) => !s.required && s.status === 'ERROR');
  if (failed) return { mode: 'DEGRADED_2', reason: `OPTIONAL_SIGNAL_ERROR:${failed.name}` };
  const absent = signals.find((s) => !s.required && s.status !== 'OK');
  if (absent) return { mode: 'DEGRADED_1', reason: `OPTIONAL_SIGNAL_NOT_OK:${absent.name}:${absent.status}` };
  return { mode: 'NORMAL', reason: 'ALL_SIGNALS_OK' };
}

/** The posture the store holds and the Decision Fabric reads. */
export interface Posture {
  mode: Mode;
  capabilities_mask: CapabilitiesMask;
  policy_rev: string;
  /** +1 per tick; the store refuses a regression. */
  posture_seq: number;
  decided_at_utc: string;
  reason: string;
  evidence_refs: string[];
  /**
   * How long a better baseline has held so far, in seconds (null when the baseline is not better: the next better
   * tick starts the count at 0).
   */
  upshift_quiet_seconds: number | null;
  /** When the ladder first decided (the bootstrap grace counts from it). */
  started_at_utc: string;
}

export type Transition = 'INITIAL' | 'MODE_CHANGE' | 'NONE';

export interface Step {
  posture: Posture;
  transition: Transition;
}

/** The next posture from `current` (undefined: the first tick) and this tick's baseline. */
export function nextPosture(
  current: Posture | undefined,
  baseline: Baseline,
  evidenceRefs: readonly string[],
  policy: DegradePolicy,
  now: Date,
): Step {
  const decided = (mode: Mode, reason: string, quiet: number | null): Posture => ({
    mode,
    capabilities_mask: policy.modes[mode],
    policy_rev: policyRevOf(policy),
    posture_seq: (current?.posture_seq ?? 0) + 1,
    decided_at_utc: now.toISOString(),
    reason,
    evidence_refs: [...evidenceRefs],
    upshift_quiet_seconds: quiet,
    started_at_utc: current?.started_at_utc ?? now.toISOString(),
  });
  if (!current) return { posture: decided(baseline.mode, baseline.reason, null), transition: 'INITIAL' };
  const order = compareModes(baseline.mode, current.mode);
  if (order > 0) return { posture: decided(baseline.mode, baseline.reason, null), transition: 'MODE_CHANGE' };
  if (order === 0) return { posture: decided(current.mode, baseline.reason, null), transition: 'NONE' };
  const elapsed = Math.max(0, (now.getTime() - new Date(current.decided_at_utc).getTime()) / 1000);
  const quiet = current.upshift_quiet_seconds === null ? 0 : current.upshift_quiet_seconds + elapsed;
  if (quiet >= policy.hysteresis.upshift_quiet_period_seconds)
    return { posture: decided(baseline.mode, baseline.reason, null), transition: 'MODE_CHANGE' };
  const held = `UPSHIFT_HELD:${baseline.mode}:${Math.floor(quiet)}s/${policy.hysteresis.upshift_quiet_period_seconds}s`;
  return { posture: decided(current.mode, held, quiet), transition: 'NONE' };
}
