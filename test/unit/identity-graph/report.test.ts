import { describe, expect, it } from 'vitest';
import { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import {
  DEFAULT_GRAPH_HEALTH_THRESHOLDS,
  identityGraphDocumentKeys,
  publishIdentityGraphReport,
} from '../../../lib/identity-graph/health.ts';
import { applyIdentityGraphBatch } from '../../../lib/identity-graph/intake.ts';
import { graphRecord, RUN, SETTINGS } from '../../support/identity-graph.ts';
import { memoryDocuments } from '../support/memory-documents.ts';
import { inMemoryIdentityGraphStore } from './in-memory-identity-graph-store.ts';

/** The identity graph's report task: status, metrics and reconciliation documents, and the P8 projector report. */

const SCOPE = `ieg.v0::${RUN}`;
const KEYS = identityGraphDocumentKeys(RUN);
/** Seconds after the envelopes' event time (2026-03-08T00:01:03Z); the in-memory store stamps checkpoints from 00:00. */
const NOW = new Date('2026-03-08T00:01:10.000Z');

function ports(store: ReturnType<typeof inMemoryIdentityGraphStore>) {
  const docs = memoryDocuments();
  const asked: string[] = [];
  return {
    docs,
    asked,
    ports: {
      storeFor: (streamId: string) => {
        asked.push(streamId);
        return store;
      },
      documents: docs.writer,
      now: () => NOW,
    },
  };
}

describe('identityGraphDocumentKeys', () => {
  it('are under the run’s identity_entity_graph folder', () => {
    expect(identityGraphDocumentKeys('platform_20260309T000000Z')).toEqual({
      metrics: 'platform_20260309T000000Z/identity_entity_graph/metrics/last_metrics.json',
      health: 'platform_20260309T000000Z/identity_entity_graph/health/last_health.json',
      reconciliation: 'platform_20260309T000000Z/identity_entity_graph/reconciliation/reconciliation.json',
    });
  });
});

describe('publishIdentityGraphReport', () => {
  it('writes the three documents; skipped = irrelevant + other runs, failed = the other failure rows', async () => {
    const store = inMemoryIdentityGraphStore(SCOPE);
    const anchor = graphRecord('s3_flow_anchor_with_fraud_6B');
    await applyIdentityGraphBatch(
      store,
      [
        graphRecord('s1_arrival_entities_6B'),
        anchor,
        anchor,
        graphRecord('decision_response'),
        graphRecord('s3_event_stream_with_fraud_6B', {
          envelope: { platform_run_id: 'platform_20260309T000000Z' },
        }),
        { ...graphRecord('s3_event_stream_with_fraud_6B'), envelope: 'not an envelope' },
      ],
      SETTINGS,
    );
    const { ports: p, docs, asked } = ports(store);

    const report = await publishIdentityGraphReport(p, RUN, DEFAULT_GRAPH_HEALTH_THRESHOLDS);

    expect(asked).toEqual([SCOPE]);
    expect(ProjectorReport.parse(report)).toEqual(report);
    expect(report).toEqual({
      component: 'identity-graph',
      platform_run_id: RUN,
      stream_id: SCOPE,
      generated_at_utc: NOW.toISOString(),
      // The decision is irrelevant and the other run's record a RUN_SCOPE_MISMATCH row (skipped); the malformed
      // record names no run: a failure row that counts as failed, though health counts only this run's rows.
      counts: { seen: 6, applied: 2, duplicate: 1, skipped: 2, failed: 1 },
      health_state: 'GREEN',
      health_reasons: [],
      documents: {
        metrics: `s3://fraud-platform/${KEYS.metrics}`,
        health: `s3://fraud-platform/${KEYS.health}`,
        reconciliation: `s3://fraud-platform/${KEYS.reconciliation}`,
      },
    });
    expect(docs.read(KEYS.metrics)).toEqual({
      generated_at_utc: NOW.toISOString(),
      platform_run_id: RUN,
      graph_scope: SCOPE,
      metrics: {
        duplicate: 1,
        events_seen: 6,
        irrelevant: 1,
        mutating_applied: 2,
        payload_mismatch: 0,
        unusable: 2,
      },
    });
    expect(docs.read(KEYS.health)).toMatchObject({
      graph_scope: SCOPE,
      health_state: 'GREEN',
      integrity_status: 'CLEAN',
      apply_failure_count: 0,
      watermark_age_seconds: 6.894,
    });
    const reconciliation = docs.read(KEYS.reconciliation);
    expect(reconciliation).toMatchObject({
      platform_run_id: RUN,
      integrity_status: 'CLEAN',
      apply_failure_count: 0,
      graph_version: { stream: SCOPE, watermark_ts_utc: '2026-03-08T00:01:03.106979Z' },
    });
    expect((reconciliation.checkpoints as { topic: string }[]).map((c) => c.topic)).toEqual([
      'fp.bus.context.arrival_entities.v1',
      'fp.bus.context.flow_anchor.fraud.v1',
      'fp.bus.rtdl.v1',
      'fp.bus.traffic.fraud.v1',
    ]);
  });

  it('the run’s apply failures are failed, not skipped, and degrade integrity and health', async () => {
    const store = inMemoryIdentityGraphStore(SCOPE);
    const traffic = graphRecord('s3_event_stream_with_fraud_6B');
    await applyIdentityGraphBatch(
      store,
      [
        traffic,
        // The same event id with another payload: PAYLOAD_HASH_MISMATCH.
        {
          ...traffic,
          offset: '99999999999999999999',
          envelope: { ...traffic.envelope, payload: { flow_id: 1n } },
        },
      ],
      SETTINGS,
    );
    const { ports: p, docs } = ports(store);
    const report = await publishIdentityGraphReport(p, RUN, DEFAULT_GRAPH_HEALTH_THRESHOLDS);
    expect(report.counts).toEqual({ seen: 2, applied: 1, duplicate: 0, skipped: 0, failed: 1 });
    expect(report).toMatchObject({ health_state: 'AMBER', health_reasons: ['APPLY_FAILURES_AMBER'] });
    expect(docs.read(KEYS.reconciliation)).toMatchObject({
      integrity_status: 'DEGRADED',
      apply_failure_count: 1,
    });
  });

  it('an empty graph: zero counts, no graph version, AMBER for the missing watermark and checkpoint', async () => {
    const { ports: p, docs } = ports(inMemoryIdentityGraphStore(SCOPE));
    const report = await publishIdentityGraphReport(p, RUN, DEFAULT_GRAPH_HEALTH_THRESHOLDS);
    expect(report.counts).toEqual({ seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 });
    expect(report).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['WATERMARK_MISSING', 'CHECKPOINT_MISSING'],
    });
    expect(docs.read(KEYS.reconciliation).graph_version).toBeNull();
  });
});
