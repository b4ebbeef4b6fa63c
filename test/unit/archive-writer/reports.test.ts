import { describe, expect, it } from 'vitest';
import { archiveBatch } from '../../../lib/archive-writer/archive-batch.ts';
import type { ArchiveWriterSettings } from '../../../lib/archive-writer/ports.ts';
import {
  archiveWriterDocumentKeys,
  healthDocument,
  metricsDocument,
  RECONCILIATION_REF_LIMIT,
  reconciliationDocument,
} from '../../../lib/archive-writer/reports.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { fakePorts } from './fakes.ts';

const RUN = 'platform_20260308T000000Z';
const SCOPE = `archive_writer.v0::${RUN}`;
const AT = new Date('2026-03-08T01:00:00Z');
const settings: ArchiveWriterSettings = {
  streamBase: 'archive_writer.v0',
  requiredPlatformRunId: RUN,
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
};

function record(n: number, topic = 'fp.bus.traffic.fraud.v1', payload: Record<string, unknown> = {}) {
  return {
    topic,
    partition: 0,
    offset: String(1000 + n),
    offset_kind: 'kinesis_sequence' as const,
    data: canonicalJson({
      event_id: `evt-${n}`,
      event_type: 't',
      ts_utc: '2026-03-08T00:01:03.106979Z',
      manifest_fingerprint: 'a'.repeat(64),
      parameter_hash: 'b'.repeat(64),
      scenario_id: 'baseline_v1',
      platform_run_id: RUN,
      scenario_run_id: '2'.repeat(32),
      payload,
    }),
  };
}

describe('archive writer documents', () => {
  it('are GREEN with totals, per-topic counts and the archive refs of the run', async () => {
    const { ports, ledger } = fakePorts();
    await archiveBatch(ports, settings, [record(1), record(2, 'fp.bus.context.arrival_events.v1')]);
    await archiveBatch(ports, settings, [record(1)]);
    const summary = await ledger.ledger.summary(SCOPE, RECONCILIATION_REF_LIMIT);

    const health = healthDocument(RUN, summary, AT);
    expect(health).toMatchObject({ health_state: 'GREEN', health_reasons: [] });
    expect(health.metrics).toMatchObject({ seen_total: 3, archived_total: 2, duplicate_total: 1 });

    const reconciliation = reconciliationDocument(RUN, summary, AT);
    expect(reconciliation.totals).toEqual({
      seen_total: 3,
      archived_total: 2,
      duplicate_total: 1,
      payload_mismatch_total: 0,
    });
    expect(reconciliation.outcome_counts).toEqual({ NEW: 2, DUPLICATE: 1 });
    expect(reconciliation.by_topic['fp.bus.traffic.fraud.v1']).toMatchObject({ seen_total: 2 });
    expect(reconciliation.evidence_refs).toHaveLength(2);
    expect(reconciliation.evidence_refs[0]?.ref_id).toMatch(/#bytes=0-\d+$/);

    const metrics = metricsDocument(RUN, 'archive_writer.v0', summary, AT);
    expect(metrics.stream_id).toBe(SCOPE);
    expect(archiveWriterDocumentKeys(RUN)).toEqual({
      metrics: `${RUN}/archive_writer/metrics/last_metrics.json`,
      health: `${RUN}/archive_writer/health/last_health.json`,
      reconciliation: `${RUN}/archive/reconciliation/archive_writer_reconciliation.json`,
    });
  });

  it('turn RED on a payload mismatch and on a write error, and keep only the last 200 refs', async () => {
    const { ports, ledger, segments } = fakePorts();
    await archiveBatch(
      ports,
      settings,
      Array.from({ length: 205 }, (_, i) => record(i)),
    );
    await archiveBatch(ports, settings, [record(1, 'fp.bus.traffic.fraud.v1', { changed: true })]);
    let health = healthDocument(RUN, await ledger.ledger.summary(SCOPE, 200), AT);
    expect(health).toMatchObject({ health_state: 'RED', health_reasons: ['REPLAY_BASIS_MISMATCH_NONZERO'] });

    segments.control.failing = true;
    await archiveBatch(ports, settings, [record(999)]).catch(() => undefined);
    const summary = await ledger.ledger.summary(SCOPE, 200);
    health = healthDocument(RUN, summary, AT);
    expect(health.health_reasons).toEqual(['ARCHIVE_WRITE_ERROR_NONZERO', 'REPLAY_BASIS_MISMATCH_NONZERO']);
    const reconciliation = reconciliationDocument(RUN, summary, AT);
    expect(reconciliation.evidence_refs).toHaveLength(200);
    expect(metricsDocument(RUN, 'archive_writer.v0', summary, AT).metrics.write_error_total).toBe(1);
  });
});
