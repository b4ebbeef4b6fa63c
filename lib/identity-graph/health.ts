import { consumerCheckpointScope } from '../contracts/identity.ts';
import { graphVersionOf, IDENTITY_GRAPH_STREAM_BASE } from '../contracts/identity-graph.ts';
import type { DocumentWriter, ProjectorReport } from '../contracts/projector-report.ts';
import { checkpointBasisOf } from './graph.ts';
import type { GraphCheckpoint, GraphMetrics, GraphScope, IdentityGraphStore } from './ports.ts';

/**
 * §2.2 health and status: pure rules (start GREEN; each can raise to AMBER or RED; RED is never lowered) and the
 * status document (`identity_entity_graph/health/last_health.json`, also the answer of a status query).
 */

export interface GraphHealthThresholds {
  amberWatermarkAgeSeconds: number;
  redWatermarkAgeSeconds: number;
  amberCheckpointAgeSeconds: number;
  redCheckpointAgeSeconds: number;
  amberApplyFailures: number;
  redApplyFailures: number;
}

/** §2.2 defaults (env `IEG_HEALTH_*`): watermark and checkpoint 120/300 s, apply failures 1/100. */
export const DEFAULT_GRAPH_HEALTH_THRESHOLDS: GraphHealthThresholds = {
  amberWatermarkAgeSeconds: 120,
  redWatermarkAgeSeconds: 300,
  amberCheckpointAgeSeconds: 120,
  redCheckpointAgeSeconds: 300,
  amberApplyFailures: 1,
  redApplyFailures: 100,
};

export type GraphHealthState = 'GREEN' | 'AMBER' | 'RED';

export interface GraphHealthInput {
  /** Ages are null when nothing was seen. */
  watermarkAgeSeconds: number | null;
  checkpointAgeSeconds: number | null;
  applyFailureCount: number;
  eventsSeen: number;
}

export interface GraphHealth {
  state: GraphHealthState;
  reasons: string[];
}

/**
 * The §2.2 rules. A watermark past RED is only AMBER (`WATERMARK_REPLAY_ADVISORY`) while a replay of old event
 * time is visibly progressing: no apply failure, a fresh checkpoint, events seen.
 */
export function deriveGraphHealth(input: GraphHealthInput, t: GraphHealthThresholds): GraphHealth {
  let state: GraphHealthState = 'GREEN';
  const reasons: string[] = [];
  const raise = (to: GraphHealthState, reason: string) => {
    reasons.push(reason);
    if (to === 'RED' || state === 'GREEN') state = to;
  };
  const checkpointFresh =
    input.checkpointAgeSeconds !== null && input.checkpointAgeSeconds < t.amberCheckpointAgeSeconds;
  const replayAdvisory = input.applyFailureCount === 0 && checkpointFresh && input.eventsSeen > 0;
  const watermark = input.watermarkAgeSeconds;
  if (watermark === null) raise('AMBER', 'WATERMARK_MISSING');
  else if (watermark >= t.redWatermarkAgeSeconds)
    raise(
      replayAdvisory ? 'AMBER' : 'RED',
      replayAdvisory ? 'WATERMARK_REPLAY_ADVISORY' : 'WATERMARK_TOO_OLD',
    );
  else if (watermark >= t.amberWatermarkAgeSeconds) raise('AMBER', 'WATERMARK_LAGGING');
  const checkpoint = input.checkpointAgeSeconds;
  if (checkpoint === null) raise('AMBER', 'CHECKPOINT_MISSING');
  else if (checkpoint >= t.redCheckpointAgeSeconds) raise('RED', 'CHECKPOINT_TOO_OLD');
  else if (checkpoint >= t.amberCheckpointAgeSeconds) raise('AMBER', 'CHECKPOINT_LAGGING');
  if (input.applyFailureCount >= t.redApplyFailures) raise('RED', 'APPLY_FAILURES_RED');
  else if (input.applyFailureCount >= t.amberApplyFailures) raise('AMBER', 'APPLY_FAILURES_AMBER');
  return { state, reasons };
}

const latest = (values: (string | null)[]) =>
  values.filter((v): v is string => !!v).reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);

const ageSeconds = (iso: string | null, now: Date) => {
  if (iso === null) return null;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : Math.max(0, (now.getTime() - at) / 1000);
};

/** graph_version of a stream's checkpoints, or null before any record was accounted for. */
export function graphVersion(streamId: string, checkpoints: readonly GraphCheckpoint[], now: Date) {
  const basis = checkpointBasisOf(streamId, checkpoints);
  if (basis === null) return null;
  const digest = graphVersionOf(basis);
  return {
    version_id: digest,
    stream: streamId,
    watermark_ts_utc: latest(checkpoints.map((c) => c.watermark_ts_utc)),
    computed_at_utc: now.toISOString(),
    basis_digest: digest,
  };
}

export interface GraphStatus {
  graph_scope: string;
  graph_version: ReturnType<typeof graphVersion>;
  integrity_status: 'CLEAN' | 'DEGRADED';
  apply_failure_count: number;
  metrics: GraphMetrics;
  checkpoints: GraphCheckpoint[];
  watermark_age_seconds: number | null;
  checkpoint_age_seconds: number | null;
  health_state: GraphHealthState;
  health_reasons: string[];
}

/** The §2.2 status document of a stream (scoped to a run and scenario run when given). */
export async function collectGraphStatus(
  store: IdentityGraphStore,
  scope: GraphScope,
  thresholds: GraphHealthThresholds,
  now: Date,
): Promise<GraphStatus> {
  const [metrics, checkpoints, failures] = await Promise.all([
    store.metrics(scope),
    store.checkpoints(),
    store.applyFailureCount(scope),
  ]);
  const watermarkAge = ageSeconds(latest(checkpoints.map((c) => c.watermark_ts_utc)), now);
  const checkpointAge = ageSeconds(latest(checkpoints.map((c) => c.updated_at_utc)), now);
  const health = deriveGraphHealth(
    {
      watermarkAgeSeconds: watermarkAge,
      checkpointAgeSeconds: checkpointAge,
      applyFailureCount: failures,
      eventsSeen: metrics.events_seen,
    },
    thresholds,
  );
  return {
    graph_scope: store.streamId,
    graph_version: graphVersion(store.streamId, checkpoints, now),
    integrity_status: failures === 0 ? 'CLEAN' : 'DEGRADED',
    apply_failure_count: failures,
    metrics,
    checkpoints,
    watermark_age_seconds: watermarkAge,
    checkpoint_age_seconds: checkpointAge,
    health_state: health.state,
    health_reasons: health.reasons,
  };
}

/** Where the §2.2 documents go under a run's folder of the platform bucket. */
export function identityGraphDocumentKeys(platformRunId: string) {
  const base = `${platformRunId}/identity_entity_graph`;
  return {
    metrics: `${base}/metrics/last_metrics.json`,
    health: `${base}/health/last_health.json`,
    reconciliation: `${base}/reconciliation/reconciliation.json`,
  };
}

/**
 * Writes the run's status (health), metrics and reconciliation documents and answers the projector report. Counts:
 * seen = events_seen, applied = mutating_applied, duplicate, skipped = irrelevant (decisions, actions, ig.*) plus the
 * records of other runs (RUN_SCOPE_MISMATCH rows), failed = every other apply failure row (a malformed record has no
 * run, and counts here). Health is §2.2's: this run's apply failures.
 */
export async function publishIdentityGraphReport(
  ports: { storeFor: (streamId: string) => IdentityGraphStore; documents: DocumentWriter; now: () => Date },
  platformRunId: string,
  thresholds: GraphHealthThresholds,
): Promise<ProjectorReport> {
  const store = ports.storeFor(consumerCheckpointScope(IDENTITY_GRAPH_STREAM_BASE, platformRunId));
  const now = ports.now();
  // Health counts this run's apply failures; records of other runs (RUN_SCOPE_MISMATCH rows) are skips.
  const status = await collectGraphStatus(store, { platformRunId }, thresholds, now);
  const keys = identityGraphDocumentKeys(platformRunId);
  const head = {
    generated_at_utc: now.toISOString(),
    platform_run_id: platformRunId,
    graph_scope: store.streamId,
  };
  const documents = {
    metrics: await ports.documents.write(keys.metrics, { ...head, metrics: status.metrics }),
    health: await ports.documents.write(keys.health, { ...head, ...status }),
    reconciliation: await ports.documents.write(keys.reconciliation, {
      ...head,
      graph_version: status.graph_version,
      integrity_status: status.integrity_status,
      apply_failure_count: status.apply_failure_count,
      metrics: status.metrics,
      checkpoints: status.checkpoints,
    }),
  };
  const m = status.metrics;
  const byReason = await store.failureCountsByReason();
  const failures = Object.values(byReason).reduce((sum, n) => sum + n, 0);
  const otherRuns = byReason.RUN_SCOPE_MISMATCH ?? 0;
  return {
    component: 'identity-graph',
    platform_run_id: platformRunId,
    stream_id: store.streamId,
    generated_at_utc: now.toISOString(),
    counts: {
      seen: m.events_seen,
      applied: m.mutating_applied,
      duplicate: m.duplicate,
      skipped: m.irrelevant + otherRuns,
      failed: failures - otherRuns,
    },
    health_state: status.health_state,
    health_reasons: [...status.health_reasons],
    documents,
  };
}
