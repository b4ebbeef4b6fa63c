import { describe, expect, it } from 'vitest';
import {
  ProjectorReport,
  ProjectorReportRequest,
  pinnedRunIdOf,
  queryTask,
} from '../../lib/contracts/projector-report.ts';

/** The RTDL projectors' task events and report (lib/contracts/projector-report.ts). */

const RUN = 'platform_20260308T000000Z';

describe('ProjectorReportRequest', () => {
  it('takes {action: report, platform_run_id}', () => {
    expect(ProjectorReportRequest.parse({ action: 'report', platform_run_id: RUN })).toEqual({
      action: 'report',
      platform_run_id: RUN,
    });
  });

  it('refuses another action, a bad or missing run id, and extra keys', () => {
    for (const event of [
      { action: 'query', platform_run_id: RUN },
      { action: 'report', platform_run_id: 'yesterday' },
      { action: 'report' },
      { action: 'report', platform_run_id: RUN, extra: 1 },
      { platform_run_id: RUN },
      null,
    ])
      expect(ProjectorReportRequest.safeParse(event).success, JSON.stringify(event)).toBe(false);
  });
});

describe('queryTask', () => {
  const Query = queryTask('linked_entities');

  it('takes {action, request} with an optional run id; the request is left to the query’s core', () => {
    expect(Query.parse({ action: 'linked_entities', request: { anything: [1] } })).toEqual({
      action: 'linked_entities',
      request: { anything: [1] },
    });
    expect(Query.parse({ action: 'linked_entities', platform_run_id: RUN, request: 'x' })).toMatchObject({
      platform_run_id: RUN,
    });
  });

  it('refuses another action, a bad run id and extra keys', () => {
    for (const event of [
      { action: 'get_features', request: {} },
      { action: 'linked_entities', platform_run_id: 'platform_1', request: {} },
      { action: 'linked_entities', request: {}, pins: {} },
    ])
      expect(Query.safeParse(event).success, JSON.stringify(event)).toBe(false);
  });
});

describe('pinnedRunIdOf', () => {
  it('is the run the request’s pins name', () => {
    expect(pinnedRunIdOf({ request_id: 'r', pins: { platform_run_id: RUN, seed: 42 } })).toBe(RUN);
  });

  it('is undefined when the request names no run that parses', () => {
    for (const request of [
      undefined,
      null,
      'text',
      {},
      { pins: null },
      { pins: {} },
      { pins: { platform_run_id: 'yesterday' } },
      { pins: { platform_run_id: 7 } },
      { platform_run_id: RUN },
    ])
      expect(pinnedRunIdOf(request), JSON.stringify(request)).toBeUndefined();
  });
});

describe('ProjectorReport', () => {
  const report = {
    component: 'online-features',
    platform_run_id: RUN,
    stream_id: `ofp.v0::${RUN}`,
    generated_at_utc: '2026-03-08T01:00:00.000Z',
    counts: { seen: 3, applied: 1, duplicate: 1, skipped: 1, failed: 0 },
    health_state: 'AMBER',
    health_reasons: ['WATERMARK_LAGGING'],
    documents: { metrics: `s3://fraud-platform/${RUN}/online_feature_plane/metrics/last_metrics.json` },
    state_digest: 'f'.repeat(64),
  };

  it('takes a report, the state digest optional', () => {
    expect(ProjectorReport.parse(report)).toEqual(report);
    const { state_digest: _digest, ...without } = report;
    expect(ProjectorReport.parse(without)).toEqual(without);
  });

  it('refuses negative or fractional counts, an unknown count or health state', () => {
    for (const bad of [
      { ...report, counts: { ...report.counts, seen: -1 } },
      { ...report, counts: { ...report.counts, applied: 1.5 } },
      { ...report, counts: { ...report.counts, lost: 0 } },
      { ...report, health_state: 'YELLOW' },
      { ...report, extra: true },
    ])
      expect(ProjectorReport.safeParse(bad).success).toBe(false);
  });
});
