import type { LabelStorePort } from './ports.ts';

/**
 * The Label Store's counters, metrics and health (downstream.md §4.3). Every write outcome is counted per run (the
 * writer's counters below); the metrics document of a run reads `accepted` (assertions in the run) and `duplicate`
 * (Σ replay_count) from the assertions themselves, the rest from the counters. Health starts GREEN and each rule can
 * raise it: anomalies (payload hash mismatches + dedupe tuple collisions), rejected writes and pending writes, each
 * AMBER at ≥ 1 and RED at ≥ 10. The writer is synchronous, so pending is always 0.
 */

export const LABEL_STORE_COUNTERS = [
  'writes_total',
  'committed_new_total',
  'replay_match_total',
  'rejected_total',
  'contract_invalid_total',
  'missing_evidence_refs_total',
  'payload_hash_mismatch_total',
  'dedupe_tuple_collision_total',
] as const;
export type LabelStoreCounter = (typeof LABEL_STORE_COUNTERS)[number];
export type LabelStoreCounts = Partial<Record<LabelStoreCounter, number>>;

/** The run a rejected write is counted under when its input names none readable. */
export const UNSCOPED_RUN = 'UNSCOPED';

export function countInto(counts: LabelStoreCounts, name: LabelStoreCounter, by = 1): void {
  if (by !== 0) counts[name] = (counts[name] ?? 0) + by;
}

/** §4.3 metrics of a run (the `label_store/metrics/last_metrics.json` fields). */
export interface LabelStoreMetrics {
  platform_run_id: string;
  accepted: number;
  rejected: number;
  duplicate: number;
  pending: number;
  payload_hash_mismatch: number;
  dedupe_tuple_collision: number;
}

export async function labelStoreMetrics(
  store: LabelStorePort,
  platformRunId: string,
): Promise<LabelStoreMetrics> {
  const totals = await store.runTotals(platformRunId);
  const counter = (name: LabelStoreCounter) => totals.counters[name] ?? 0;
  return {
    platform_run_id: platformRunId,
    accepted: totals.assertions,
    rejected: counter('rejected_total'),
    duplicate: totals.replays,
    pending: 0,
    payload_hash_mismatch: counter('payload_hash_mismatch_total'),
    dedupe_tuple_collision: counter('dedupe_tuple_collision_total'),
  };
}

export type HealthState = 'GREEN' | 'AMBER' | 'RED';

export interface AmberRed {
  amber: number;
  red: number;
}

export interface LabelStoreHealthThresholds {
  anomalies: AmberRed;
  rejected: AmberRed;
  pending: AmberRed;
}

/** §4.3: anomalies 1/10, rejected 1/10, pending 1/10. */
export const LABEL_STORE_HEALTH_THRESHOLDS: LabelStoreHealthThresholds = {
  anomalies: { amber: 1, red: 10 },
  rejected: { amber: 1, red: 10 },
  pending: { amber: 1, red: 10 },
};

export interface LabelStoreHealth {
  platform_run_id: string;
  health_state: HealthState;
  /** `<RULE>_AMBER` / `<RULE>_RED` for each rule that raised the state, rules in a fixed order. */
  health_reasons: string[];
  anomalies: number;
  rejected: number;
  pending: number;
}

const RANK: Record<HealthState, number> = { GREEN: 0, AMBER: 1, RED: 2 };

/** §1 health: GREEN, raised by each rule, never lowered by a later one. */
export function labelStoreHealth(
  metrics: LabelStoreMetrics,
  thresholds: LabelStoreHealthThresholds = LABEL_STORE_HEALTH_THRESHOLDS,
): LabelStoreHealth {
  const anomalies = metrics.payload_hash_mismatch + metrics.dedupe_tuple_collision;
  const observed = { anomalies, rejected: metrics.rejected, pending: metrics.pending };
  let state: HealthState = 'GREEN';
  const reasons: string[] = [];
  for (const rule of ['anomalies', 'rejected', 'pending'] as const) {
    const value = observed[rule];
    const level: HealthState =
      value >= thresholds[rule].red ? 'RED' : value >= thresholds[rule].amber ? 'AMBER' : 'GREEN';
    if (level === 'GREEN') continue;
    reasons.push(`${rule.toUpperCase()}_${level}`);
    if (RANK[level] > RANK[state]) state = level;
  }
  return {
    platform_run_id: metrics.platform_run_id,
    health_state: state,
    health_reasons: reasons,
    ...observed,
  };
}
