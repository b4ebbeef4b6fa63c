/**
 * The case trigger's counters and health (downstream.md §4.1): the reference's five (triggers_seen, published,
 * duplicates, quarantine, publish_ambiguous) plus the intake's own lanes — every record of a batch lands in exactly
 * one of `RECORD_LANES` — and the health rule: RED when anything was quarantined or a publish stayed ambiguous.
 */

export const CASE_TRIGGER_METRICS = [
  // §4.1
  /** Triggers built (from this batch's records and from parked outcomes released by their decision). */
  'triggers_seen',
  /** IG answered ADMIT. */
  'published',
  /** Already settled on the ledger (nothing published), a repeat within a batch, or IG answered DUPLICATE. */
  'duplicates',
  /** Payload mismatches (ledger or batch) and IG QUARANTINE answers. */
  'quarantine',
  /** Publishes IG left unanswered (the batch is failed and redelivered). */
  'publish_ambiguous',
  // ours
  /** The same case_trigger_id with another payload hash: quarantined, a CASE_TRIGGER_PAYLOAD_MISMATCH anomaly. */
  'payload_mismatch',
  /** Seen before with the same hash but not settled at IG: published again (the same envelope). */
  'republished',
  /** Parked outcomes whose decision arrived: their ACTION_FAILURE raised. */
  'outcomes_released',
  // the record lanes
  /** Decisions that escalated (a DECISION_ESCALATION). */
  'decision_escalations',
  /** Failed or denied outcomes whose decision was known (an ACTION_FAILURE). */
  'action_failures',
  /** Failed or denied outcomes whose decision was not known yet: parked (Postgres) until it arrives. */
  'outcomes_waiting_for_decision',
  /** Decisions that do not escalate (ALLOW, under `non_allow`). */
  'skipped_decision_not_escalated',
  /** EXECUTED outcomes. */
  'skipped_outcome_executed',
  /** Records that are not decision_response / action_outcome v1 of fp.bus.rtdl.v1. */
  'skipped_irrelevant',
  /** Not a JSON object, or a decision / outcome breaking its envelope or payload contract. */
  'skipped_invalid',
  /** Decisions and outcomes of another run (never quarantined). */
  'skipped_run_scope',
] as const;
export type CaseTriggerMetricName = (typeof CASE_TRIGGER_METRICS)[number];
export type CaseTriggerCounts = Partial<Record<CaseTriggerMetricName, number>>;

/** The lanes of a record: each record of a batch adds exactly one to exactly one of them. */
export const RECORD_LANES: readonly CaseTriggerMetricName[] = [
  'decision_escalations',
  'action_failures',
  'outcomes_waiting_for_decision',
  'skipped_decision_not_escalated',
  'skipped_outcome_executed',
  'skipped_irrelevant',
  'skipped_invalid',
  'skipped_run_scope',
];

export function countInto(counts: CaseTriggerCounts, name: CaseTriggerMetricName, by = 1): void {
  if (by !== 0) counts[name] = (counts[name] ?? 0) + by;
}

/** Every counter, zero where `counts` has none (the metrics document names them all). */
export function metricsSnapshot(
  counts: Readonly<Record<string, number>>,
): Record<CaseTriggerMetricName, number> {
  return Object.fromEntries(CASE_TRIGGER_METRICS.map((name) => [name, counts[name] ?? 0])) as Record<
    CaseTriggerMetricName,
    number
  >;
}

export type HealthState = 'GREEN' | 'AMBER' | 'RED';

export interface CaseTriggerHealth {
  health_state: HealthState;
  health_reasons: string[];
}

/** §4.1 health from the counters: RED (`QUARANTINE_NONZERO`, `PUBLISH_AMBIGUOUS_NONZERO`) or GREEN. */
export function caseTriggerHealth(counts: Readonly<Record<string, number>>): CaseTriggerHealth {
  const reasons: string[] = [];
  if ((counts.quarantine ?? 0) > 0) reasons.push('QUARANTINE_NONZERO');
  if ((counts.publish_ambiguous ?? 0) > 0) reasons.push('PUBLISH_AMBIGUOUS_NONZERO');
  return { health_state: reasons.length > 0 ? 'RED' : 'GREEN', health_reasons: reasons };
}
