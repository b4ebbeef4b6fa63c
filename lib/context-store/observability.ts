import { canonicalJson } from '../contracts/canonical-json.ts';
import { CONTEXT_STORE_STREAM_BASE } from '../contracts/context-store.ts';
import { consumerCheckpointScope, sha256Hex } from '../contracts/identity.ts';
import type { DocumentWriter, ProjectorCounts, ProjectorReport } from '../contracts/projector-report.ts';
import type { AnomalyRow, ContextCheckpoint, ContextMetrics, ContextStore } from './ports.ts';

/**
 * §2.4 metrics, health and reconciliation: the three documents written to
 * `<run>/context_store_flow_binding/{metrics/last_metrics,health/last_health,reconciliation/last_reconciliation}.json`.
 * Health starts GREEN; each rule can raise it to AMBER or RED, and RED is never lowered.
 */

export interface ContextHealthThresholds {
  amberWatermarkAgeSeconds: number;
  redWatermarkAgeSeconds: number;
  amberCheckpointAgeSeconds: number;
  redCheckpointAgeSeconds: number;
  amberJoinMisses: number;
  redJoinMisses: number;
  amberBindingConflicts: number;
  redBindingConflicts: number;
  amberApplyFailures: number;
  redApplyFailures: number;
}

/** §2.4 defaults: watermark/checkpoint 120/300 s, join misses 1/10, binding conflicts 1/5, hard failures 1/10. */
export const DEFAULT_CONTEXT_HEALTH_THRESHOLDS: ContextHealthThresholds = {
  amberWatermarkAgeSeconds: 120,
  redWatermarkAgeSeconds: 300,
  amberCheckpointAgeSeconds: 120,
  redCheckpointAgeSeconds: 300,
  amberJoinMisses: 1,
  redJoinMisses: 10,
  amberBindingConflicts: 1,
  redBindingConflicts: 5,
  amberApplyFailures: 1,
  redApplyFailures: 10,
};

export type HealthState = 'GREEN' | 'AMBER' | 'RED';

export interface ContextHealth {
  state: HealthState;
  reasons: string[];
}

/** Applies the §2.4 rules (the reference's order and reason names). Ages are null when nothing was seen. */
export function deriveContextHealth(
  metrics: ContextMetrics,
  watermarkAgeSeconds: number | null,
  checkpointAgeSeconds: number | null,
  t: ContextHealthThresholds,
): ContextHealth {
  let state: HealthState = 'GREEN';
  const reasons: string[] = [];
  const raise = (to: HealthState, reason: string) => {
    reasons.push(reason);
    if (to === 'RED' || state === 'GREEN') state = to;
  };
  const age = (value: number | null, name: string, amber: number, red: number) => {
    if (value === null) raise('AMBER', `${name}_MISSING`);
    else if (value >= red) raise('RED', `${name}_TOO_OLD`);
    else if (value >= amber) raise('AMBER', `${name}_OLD`);
  };
  const count = (value: number, name: string, amber: number, red: number) => {
    if (value >= red) raise('RED', `${name}_RED`);
    else if (value >= amber) raise('AMBER', `${name}_AMBER`);
  };
  age(watermarkAgeSeconds, 'WATERMARK', t.amberWatermarkAgeSeconds, t.redWatermarkAgeSeconds);
  age(checkpointAgeSeconds, 'CHECKPOINT', t.amberCheckpointAgeSeconds, t.redCheckpointAgeSeconds);
  count(metrics.join_misses, 'JOIN_MISSES', t.amberJoinMisses, t.redJoinMisses);
  count(metrics.binding_conflicts, 'BINDING_CONFLICTS', t.amberBindingConflicts, t.redBindingConflicts);
  count(metrics.apply_failures_hard, 'APPLY_FAILURES', t.amberApplyFailures, t.redApplyFailures);
  return { state, reasons };
}

/** The applied offsets per topic and partition, with their digest (a replay basis). */
export function appliedOffsetBasis(streamId: string, checkpoints: readonly ContextCheckpoint[]) {
  if (checkpoints.length === 0) return null;
  const topics: Record<string, { partitions: Record<string, { next_offset: string; offset_kind: string }> }> =
    {};
  let watermark: string | null = null;
  for (const c of checkpoints) {
    topics[c.topic] ??= { partitions: {} };
    const entry = topics[c.topic] as {
      partitions: Record<string, { next_offset: string; offset_kind: string }>;
    };
    entry.partitions[String(c.partition)] = { next_offset: c.next_offset, offset_kind: c.offset_kind };
    if (c.watermark_ts_utc && (watermark === null || c.watermark_ts_utc > watermark))
      watermark = c.watermark_ts_utc;
  }
  const basisDigest = sha256Hex(canonicalJson({ stream_id: streamId, topics }));
  return {
    stream_id: streamId,
    topics,
    basis_digest: basisDigest,
    ...(watermark === null ? {} : { window_end_utc: watermark }),
  };
}

const latest = (values: (string | null)[]) =>
  values.filter((v): v is string => !!v).reduce<string | null>((a, b) => (a === null || b > a ? b : a), null);

const ageSeconds = (iso: string | null, now: Date) => {
  if (iso === null) return null;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : Math.max(0, (now.getTime() - at) / 1000);
};

export interface ContextObservabilityInput {
  platformRunId?: string;
  scenarioRunId?: string;
  thresholds: ContextHealthThresholds;
  thresholdPolicyRef: string;
  maxUnresolvedAnomalies: number;
  now: Date;
}

export interface ContextObservability {
  metrics: Record<string, unknown>;
  health: Record<string, unknown>;
  reconciliation: Record<string, unknown> & { unresolved_anomalies: AnomalyRow[] };
  state: HealthState;
}

/** Collects the three §2.4 documents from the store. */
export async function collectContextObservability(
  store: ContextStore,
  input: ContextObservabilityInput,
): Promise<ContextObservability> {
  const scope = {
    ...(input.platformRunId ? { platformRunId: input.platformRunId } : {}),
    ...(input.scenarioRunId ? { scenarioRunId: input.scenarioRunId } : {}),
  };
  const [metrics, checkpoints, anomalies] = await Promise.all([
    store.metrics(scope),
    store.checkpoints(),
    store.anomalies(scope, input.maxUnresolvedAnomalies),
  ]);
  const watermark = latest(checkpoints.map((c) => c.watermark_ts_utc));
  const updated = latest(checkpoints.map((c) => c.updated_at_utc));
  const watermarkAge = ageSeconds(watermark, input.now);
  const checkpointAge = ageSeconds(updated, input.now);
  const health = deriveContextHealth(metrics, watermarkAge, checkpointAge, input.thresholds);
  const head = {
    generated_at_utc: input.now.toISOString(),
    stream_id: store.streamId,
    platform_run_id: input.platformRunId ?? null,
    scenario_run_id: input.scenarioRunId ?? null,
    threshold_policy_ref: input.thresholdPolicyRef,
  };
  const checkpointSummary = {
    partitions: checkpoints.map((c) => ({ ...c })),
    watermark_ts_utc: watermark,
    updated_at_utc: updated,
  };
  const ages = { watermark_age_seconds: watermarkAge, checkpoint_age_seconds: checkpointAge };
  return {
    state: health.state,
    metrics: { ...head, metrics, checkpoints: checkpointSummary, ...ages, lag_seconds: checkpointAge },
    health: {
      ...head,
      health_state: health.state,
      health_reasons: health.reasons,
      checkpoints: checkpointSummary,
      ...ages,
    },
    reconciliation: {
      ...head,
      health_state: health.state,
      health_reasons: health.reasons,
      metrics,
      applied_offset_basis: appliedOffsetBasis(store.streamId, checkpoints),
      unresolved_anomalies: anomalies,
    },
  };
}

/** The object keys of the three documents under a run's folder of the platform bucket. */
export function contextObservabilityKeys(platformRunId: string) {
  const base = `${platformRunId}/context_store_flow_binding`;
  return {
    metrics: `${base}/metrics/last_metrics.json`,
    health: `${base}/health/last_health.json`,
    reconciliation: `${base}/reconciliation/last_reconciliation.json`,
  };
}

/** The delivery counts of the store's counters (seen, applied, duplicate, skipped, failed). */
export function contextCounts(counters: Record<string, number>): ProjectorCounts {
  const n = (name: string) => counters[name] ?? 0;
  return {
    seen: n('seen'),
    applied: n('applied'),
    duplicate: n('duplicate'),
    skipped: n('skipped'),
    failed: n('failed'),
  };
}

/** Writes the run's three documents and answers the projector report (the P8 gate's input). */
export async function publishContextStoreReport(
  ports: { storeFor: (streamId: string) => ContextStore; documents: DocumentWriter; now: () => Date },
  platformRunId: string,
  thresholds: ContextHealthThresholds,
): Promise<ProjectorReport> {
  const store = ports.storeFor(consumerCheckpointScope(CONTEXT_STORE_STREAM_BASE, platformRunId));
  const now = ports.now();
  const observed = await collectContextObservability(store, {
    platformRunId,
    thresholds,
    thresholdPolicyRef: 'local_parity_rtdl_core_v0',
    maxUnresolvedAnomalies: 200,
    now,
  });
  const keys = contextObservabilityKeys(platformRunId);
  const documents = {
    metrics: await ports.documents.write(keys.metrics, observed.metrics),
    health: await ports.documents.write(keys.health, observed.health),
    reconciliation: await ports.documents.write(keys.reconciliation, observed.reconciliation),
  };
  return {
    component: 'context-store',
    platform_run_id: platformRunId,
    stream_id: store.streamId,
    generated_at_utc: now.toISOString(),
    counts: contextCounts(await store.counters()),
    health_state: observed.state,
    health_reasons: [...((observed.health.health_reasons as string[] | undefined) ?? [])],
    documents,
  };
}
