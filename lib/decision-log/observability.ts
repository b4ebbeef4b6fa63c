import { decisionLogStreamId } from '../contracts/decision-log.ts';
import type { DocumentWriter, ProjectorReport } from '../contracts/projector-report.ts';
import type {
  DecisionLogCheckpoint,
  DecisionLogCounts,
  DecisionLogScope,
  DecisionLogStore,
} from './ports.ts';

/**
 * §3.4 metrics, health and reconciliation: the three documents written to
 * `<run>/decision_log_audit/{metrics/last_metrics,health/last_health,reconciliation/last_reconciliation}.json`.
 * Health starts GREEN; each rule can raise it to AMBER or RED, and RED is never lowered:
 * checkpoint missing AMBER / ≥300 s RED / ≥120 s AMBER; quarantine ≥1 AMBER / ≥25 RED; unresolved chains older than
 * 60 s ≥1 AMBER, older than 240 s ≥20 RED, otherwise (unresolved but young) only the reason UNRESOLVED_IN_FLIGHT;
 * append failures ≥1 AMBER / ≥5 RED; replay divergence ≥1 RED.
 */

export interface DecisionLogHealthThresholds {
  amberCheckpointAgeSeconds: number;
  redCheckpointAgeSeconds: number;
  amberQuarantine: number;
  redQuarantine: number;
  amberUnresolvedAgeSeconds: number;
  amberUnresolved: number;
  redUnresolvedAgeSeconds: number;
  redUnresolved: number;
  amberAppendFailures: number;
  redAppendFailures: number;
  redReplayDivergence: number;
}

export const DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS: DecisionLogHealthThresholds = {
  amberCheckpointAgeSeconds: 120,
  redCheckpointAgeSeconds: 300,
  amberQuarantine: 1,
  redQuarantine: 25,
  amberUnresolvedAgeSeconds: 60,
  amberUnresolved: 1,
  redUnresolvedAgeSeconds: 240,
  redUnresolved: 20,
  amberAppendFailures: 1,
  redAppendFailures: 5,
  redReplayDivergence: 1,
};

export type HealthState = 'GREEN' | 'AMBER' | 'RED';

/** The §3.4 metrics (plus audit_record_total, ours). */
export interface DecisionLogMetrics {
  append_success_total: number;
  append_failure_total: number;
  accepted_total: number;
  rejected_total: number;
  checkpoint_advanced_total: number;
  candidate_total: number;
  quarantine_total: number;
  lineage_resolved_total: number;
  lineage_unresolved_total: number;
  replay_divergence_total: number;
  audit_record_total: number;
}

export function decisionLogMetricsOf(c: DecisionLogCounts): DecisionLogMetrics {
  return {
    append_success_total: c.candidate_total + c.quarantine_total,
    append_failure_total: c.write_failed_total,
    accepted_total: c.accepted_total,
    rejected_total: c.rejected_total,
    checkpoint_advanced_total: c.checkpoint_advanced_total,
    candidate_total: c.candidate_total,
    quarantine_total: c.quarantine_total,
    lineage_resolved_total: c.lineage_resolved_total,
    lineage_unresolved_total: c.lineage_unresolved_total,
    replay_divergence_total: c.replay_divergence_total,
    audit_record_total: c.audit_record_total,
  };
}

/** How many unresolved chains there are, and how many have been unresolved longer than the AMBER / RED ages. */
export interface UnresolvedAges {
  unresolved: number;
  olderThanAmberAge: number;
  olderThanRedAge: number;
}

export interface DecisionLogHealth {
  state: HealthState;
  reasons: string[];
}

/** Applies the §3.4 rules (the reference's order and reason names). The checkpoint age is null when there is none. */
export function deriveDecisionLogHealth(
  metrics: DecisionLogMetrics,
  unresolved: UnresolvedAges,
  checkpointAgeSeconds: number | null,
  t: DecisionLogHealthThresholds,
): DecisionLogHealth {
  let state: HealthState = 'GREEN';
  const reasons: string[] = [];
  const raise = (to: HealthState | null, reason: string) => {
    reasons.push(reason);
    if (to === 'RED' || (to === 'AMBER' && state === 'GREEN')) state = to;
  };
  if (checkpointAgeSeconds === null) raise('AMBER', 'CHECKPOINT_MISSING');
  else if (checkpointAgeSeconds >= t.redCheckpointAgeSeconds) raise('RED', 'CHECKPOINT_TOO_OLD');
  else if (checkpointAgeSeconds >= t.amberCheckpointAgeSeconds) raise('AMBER', 'CHECKPOINT_OLD');
  if (metrics.quarantine_total >= t.redQuarantine) raise('RED', 'QUARANTINE_RED');
  else if (metrics.quarantine_total >= t.amberQuarantine) raise('AMBER', 'QUARANTINE_AMBER');
  if (unresolved.olderThanRedAge >= t.redUnresolved) raise('RED', 'UNRESOLVED_RED');
  else if (unresolved.olderThanAmberAge >= t.amberUnresolved) raise('AMBER', 'UNRESOLVED_AMBER');
  else if (unresolved.unresolved > 0) raise(null, 'UNRESOLVED_IN_FLIGHT');
  if (metrics.append_failure_total >= t.redAppendFailures) raise('RED', 'APPEND_FAILURE_RED');
  else if (metrics.append_failure_total >= t.amberAppendFailures) raise('AMBER', 'APPEND_FAILURE_AMBER');
  if (metrics.replay_divergence_total >= t.redReplayDivergence) raise('RED', 'REPLAY_DIVERGENCE_RED');
  return { state, reasons };
}

const ageSeconds = (iso: string | null, now: Date) => {
  if (iso === null) return null;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : Math.max(0, (now.getTime() - at) / 1000);
};

const latest = (values: (string | null)[]) =>
  values.filter((v): v is string => !!v).reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);

export interface DecisionLogObservabilityInput {
  /** The run the documents are about (the store's stream is the run's). */
  platformRunId?: string;
  /** Which rows count (undefined: the whole stream — a reject that names no run is still the stream's). */
  scope: DecisionLogScope;
  thresholds: DecisionLogHealthThresholds;
  thresholdPolicyRef: string;
  recentAttempts: number;
  now: Date;
}

export interface DecisionLogObservability {
  state: HealthState;
  reasons: string[];
  counts: DecisionLogCounts;
  metrics: DecisionLogMetrics;
  documents: {
    metrics: Record<string, unknown>;
    health: Record<string, unknown>;
    reconciliation: Record<string, unknown>;
  };
}

const checkpointSummary = (checkpoints: readonly DecisionLogCheckpoint[]) => ({
  partitions: checkpoints.map((c) => ({ ...c })),
  watermark_ts_utc: latest(checkpoints.map((c) => c.watermark_ts_utc)),
  updated_at_utc: latest(checkpoints.map((c) => c.updated_at_utc)),
});

/** Collects the three §3.4 documents from the store. */
export async function collectDecisionLogObservability(
  store: DecisionLogStore,
  input: DecisionLogObservabilityInput,
): Promise<DecisionLogObservability> {
  const { scope } = input;
  const t = input.thresholds;
  const cutoff = (seconds: number) => new Date(input.now.getTime() - seconds * 1000).toISOString();
  const [counts, aged, checkpoints, lanes, attempts] = await Promise.all([
    store.counts(scope),
    store.unresolvedSince(scope, [cutoff(t.amberUnresolvedAgeSeconds), cutoff(t.redUnresolvedAgeSeconds)]),
    store.checkpoints(),
    store.anomalyLanes(scope),
    store.recentAttempts(scope, input.recentAttempts),
  ]);
  const metrics = decisionLogMetricsOf(counts);
  const unresolved: UnresolvedAges = {
    unresolved: metrics.lineage_unresolved_total,
    olderThanAmberAge: aged[0] ?? 0,
    olderThanRedAge: aged[1] ?? 0,
  };
  const summary = checkpointSummary(checkpoints);
  const checkpointAge = ageSeconds(summary.updated_at_utc, input.now);
  const health = deriveDecisionLogHealth(metrics, unresolved, checkpointAge, t);
  const head = {
    generated_at_utc: input.now.toISOString(),
    stream_id: store.streamId,
    platform_run_id: input.platformRunId ?? scope.platformRunId ?? null,
    scenario_run_id: scope.scenarioRunId ?? null,
    threshold_policy_ref: input.thresholdPolicyRef,
  };
  const verdict = { health_state: health.state, health_reasons: health.reasons };
  return {
    state: health.state,
    reasons: health.reasons,
    counts,
    metrics,
    documents: {
      metrics: { ...head, metrics, checkpoints: summary, checkpoint_age_seconds: checkpointAge },
      health: { ...head, ...verdict, metrics, checkpoints: summary, checkpoint_age_seconds: checkpointAge },
      reconciliation: {
        ...head,
        ...verdict,
        reconciliation: {
          lineage: {
            resolved_total: metrics.lineage_resolved_total,
            unresolved_total: metrics.lineage_unresolved_total,
            unresolved_older_than_amber_age: unresolved.olderThanAmberAge,
            unresolved_older_than_red_age: unresolved.olderThanRedAge,
          },
          anomaly_lanes: lanes,
          recent_attempts: attempts,
        },
      },
    },
  };
}

/** The object keys of the three documents under a run's folder of the platform bucket. */
export function decisionLogObservabilityKeys(platformRunId: string) {
  const base = `${platformRunId}/decision_log_audit`;
  return {
    metrics: `${base}/metrics/last_metrics.json`,
    health: `${base}/health/last_health.json`,
    reconciliation: `${base}/reconciliation/last_reconciliation.json`,
  };
}

/** Writes the run's three documents and answers the projector report (the P8 gate's shape). */
export async function publishDecisionLogReport(
  ports: { storeFor: (streamId: string) => DecisionLogStore; documents: DocumentWriter; now: () => Date },
  platformRunId: string,
  thresholds: DecisionLogHealthThresholds = DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
): Promise<ProjectorReport> {
  const store = ports.storeFor(decisionLogStreamId(platformRunId));
  const now = ports.now();
  const observed = await collectDecisionLogObservability(store, {
    platformRunId,
    scope: {},
    thresholds,
    thresholdPolicyRef: 'local_parity_rtdl_decision_lane_v0',
    recentAttempts: 25,
    now,
  });
  const keys = decisionLogObservabilityKeys(platformRunId);
  const documents = {
    metrics: await ports.documents.write(keys.metrics, observed.documents.metrics),
    health: await ports.documents.write(keys.health, observed.documents.health),
    reconciliation: await ports.documents.write(keys.reconciliation, observed.documents.reconciliation),
  };
  const { counts } = observed;
  return {
    component: 'decision-log',
    platform_run_id: platformRunId,
    stream_id: store.streamId,
    generated_at_utc: now.toISOString(),
    counts: {
      seen: counts.attempts_total,
      applied: counts.new_total,
      duplicate: counts.duplicate_total,
      skipped: counts.run_scope_skipped_total,
      failed: counts.rejected_total - counts.run_scope_skipped_total,
    },
    health_state: observed.state,
    health_reasons: observed.reasons,
    documents,
  };
}
