import { describe, expect, it } from 'vitest';
import { archiveBatch } from '../../../lib/archive-writer/archive-batch.ts';
import type { ArchiveWriterSettings } from '../../../lib/archive-writer/ports.ts';
import { publishArchiveWriterReport } from '../../../lib/archive-writer/reports.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import { memoryDocuments } from '../support/memory-documents.ts';
import { fakePorts } from './fakes.ts';

/** The archive writer's report task: its three documents from the ledger, and the projector report for P8. */

const RUN = 'platform_20260308T000000Z';
const AT = new Date('2026-03-08T01:00:00.000Z');
const TRAFFIC = 'fp.bus.traffic.fraud.v1';
const settings: ArchiveWriterSettings = {
  streamBase: 'archive_writer.v0',
  requiredPlatformRunId: RUN,
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
};

function record(n: number, options: { topic?: string; run?: string; payload?: object; data?: string } = {}) {
  return {
    topic: options.topic ?? TRAFFIC,
    partition: 0,
    offset: String(1000 + n),
    offset_kind: 'kinesis_sequence' as const,
    data:
      options.data ??
      canonicalJson({
        event_id: `evt-${n}`,
        event_type: 's3_event_stream_with_fraud_6B',
        ts_utc: '2026-03-08T00:01:03.106979Z',
        manifest_fingerprint: 'a'.repeat(64),
        parameter_hash: 'b'.repeat(64),
        scenario_id: 'baseline_v1',
        platform_run_id: options.run ?? RUN,
        scenario_run_id: '2'.repeat(32),
        payload: options.payload ?? {},
      }),
  };
}

const KEYS = {
  metrics: `${RUN}/archive_writer/metrics/last_metrics.json`,
  health: `${RUN}/archive_writer/health/last_health.json`,
  reconciliation: `${RUN}/archive/reconciliation/archive_writer_reconciliation.json`,
};

describe('publishArchiveWriterReport', () => {
  it('writes metrics, health and reconciliation of the run and answers its counts (GREEN)', async () => {
    const { ports, ledger } = fakePorts();
    await archiveBatch(ports, settings, [
      record(1),
      record(2, { topic: 'fp.bus.context.arrival_events.v1' }),
      record(3, { data: 'not json' }),
    ]);
    await archiveBatch(ports, settings, [record(1)]);
    const docs = memoryDocuments();

    const report = await publishArchiveWriterReport(
      { ledger: ledger.ledger, documents: docs.writer, now: () => AT },
      RUN,
    );

    expect(ProjectorReport.parse(report)).toEqual(report);
    expect(report).toEqual({
      component: 'archive-writer',
      platform_run_id: RUN,
      stream_id: `archive_writer.v0::${RUN}`,
      generated_at_utc: AT.toISOString(),
      counts: { seen: 4, applied: 2, duplicate: 1, skipped: 1, failed: 0 },
      health_state: 'GREEN',
      health_reasons: [],
      documents: {
        metrics: `s3://fraud-platform/${KEYS.metrics}`,
        health: `s3://fraud-platform/${KEYS.health}`,
        reconciliation: `s3://fraud-platform/${KEYS.reconciliation}`,
      },
    });
    expect([...docs.documents.keys()].sort()).toEqual(Object.values(KEYS).sort());
    expect(docs.read(KEYS.metrics)).toMatchObject({
      platform_run_id: RUN,
      stream_id: `archive_writer.v0::${RUN}`,
      generated_at_utc: AT.toISOString(),
      metrics: { seen_total: 4, archived_total: 2, duplicate_total: 1, skipped_total: 1 },
      skip_reasons: { RECORD_NOT_JSON: 1 },
    });
    expect(docs.read(KEYS.health)).toMatchObject({ health_state: 'GREEN', health_reasons: [] });
    const reconciliation = docs.read(KEYS.reconciliation);
    expect(reconciliation).toMatchObject({
      totals: { seen_total: 4, archived_total: 2, duplicate_total: 1, payload_mismatch_total: 0 },
      outcome_counts: { NEW: 2, DUPLICATE: 1, SKIPPED: 1 },
    });
    expect(reconciliation.evidence_refs).toHaveLength(2);
  });

  it('a payload mismatch and a write error: RED, both counted as failed', async () => {
    const { ports, ledger, segments } = fakePorts();
    await archiveBatch(ports, settings, [record(1), record(2)]);
    await archiveBatch(ports, settings, [record(1, { payload: { changed: true } })]);
    segments.control.failing = true;
    await expect(archiveBatch(ports, settings, [record(9)])).rejects.toThrow(/ARCHIVE_WRITE_ERROR/);
    const docs = memoryDocuments();

    const report = await publishArchiveWriterReport(
      { ledger: ledger.ledger, documents: docs.writer, now: () => AT },
      RUN,
    );

    expect(report.counts).toEqual({ seen: 3, applied: 2, duplicate: 0, skipped: 0, failed: 2 });
    expect(report.health_state).toBe('RED');
    expect(report.health_reasons).toEqual(['ARCHIVE_WRITE_ERROR_NONZERO', 'REPLAY_BASIS_MISMATCH_NONZERO']);
    expect(docs.read(KEYS.health)).toMatchObject({ health_state: 'RED' });
  });

  it('counts only the run asked for; a run with nothing is all zeros and GREEN', async () => {
    const { ports, ledger } = fakePorts();
    await archiveBatch(ports, { ...settings, requiredPlatformRunId: undefined }, [
      record(1),
      record(2, { run: 'platform_20260309T000000Z' }),
    ]);
    const docs = memoryDocuments();
    const other = await publishArchiveWriterReport(
      { ledger: ledger.ledger, documents: docs.writer, now: () => AT },
      'platform_20260309T000000Z',
    );
    expect(other.counts).toEqual({ seen: 1, applied: 1, duplicate: 0, skipped: 0, failed: 0 });
    expect(other.documents.metrics).toBe(
      's3://fraud-platform/platform_20260309T000000Z/archive_writer/metrics/last_metrics.json',
    );
    const none = await publishArchiveWriterReport(
      { ledger: ledger.ledger, documents: docs.writer, now: () => AT },
      'platform_20260310T000000Z',
    );
    expect(none.counts).toEqual({ seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 });
    expect(none.health_state).toBe('GREEN');
  });
});
