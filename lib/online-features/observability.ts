import { consumerCheckpointScope } from '../contracts/identity.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../contracts/online-features.ts';
import type { DocumentWriter, ProjectorReport } from '../contracts/projector-report.ts';
import type { OnlineFeatureStore } from './ports.ts';
import { offsetBasisOf } from './snapshot.ts';

/**
 * §2.3 metrics, health and reconciliation of the online feature plane, written to
 * `<run>/online_feature_plane/{metrics/last_metrics,health/last_health,reconciliation/last_reconciliation}.json`.
 * Health starts GREEN: the event-time watermark (missing AMBER, ≥ amber AMBER, ≥ red RED — the parity pack's
 * thresholds, synthetic history looks old) and payload-hash mismatches (≥ 1 AMBER, ≥ 10 RED).
 */

export interface FeatureHealthThresholds {
  amberWatermarkAgeSeconds: number;
  redWatermarkAgeSeconds: number;
}

const SKIP_METRICS = ['invalid_envelope', 'invalid_pins', 'run_scope_mismatch', 'ignored_event_type'];

export function onlineFeatureDocumentKeys(platformRunId: string) {
  const base = `${platformRunId}/online_feature_plane`;
  return {
    metrics: `${base}/metrics/last_metrics.json`,
    health: `${base}/health/last_health.json`,
    reconciliation: `${base}/reconciliation/last_reconciliation.json`,
  };
}

export function deriveFeatureHealth(
  metrics: Record<string, number>,
  watermarkAgeSeconds: number | null,
  t: FeatureHealthThresholds,
): { state: 'GREEN' | 'AMBER' | 'RED'; reasons: string[] } {
  let state: 'GREEN' | 'AMBER' | 'RED' = 'GREEN';
  const reasons: string[] = [];
  const raise = (to: 'AMBER' | 'RED', reason: string) => {
    reasons.push(reason);
    if (to === 'RED' || state === 'GREEN') state = to;
  };
  if (watermarkAgeSeconds === null) raise('AMBER', 'WATERMARK_MISSING');
  else if (watermarkAgeSeconds >= t.redWatermarkAgeSeconds) raise('RED', 'WATERMARK_TOO_OLD');
  else if (watermarkAgeSeconds >= t.amberWatermarkAgeSeconds) raise('AMBER', 'WATERMARK_LAGGING');
  const mismatches = metrics.payload_hash_mismatch ?? 0;
  if (mismatches >= 10) raise('RED', 'PAYLOAD_HASH_MISMATCH_RED');
  else if (mismatches >= 1) raise('AMBER', 'PAYLOAD_HASH_MISMATCH_AMBER');
  return { state, reasons };
}

/** Writes the run's three documents and answers the projector report (the P8 gate's input). */
export async function publishOnlineFeatureReport(
  ports: {
    storeFor: (streamId: string) => OnlineFeatureStore;
    /** A digest of the scope's feature state that two runs of the same world share. */
    stateDigest: (streamId: string) => Promise<string>;
    documents: DocumentWriter;
    now: () => Date;
  },
  platformRunId: string,
  thresholds: FeatureHealthThresholds,
): Promise<ProjectorReport> {
  const store = ports.storeFor(consumerCheckpointScope(ONLINE_FEATURES_STREAM_BASE, platformRunId));
  const now = ports.now();
  const [metrics, checkpoints, digest] = await Promise.all([
    store.metrics(),
    store.checkpoints(),
    ports.stateDigest(store.streamId),
  ]);
  const basis = offsetBasisOf(checkpoints);
  const watermarkAge =
    basis.window_end_utc === null
      ? null
      : Math.max(0, (now.getTime() - Date.parse(basis.window_end_utc)) / 1000);
  const health = deriveFeatureHealth(metrics, watermarkAge, thresholds);
  const n = (name: string) => metrics[name] ?? 0;
  const head = {
    generated_at_utc: now.toISOString(),
    platform_run_id: platformRunId,
    stream_id: store.streamId,
  };
  const keys = onlineFeatureDocumentKeys(platformRunId);
  const documents = {
    metrics: await ports.documents.write(keys.metrics, { ...head, metrics }),
    health: await ports.documents.write(keys.health, {
      ...head,
      health_state: health.state,
      health_reasons: health.reasons,
      watermark_ts_utc: basis.window_end_utc,
      watermark_age_seconds: watermarkAge,
    }),
    reconciliation: await ports.documents.write(keys.reconciliation, {
      ...head,
      eb_offset_basis: basis,
      feature_state_digest: digest,
      metrics,
    }),
  };
  return {
    component: 'online-features',
    platform_run_id: platformRunId,
    stream_id: store.streamId,
    generated_at_utc: now.toISOString(),
    counts: {
      seen: n('events_seen'),
      applied: n('events_applied'),
      duplicate: n('duplicates'),
      skipped: SKIP_METRICS.reduce((sum, name) => sum + n(name), 0),
      failed: n('payload_hash_mismatch'),
    },
    health_state: health.state,
    health_reasons: health.reasons,
    documents,
    state_digest: digest,
  };
}
