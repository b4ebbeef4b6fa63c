/**
 * The Action Layer's counters and health (downstream.md §3.3): the §3.3 metric names (its
 * `action_layer/observability/last_metrics.json`) plus the intake's own lanes, and the health rule —
 * error_rate = (failed + quarantine + ambiguous) / max(1, intake), AMBER at ≥ 0.05, RED at ≥ 0.20.
 */

export const ACTION_LAYER_METRICS = [
  // §3.3
  'intake_total',
  'execution_attempts_total',
  'execution_retries_total',
  'outcome_executed_total',
  'outcome_denied_total',
  'outcome_failed_total',
  'unknown_commit_total',
  'publish_admit_total',
  'publish_duplicate_total',
  /** IG quarantines, and the intake's own (a semantic hash mismatch, an outcome hash mismatch), as the reference counts. */
  'publish_quarantine_total',
  'publish_ambiguous_total',
  // the intake's lanes
  /** Records that are not action_intent @v1 (advanced). */
  'irrelevant_total',
  /** Records that are not a JSON object, or action_intents whose envelope or payload breaks the contract (advanced). */
  'invalid_total',
  /** Intents of another run (advanced). */
  'run_scope_skipped_total',
  /** Intents seen before with the same hash (no second execution). */
  'duplicate_dropped_total',
  'semantic_mismatch_total',
  'outcome_hash_mismatch_total',
  /** Outcomes of earlier deliveries whose publish had not settled, published again. */
  'republished_total',
] as const;
export type ActionLayerMetricName = (typeof ACTION_LAYER_METRICS)[number];
export type ActionLayerCounts = Partial<Record<ActionLayerMetricName, number>>;

/** Every counter, zero where `counts` has none (the metrics document names them all). */
export function metricsSnapshot(
  counts: Readonly<Record<string, number>>,
): Record<ActionLayerMetricName, number> {
  return Object.fromEntries(ACTION_LAYER_METRICS.map((name) => [name, counts[name] ?? 0])) as Record<
    ActionLayerMetricName,
    number
  >;
}

export function countInto(counts: ActionLayerCounts, name: ActionLayerMetricName, by = 1): void {
  if (by !== 0) counts[name] = (counts[name] ?? 0) + by;
}

export type HealthState = 'GREEN' | 'AMBER' | 'RED';

export interface ErrorRateThresholds {
  amber: number;
  red: number;
}

export const ERROR_RATE_THRESHOLDS: ErrorRateThresholds = { amber: 0.05, red: 0.2 };

export interface ActionLayerHealth {
  health_state: HealthState;
  health_reasons: string[];
  error_rate: number;
  error_total: number;
  intake_total: number;
}

/** §3.3 health from the counters: GREEN, AMBER (`ERROR_RATE_AMBER`) or RED (`ERROR_RATE_RED`). */
export function actionLayerHealth(
  counts: Readonly<Record<string, number>>,
  thresholds: ErrorRateThresholds = ERROR_RATE_THRESHOLDS,
): ActionLayerHealth {
  const intake = counts.intake_total ?? 0;
  const errors =
    (counts.outcome_failed_total ?? 0) +
    (counts.publish_quarantine_total ?? 0) +
    (counts.publish_ambiguous_total ?? 0);
  const errorRate = errors / Math.max(1, intake);
  const [state, reasons]: [HealthState, string[]] =
    errorRate >= thresholds.red
      ? ['RED', ['ERROR_RATE_RED']]
      : errorRate >= thresholds.amber
        ? ['AMBER', ['ERROR_RATE_AMBER']]
        : ['GREEN', []];
  return {
    health_state: state,
    health_reasons: reasons,
    error_rate: errorRate,
    error_total: errors,
    intake_total: intake,
  };
}
