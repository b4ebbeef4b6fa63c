import {
  ARCHIVE_COUNTERS,
  type ArchiveCounter,
  ArchiveHealthDocument,
  ArchiveMetricsDocument,
  ArchiveReconciliationDocument,
} from '../contracts/archive.ts';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import type { DocumentWriter, ProjectorReport } from '../contracts/projector-report.ts';
import type { ArchiveLedger, LedgerSummary } from './ports.ts';

/**
 * §2.1 the Archive Writer's documents, built from the ledger's durable counters (Postgres, not process memory:
 * a Lambda keeps no state): metrics, health (RED if a mismatch or a write error was ever counted; RED is never
 * lowered because counters only grow) and the reconciliation `{totals, outcome_counts, evidence_refs}` with the
 * last 200 archive refs, plus per-topic counts for the P8 gate.
 */

export const RECONCILIATION_REF_LIMIT = 200;

/** Where the documents go in the platform bucket. */
export function archiveWriterDocumentKeys(platformRunId: string) {
  return {
    metrics: `${platformRunId}/archive_writer/metrics/last_metrics.json`,
    health: `${platformRunId}/archive_writer/health/last_health.json`,
    reconciliation: `${platformRunId}/archive/reconciliation/archive_writer_reconciliation.json`,
  };
}

type CounterSet = Record<ArchiveCounter, number>;

const zero = (): CounterSet => Object.fromEntries(ARCHIVE_COUNTERS.map((c) => [c, 0])) as CounterSet;

const isCounter = (metric: string): metric is ArchiveCounter =>
  (ARCHIVE_COUNTERS as readonly string[]).includes(metric);

interface Tally {
  totals: CounterSet;
  byTopic: Record<string, CounterSet>;
  skipReasons: Record<string, number>;
}

function tally(summary: LedgerSummary): Tally {
  const totals = zero();
  const byTopic: Record<string, CounterSet> = {};
  const skipReasons: Record<string, number> = {};
  for (const { topic, metric, value } of summary.counters) {
    if (metric.startsWith('skipped.')) {
      const reason = metric.slice('skipped.'.length);
      skipReasons[reason] = (skipReasons[reason] ?? 0) + value;
      continue;
    }
    if (!isCounter(metric)) continue;
    totals[metric] += value;
    byTopic[topic] ??= zero();
    (byTopic[topic] as CounterSet)[metric] += value;
  }
  return { totals, byTopic, skipReasons };
}

export function metricsDocument(
  platformRunId: string,
  streamBase: string,
  summary: LedgerSummary,
  at: Date,
): ArchiveMetricsDocument {
  const { totals, byTopic, skipReasons } = tally(summary);
  return ArchiveMetricsDocument.parse({
    generated_at_utc: at.toISOString(),
    platform_run_id: platformRunId,
    stream_id: consumerCheckpointScope(streamBase, platformRunId),
    metrics: totals,
    skip_reasons: skipReasons,
    by_topic: byTopic,
  });
}

export function reconciliationDocument(
  platformRunId: string,
  summary: LedgerSummary,
  at: Date,
): ArchiveReconciliationDocument {
  const { totals, byTopic } = tally(summary);
  return ArchiveReconciliationDocument.parse({
    generated_at_utc: at.toISOString(),
    platform_run_id: platformRunId,
    totals: {
      seen_total: totals.seen_total,
      archived_total: totals.archived_total,
      duplicate_total: totals.duplicate_total,
      payload_mismatch_total: totals.payload_mismatch_total,
    },
    outcome_counts: Object.fromEntries(
      (
        [
          ['DUPLICATE', totals.duplicate_total],
          ['NEW', totals.archived_total],
          ['PAYLOAD_MISMATCH', totals.payload_mismatch_total],
          ['SKIPPED', totals.skipped_total],
        ] as const
      ).filter(([, n]) => n > 0),
    ),
    by_topic: byTopic,
    evidence_refs: summary.recent_refs
      .slice(-RECONCILIATION_REF_LIMIT)
      .map((ref) => ({ ref_type: 'archive_ref' as const, ref_id: ref })),
  });
}

export function healthDocument(
  platformRunId: string,
  summary: LedgerSummary,
  at: Date,
): ArchiveHealthDocument {
  const { totals } = tally(summary);
  const reasons: ArchiveHealthDocument['health_reasons'] = [];
  if (totals.payload_mismatch_total > 0) reasons.push('REPLAY_BASIS_MISMATCH_NONZERO');
  if (totals.write_error_total > 0) reasons.push('ARCHIVE_WRITE_ERROR_NONZERO');
  const reconciliation = reconciliationDocument(platformRunId, summary, at);
  return ArchiveHealthDocument.parse({
    generated_at_utc: at.toISOString(),
    platform_run_id: platformRunId,
    health_state: reasons.length > 0 ? 'RED' : 'GREEN',
    health_reasons: reasons.sort(),
    metrics: totals,
    reconciliation_totals: reconciliation.totals,
  });
}

/** The archive writer's stream base: scopes are `archive_writer.v0::<platform_run_id>` (§1). */
export const ARCHIVE_WRITER_STREAM_BASE = 'archive_writer.v0';

/** Writes the run's three documents from the ledger and answers the projector report (the P8 gate's input). */
export async function publishArchiveWriterReport(
  ports: { ledger: ArchiveLedger; documents: DocumentWriter; now: () => Date },
  platformRunId: string,
): Promise<ProjectorReport> {
  const streamId = consumerCheckpointScope(ARCHIVE_WRITER_STREAM_BASE, platformRunId);
  const summary = await ports.ledger.summary(streamId, RECONCILIATION_REF_LIMIT);
  const at = ports.now();
  const keys = archiveWriterDocumentKeys(platformRunId);
  const health = healthDocument(platformRunId, summary, at);
  const documents = {
    metrics: await ports.documents.write(
      keys.metrics,
      metricsDocument(platformRunId, ARCHIVE_WRITER_STREAM_BASE, summary, at),
    ),
    health: await ports.documents.write(keys.health, health),
    reconciliation: await ports.documents.write(
      keys.reconciliation,
      reconciliationDocument(platformRunId, summary, at),
    ),
  };
  const t = health.metrics;
  return {
    component: 'archive-writer',
    platform_run_id: platformRunId,
    stream_id: streamId,
    generated_at_utc: at.toISOString(),
    counts: {
      seen: t.seen_total,
      applied: t.archived_total,
      duplicate: t.duplicate_total,
      skipped: t.skipped_total,
      failed: t.payload_mismatch_total + t.write_error_total,
    },
    health_state: health.health_state,
    health_reasons: [...health.health_reasons],
    documents,
  };
}
