import { describe, expect, it } from 'vitest';
import { applyContextBatch } from '../../../lib/context-store/intake.ts';
import {
  contextCounts,
  DEFAULT_CONTEXT_HEALTH_THRESHOLDS,
  publishContextStoreReport,
} from '../../../lib/context-store/observability.ts';
import { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import { contextRecord, RUN, SETTINGS } from '../../support/context-store.ts';
import { memoryDocuments } from '../support/memory-documents.ts';
import { inMemoryContextStore } from './in-memory-context-store.ts';

/** The context store's report task: its three §2.4 documents of the run, and the projector report for P8. */

const SCOPE = `csfb.v0::${RUN}`;
const BASE = `${RUN}/context_store_flow_binding`;
const KEYS = {
  metrics: `${BASE}/metrics/last_metrics.json`,
  health: `${BASE}/health/last_health.json`,
  reconciliation: `${BASE}/reconciliation/last_reconciliation.json`,
};

function ports(store: ReturnType<typeof inMemoryContextStore>, now: Date) {
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
      now: () => now,
    },
  };
}

describe('contextCounts', () => {
  it('the five delivery counters, 0 when absent; per-topic counters are not totals', () => {
    expect(contextCounts({})).toEqual({ seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 });
    expect(
      contextCounts({
        seen: 5,
        applied: 2,
        duplicate: 1,
        skipped: 1,
        failed: 1,
        'seen|topic=fp.bus.context.arrival_events.v1': 5,
        other: 9,
      }),
    ).toEqual({ seen: 5, applied: 2, duplicate: 1, skipped: 1, failed: 1 });
  });
});

/** The in-memory store stamps checkpoint writes from 2026-03-02T00:00:00Z, one second apart. */
const STAMPED = Date.UTC(2026, 2, 2);

async function storeWithRecords() {
  const store = inMemoryContextStore(SCOPE);
  const arrival = contextRecord('arrival_events_5B');
  await applyContextBatch(
    store,
    [
      arrival,
      contextRecord('s3_flow_anchor_with_fraud_6B'),
      arrival, // the same event again: a duplicate
      contextRecord('arrival_events_5B', { envelope: { platform_run_id: 'platform_20260309T000000Z' } }),
      { ...contextRecord('arrival_events_5B'), envelope: 'not an envelope' },
    ],
    SETTINGS,
  );
  return store;
}

describe('publishContextStoreReport', () => {
  it('writes the three documents of the run’s scope and answers its counts (GREEN while fresh)', async () => {
    const store = await storeWithRecords();
    const now = new Date(STAMPED + 60_000);
    const { ports: p, docs, asked } = ports(store, now);

    // The envelopes' event time (2026-03-08) is after `now`: the watermark's age is 0, the checkpoint's 54 s.
    const report = await publishContextStoreReport(p, RUN, DEFAULT_CONTEXT_HEALTH_THRESHOLDS);

    expect(asked).toEqual([SCOPE]);
    expect(ProjectorReport.parse(report)).toEqual(report);
    expect(report).toEqual({
      component: 'context-store',
      platform_run_id: RUN,
      stream_id: SCOPE,
      generated_at_utc: now.toISOString(),
      counts: { seen: 5, applied: 2, duplicate: 1, skipped: 1, failed: 1 },
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
      stream_id: SCOPE,
      platform_run_id: RUN,
      generated_at_utc: now.toISOString(),
      threshold_policy_ref: 'local_parity_rtdl_core_v0',
      metrics: { join_hits: 1, join_misses: 0, apply_failures: 0 },
    });
    expect(docs.read(KEYS.health)).toMatchObject({ health_state: 'GREEN', health_reasons: [] });
    const reconciliation = docs.read(KEYS.reconciliation);
    expect(reconciliation.applied_offset_basis).toMatchObject({
      stream_id: SCOPE,
      window_end_utc: '2026-03-08T00:01:03.106979Z',
    });
    expect(Object.keys((reconciliation.applied_offset_basis as { topics: object }).topics).sort()).toEqual([
      'fp.bus.context.arrival_events.v1',
      'fp.bus.context.flow_anchor.fraud.v1',
    ]);
    // The run's anomalies only: the other run's RUN_SCOPE_MISMATCH and the run-less ENVELOPE_MISSING are not its.
    expect(reconciliation.unresolved_anomalies).toEqual([]);
  });

  it('health follows the thresholds: a checkpoint days old is RED, the reasons in report and document', async () => {
    const store = await storeWithRecords();
    const now = new Date('2026-03-08T00:01:10.000Z');
    const { ports: p, docs } = ports(store, now);
    const report = await publishContextStoreReport(p, RUN, DEFAULT_CONTEXT_HEALTH_THRESHOLDS);
    expect(report.health_state).toBe('RED');
    expect(report.health_reasons).toEqual(['CHECKPOINT_TOO_OLD']);
    expect(docs.read(KEYS.health)).toMatchObject({
      health_state: 'RED',
      health_reasons: ['CHECKPOINT_TOO_OLD'],
    });
  });

  it('the run’s own apply failures raise health; an empty store is AMBER (nothing seen) with zero counts', async () => {
    const store = inMemoryContextStore(SCOPE);
    await applyContextBatch(
      store,
      [contextRecord('arrival_events_5B', { payload: { arrival_seq: 7 } })], // no merchant: JOIN_KEY_MISSING
      SETTINGS,
    );
    const { ports: p } = ports(store, new Date(STAMPED + 1_000));
    const thresholds = DEFAULT_CONTEXT_HEALTH_THRESHOLDS;
    const failed = await publishContextStoreReport(p, RUN, thresholds);
    expect(failed.counts).toEqual({ seen: 1, applied: 0, duplicate: 0, skipped: 0, failed: 1 });
    expect(failed).toMatchObject({ health_state: 'AMBER', health_reasons: ['APPLY_FAILURES_AMBER'] });

    const empty = await publishContextStoreReport(
      ports(inMemoryContextStore(SCOPE), new Date(STAMPED)).ports,
      RUN,
      thresholds,
    );
    expect(empty.counts).toEqual({ seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 });
    expect(empty).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['WATERMARK_MISSING', 'CHECKPOINT_MISSING'],
    });
  });
});
