import { caseManagementStreamId } from '../contracts/case-management.ts';
import type { DocumentWriter, ProjectorReport } from '../contracts/projector-report.ts';
import type { CaseStore, Clock } from './ports.ts';
import { recordedAt } from './timeline.ts';

/**
 * Case management's counts and health for a run (downstream.md §4.2). Most counts are read from the rows — triggers
 * taken in, cases, timeline events, label emissions by status, quarantine rows — so a redelivered batch never counts
 * twice; the rest are delivery counters (records of other runs skipped, duplicate triggers, label writes that
 * threw). Health starts GREEN: anomalies (payload mismatches + quarantined triggers) AMBER at 1, RED at 10; labels
 * pending AMBER at 10, RED at 50.
 */

export const CASE_MANAGEMENT_METRICS = [
  /** Triggers taken in (NEW_TRIGGER). */
  'case_triggers',
  'cases_created',
  'timeline_events_appended',
  /** Labels submitted (one per new trigger). */
  'label_assertions',
  'labels_pending',
  'labels_accepted',
  'labels_rejected',
  /** Same case_trigger_id, another payload hash (a quarantine row each). */
  'payload_mismatches',
  /** Triggers whose contract, ids or hash do not hold (a quarantine row each). */
  'quarantined',
  /** Records of another run (delivery counter). */
  'skipped',
  /** DUPLICATE_TRIGGER deliveries (delivery counter). */
  'duplicates',
  /** Label writes that threw (delivery counter). */
  'label_write_exceptions',
] as const;
export type CaseManagementMetricName = (typeof CASE_MANAGEMENT_METRICS)[number];
/** The counters kept per delivery (the others are counted from rows). */
export const DELIVERY_COUNTERS = ['skipped', 'duplicates', 'label_write_exceptions'] as const;
export type DeliveryCounter = (typeof DELIVERY_COUNTERS)[number];

export function metricsSnapshot(
  counts: Readonly<Record<string, number>>,
): Record<CaseManagementMetricName, number> {
  return Object.fromEntries(CASE_MANAGEMENT_METRICS.map((name) => [name, counts[name] ?? 0])) as Record<
    CaseManagementMetricName,
    number
  >;
}

export type HealthState = 'GREEN' | 'AMBER' | 'RED';

export interface CaseManagementHealthThresholds {
  amberAnomalies: number;
  redAnomalies: number;
  amberPendingLabels: number;
  redPendingLabels: number;
}

export const DEFAULT_CASE_MANAGEMENT_THRESHOLDS: CaseManagementHealthThresholds = {
  amberAnomalies: 1,
  redAnomalies: 10,
  amberPendingLabels: 10,
  redPendingLabels: 50,
};

export interface CaseManagementHealth {
  health_state: HealthState;
  health_reasons: string[];
  anomalies: number;
  labels_pending: number;
}

const RANK: Record<HealthState, number> = { GREEN: 0, AMBER: 1, RED: 2 };

export function caseManagementHealth(
  counts: Readonly<Record<string, number>>,
  thresholds: CaseManagementHealthThresholds = DEFAULT_CASE_MANAGEMENT_THRESHOLDS,
): CaseManagementHealth {
  const anomalies = (counts.payload_mismatches ?? 0) + (counts.quarantined ?? 0);
  const pending = counts.labels_pending ?? 0;
  let state: HealthState = 'GREEN';
  const reasons: string[] = [];
  const rule = (value: number, amber: number, red: number, name: string) => {
    const level: HealthState = value >= red ? 'RED' : value >= amber ? 'AMBER' : 'GREEN';
    if (level === 'GREEN') return;
    reasons.push(`${name}_${level}`);
    if (RANK[level] > RANK[state]) state = level;
  };
  rule(anomalies, thresholds.amberAnomalies, thresholds.redAnomalies, 'ANOMALIES');
  rule(pending, thresholds.amberPendingLabels, thresholds.redPendingLabels, 'PENDING_LABELS');
  return { health_state: state, health_reasons: reasons, anomalies, labels_pending: pending };
}

/** Where a run's documents go (`<run>/case_mgmt/…`, as §4.2 names them). */
export const caseManagementDocumentKeys = (platformRunId: string) => ({
  metrics: `${platformRunId}/case_mgmt/metrics/last_metrics.json`,
  health: `${platformRunId}/case_mgmt/health/last_health.json`,
});

/** The run's report: its metrics and health documents written, its counts in the projectors' report shape. */
export async function publishCaseManagementReport(
  ports: { store: CaseStore; documents: DocumentWriter; clock: Clock },
  platformRunId: string,
  thresholds: CaseManagementHealthThresholds = DEFAULT_CASE_MANAGEMENT_THRESHOLDS,
): Promise<ProjectorReport> {
  const metrics = metricsSnapshot(await ports.store.counts(platformRunId));
  const health = caseManagementHealth(metrics, thresholds);
  const generated = recordedAt(ports.clock.now());
  const keys = caseManagementDocumentKeys(platformRunId);
  const streamId = caseManagementStreamId(platformRunId);
  const header = { platform_run_id: platformRunId, stream_id: streamId, generated_at_utc: generated };
  const documents = {
    metrics: await ports.documents.write(keys.metrics, { ...header, metrics }),
    health: await ports.documents.write(keys.health, { ...header, ...health, thresholds }),
  };
  return {
    component: 'case-management',
    platform_run_id: platformRunId,
    stream_id: streamId,
    generated_at_utc: generated,
    counts: {
      seen: metrics.case_triggers + metrics.duplicates + metrics.payload_mismatches + metrics.quarantined,
      applied: metrics.case_triggers,
      duplicate: metrics.duplicates,
      skipped: metrics.skipped,
      failed: metrics.payload_mismatches + metrics.quarantined,
    },
    health_state: health.health_state,
    health_reasons: health.health_reasons,
    documents,
  };
}
