import type { DegradePolicy, SignalName } from './policy.ts';

/**
 * The Degrade Ladder's signals (downstream.md §3.1), judged against the policy: a reading says what its source
 * found (a component health document, the consumers' lag, the registry snapshot, the posture store); the judgement
 * adds its age. A component health state GREEN, CLEAN or HEALTHY is OK; any other is ERROR. A required signal whose
 * source has written nothing yet is OK (BOOTSTRAP_PENDING) while the ladder is younger than the bootstrap grace.
 */

export type SignalStatus = 'OK' | 'ERROR' | 'MISSING' | 'STALE';

/** What a signal's source found. */
export interface SignalReading {
  name: SignalName;
  /** OK / ERROR as the source judged it; MISSING when it has nothing (no document, no row). */
  state: 'OK' | 'ERROR' | 'MISSING';
  /** When the source last observed it (absent: now). */
  observed_at_utc?: string;
  /** Why (e.g. `health_state=RED`, `lag 12 on fp.bus.traffic.fraud.v1`). */
  detail?: string;
  /** Where the evidence is (an `s3://` document, a table). */
  evidence_ref?: string;
}

export interface JudgedSignal {
  name: SignalName;
  required: boolean;
  status: SignalStatus;
  /** BOOTSTRAP_PENDING, STALE (age), or the reading's detail. */
  reason: string | null;
  evidence_ref: string | null;
}

const HEALTHY_STATES: ReadonlySet<string> = new Set(['GREEN', 'CLEAN', 'HEALTHY']);

/** A component health state (a projector's `health_state`) as a reading. */
export function healthReading(
  name: SignalName,
  health: { health_state: string; observed_at_utc?: string } | undefined,
  evidenceRef?: string,
): SignalReading {
  if (!health) return { name, state: 'MISSING', ...(evidenceRef ? { evidence_ref: evidenceRef } : {}) };
  return {
    name,
    state: HEALTHY_STATES.has(health.health_state) ? 'OK' : 'ERROR',
    detail: `health_state=${health.health_state}`,
    ...(health.observed_at_utc ? { observed_at_utc: health.observed_at_utc } : {}),
    ...(evidenceRef ? { evidence_ref: evidenceRef } : {}),
  };
}

export interface JudgeContext {
  now: Date;
  /** When the ladder first ran (its first posture), for the bootstrap grace. */
  startedAt: Date;
}

/** Every signal the policy names, judged: one the readings lack is MISSING. */
export function judgeSignals(
  readings: readonly SignalReading[],
  policy: DegradePolicy,
  context: JudgeContext,
): JudgedSignal[] {
  const byName = new Map(readings.map((r) => [r.name, r]));
  const ageSeconds = (at: string | undefined) =>
    at === undefined ? 0 : (context.now.getTime() - new Date(at).getTime()) / 1000;
  const sinceStart = (context.now.getTime() - context.startedAt.getTime()) / 1000;
  const judge = (name: SignalName, required: boolean): JudgedSignal => {
    const reading = byName.get(name);
    const evidence_ref = reading?.evidence_ref ?? null;
    if (!reading || reading.state === 'MISSING') {
      if (required && sinceStart <= policy.signals.bootstrap_grace_seconds)
        return { name, required, status: 'OK', reason: 'BOOTSTRAP_PENDING', evidence_ref };
      return { name, required, status: 'MISSING', reason: reading?.detail ?? null, evidence_ref };
    }
    const age = ageSeconds(reading.observed_at_utc);
    if (!(age <= policy.signals.required_max_age_seconds))
      return { name, required, status: 'STALE', reason: `STALE:${Math.round(age)}s`, evidence_ref };
    return { name, required, status: reading.state, reason: reading.detail ?? null, evidence_ref };
  };
  return [
    ...policy.signals.required.map((name) => judge(name, true)),
    ...policy.signals.optional.map((name) => judge(name, false)),
  ];
}
