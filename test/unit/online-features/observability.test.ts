import { describe, expect, it } from 'vitest';
import { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import { applyOnlineFeatureBatch } from '../../../lib/online-features/intake.ts';
import {
  deriveFeatureHealth,
  onlineFeatureDocumentKeys,
  publishOnlineFeatureReport,
} from '../../../lib/online-features/observability.ts';
import { RUN, SETTINGS, trafficRecord } from '../../support/online-features.ts';
import { memoryDocuments } from '../support/memory-documents.ts';
import { anchorRecord } from './anchor-records.ts';
import { inMemoryOnlineFeatureStore } from './in-memory-online-feature-store.ts';

/** The online feature plane's report task (§2.3): metrics, health and reconciliation documents, and the P8 report. */

const SCOPE = `ofp.v0::${RUN}`;
const KEYS = onlineFeatureDocumentKeys(RUN);
const THRESHOLDS = { amberWatermarkAgeSeconds: 120, redWatermarkAgeSeconds: 300 };
const DIGEST = 'c'.repeat(64);

describe('deriveFeatureHealth', () => {
  it('GREEN with a fresh watermark and no mismatch', () => {
    expect(deriveFeatureHealth({}, 0, THRESHOLDS)).toEqual({ state: 'GREEN', reasons: [] });
    expect(deriveFeatureHealth({ payload_hash_mismatch: 0 }, 119.9, THRESHOLDS)).toEqual({
      state: 'GREEN',
      reasons: [],
    });
  });

  it('the watermark: missing AMBER, from amber AMBER, from red RED', () => {
    expect(deriveFeatureHealth({}, null, THRESHOLDS)).toEqual({
      state: 'AMBER',
      reasons: ['WATERMARK_MISSING'],
    });
    expect(deriveFeatureHealth({}, 120, THRESHOLDS)).toEqual({
      state: 'AMBER',
      reasons: ['WATERMARK_LAGGING'],
    });
    expect(deriveFeatureHealth({}, 300, THRESHOLDS)).toEqual({
      state: 'RED',
      reasons: ['WATERMARK_TOO_OLD'],
    });
  });

  it('payload hash mismatches: from 1 AMBER, from 10 RED; RED is never lowered by a later AMBER rule', () => {
    expect(deriveFeatureHealth({ payload_hash_mismatch: 1 }, 0, THRESHOLDS)).toEqual({
      state: 'AMBER',
      reasons: ['PAYLOAD_HASH_MISMATCH_AMBER'],
    });
    expect(deriveFeatureHealth({ payload_hash_mismatch: 10 }, 0, THRESHOLDS)).toEqual({
      state: 'RED',
      reasons: ['PAYLOAD_HASH_MISMATCH_RED'],
    });
    expect(deriveFeatureHealth({ payload_hash_mismatch: 3 }, 301, THRESHOLDS)).toEqual({
      state: 'RED',
      reasons: ['WATERMARK_TOO_OLD', 'PAYLOAD_HASH_MISMATCH_AMBER'],
    });
    expect(deriveFeatureHealth({ payload_hash_mismatch: 12 }, null, THRESHOLDS)).toEqual({
      state: 'RED',
      reasons: ['WATERMARK_MISSING', 'PAYLOAD_HASH_MISMATCH_RED'],
    });
  });
});

function ports(store: ReturnType<typeof inMemoryOnlineFeatureStore>, now: Date) {
  const docs = memoryDocuments();
  const asked: string[] = [];
  return {
    docs,
    asked,
    ports: {
      storeFor: (streamId: string) => {
        asked.push(`store ${streamId}`);
        return store;
      },
      stateDigest: async (streamId: string) => {
        asked.push(`digest ${streamId}`);
        return DIGEST;
      },
      documents: docs.writer,
      now: () => now,
    },
  };
}

describe('publishOnlineFeatureReport', () => {
  it('writes the three documents of the run and answers counts, health and the state digest', async () => {
    const store = inMemoryOnlineFeatureStore(SCOPE);
    const traffic = trafficRecord({ tsUtc: '2026-03-08T00:01:00.000000Z' });
    await applyOnlineFeatureBatch(
      store,
      [
        traffic,
        anchorRecord({ tsUtc: '2026-03-08T00:01:00.000000Z' }),
        { ...traffic, offset: '99999999999999999998' }, // the same event at another offset: a duplicate
        trafficRecord({ envelope: { platform_run_id: 'platform_20260309T000000Z' } }),
        trafficRecord({ envelope: { event_type: 'decision_response' } }),
        { ...trafficRecord(), envelope: 'not an envelope' },
        // The same event id with another amount: a payload hash mismatch.
        {
          ...traffic,
          offset: '99999999999999999999',
          envelope: { ...traffic.envelope, payload: { amount: 1 } },
        },
      ],
      SETTINGS,
    );
    const now = new Date('2026-03-08T00:02:00.000Z');
    const { ports: p, docs, asked } = ports(store, now);

    const report = await publishOnlineFeatureReport(p, RUN, THRESHOLDS);

    expect(asked.sort()).toEqual([`digest ${SCOPE}`, `store ${SCOPE}`]);
    expect(ProjectorReport.parse(report)).toEqual(report);
    expect(report).toEqual({
      component: 'online-features',
      platform_run_id: RUN,
      stream_id: SCOPE,
      generated_at_utc: now.toISOString(),
      counts: { seen: 7, applied: 2, duplicate: 1, skipped: 3, failed: 1 },
      health_state: 'AMBER',
      health_reasons: ['PAYLOAD_HASH_MISMATCH_AMBER'],
      documents: {
        metrics: `s3://fraud-platform/${KEYS.metrics}`,
        health: `s3://fraud-platform/${KEYS.health}`,
        reconciliation: `s3://fraud-platform/${KEYS.reconciliation}`,
      },
      state_digest: DIGEST,
    });
    expect(docs.read(KEYS.metrics)).toMatchObject({
      platform_run_id: RUN,
      stream_id: SCOPE,
      metrics: {
        events_seen: 7,
        events_applied: 2,
        run_scope_mismatch: 1,
        ignored_event_type: 1,
        invalid_envelope: 1,
      },
    });
    // The watermark is the lowest of the topics' highest event times, 60 s before `now`.
    expect(docs.read(KEYS.health)).toEqual({
      generated_at_utc: now.toISOString(),
      platform_run_id: RUN,
      stream_id: SCOPE,
      health_state: 'AMBER',
      health_reasons: ['PAYLOAD_HASH_MISMATCH_AMBER'],
      watermark_ts_utc: '2026-03-08T00:01:00.000000Z',
      watermark_age_seconds: 60,
    });
    expect(docs.read(KEYS.reconciliation)).toMatchObject({
      feature_state_digest: DIGEST,
      eb_offset_basis: { window_end_utc: '2026-03-08T00:01:00.000000Z', offset_kind: 'kinesis_sequence' },
    });
  });

  it('nothing applied yet: zero counts, the watermark missing (AMBER), no age in the health document', async () => {
    const { ports: p, docs } = ports(inMemoryOnlineFeatureStore(SCOPE), new Date('2026-03-08T00:02:00.000Z'));
    const report = await publishOnlineFeatureReport(p, RUN, THRESHOLDS);
    expect(report.counts).toEqual({ seen: 0, applied: 0, duplicate: 0, skipped: 0, failed: 0 });
    expect(report).toMatchObject({ health_state: 'AMBER', health_reasons: ['WATERMARK_MISSING'] });
    expect(docs.read(KEYS.health)).toMatchObject({ watermark_ts_utc: null, watermark_age_seconds: null });
  });

  it('an old watermark is RED (the thresholds given, not defaults)', async () => {
    const store = inMemoryOnlineFeatureStore(SCOPE);
    await applyOnlineFeatureBatch(store, [trafficRecord({ tsUtc: '2026-03-08T00:00:00.000000Z' })], SETTINGS);
    const now = new Date('2026-03-08T00:05:00.000Z');
    expect(await publishOnlineFeatureReport(ports(store, now).ports, RUN, THRESHOLDS)).toMatchObject({
      health_state: 'RED',
      health_reasons: ['WATERMARK_TOO_OLD'],
    });
    const lenient = { amberWatermarkAgeSeconds: 500_000_000, redWatermarkAgeSeconds: 800_000_000 };
    expect(await publishOnlineFeatureReport(ports(store, now).ports, RUN, lenient)).toMatchObject({
      health_state: 'GREEN',
      health_reasons: [],
    });
  });
});
