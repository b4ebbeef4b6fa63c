import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PlatformGovernanceEvent } from '../../../lib/contracts/governance.ts';
import { type ComponentHealth, PlatformRunReport } from '../../../lib/contracts/run-report.ts';
import { closeoutGaps } from '../../../lib/run-reporter/closeout.ts';
import type { ConformanceInputs } from '../../../lib/run-reporter/conformance.ts';
import { environmentConformance } from '../../../lib/run-reporter/conformance.ts';
import { generateRunReport } from '../../../lib/run-reporter/generate.ts';
import type { ReportBlocks, RunReporterPorts } from '../../../lib/run-reporter/ports.ts';

const RUN = 'platform_20261207T100000Z';
const fixture = PlatformRunReport.parse(
  JSON.parse(fs.readFileSync(new URL('../../fixtures/run-report/report.json', import.meta.url), 'utf8')),
);
const GREEN = [
  'archive-writer',
  'identity-graph',
  'online-features',
  'context-store',
  'decision-fabric',
  'action-layer',
  'decision-log',
  'case-trigger',
  'case-management',
  'label-store',
];

function blocks(change: Partial<ReportBlocks> = {}): ReportBlocks {
  return {
    scenario_run_ids: ['a'.repeat(32)],
    ingress: {
      sent: 10,
      received: 10,
      admit: 30,
      duplicate: 0,
      quarantine: 0,
      publish_ambiguous: 0,
      receipt_write_failed: 0,
    },
    rtdl: { inlet_seen: 10, deduped: 0, degraded: 0, decision: 5, outcome: 5, audit_append: 5 },
    archive: {
      summary: { seen: 10, archived: 10, duplicate: 0, payload_mismatch: 0, write_error: 0 },
      health_state: 'GREEN',
      reconciliation_totals: {},
    },
    case_labels: {
      summary: {
        triggers_expected: 2,
        triggers_seen: 2,
        cases_created: 2,
        labels_pending: 0,
        labels_accepted: 2,
        labels_rejected: 0,
        anomalies_total: 0,
      },
      health_states: { case_trigger: 'GREEN', case_mgmt: 'GREEN', label_store: 'GREEN' },
      labels_by_source: { AUTO: 2 },
    },
    components: GREEN.map(
      (component): ComponentHealth => ({
        component,
        health: 'GREEN' as const,
        reasons: [],
        counts:
          component === 'action-layer'
            ? { intake: 5, outcomes: 5 }
            : component === 'decision-log'
              ? { lineage_unresolved_total: 0 }
              : {},
      }),
    ),
    decision_quality: null,
    top_cases: [],
    evidence_refs: [
      { name: 'P9', ref: `s3://fraud-platform/${RUN}/lifecycle/P9_DECISION_CHAIN_COMMITTED.json` },
      { name: 'other run', ref: 's3://fraud-platform/platform_20200101T000000Z/lifecycle/P9.json' },
      { name: 'missing', ref: `s3://fraud-platform/${RUN}/lifecycle/P99.json` },
      { name: 'garbage', ref: 'not-a-ref' },
    ],
    artifact_refs: {},
    ...change,
  };
}

function ports(b: ReportBlocks, options: { busy?: boolean; conformance?: Partial<ConformanceInputs> } = {}) {
  const objects = new Map<string, string>();
  const emitted = new Map<string, PlatformGovernanceEvent>();
  const p: RunReporterPorts = {
    sources: {
      blocks: async () => b,
      planeCounts: async () => [{ plane: 'ingress', second: 1_800_000_000, n: 10 }],
      history: async (arn) =>
        arn ? [{ timestamp: '2026-12-07T10:00:00Z', stateName: 'P0SubstrateReady', kind: 'entered' }] : [],
      provenance: () => ({ service_release_id: 'dev-local', environment: 'test' }),
    },
    objects: {
      put: async (key, body) => {
        objects.set(key, body);
        return `s3://fraud-platform/${key}`;
      },
      resolve: async (ref) => (ref.endsWith('P99.json') ? 'REF_NOT_FOUND' : 'RESOLVED'),
    },
    singleWriter: async (_run, work) => (options.busy ? undefined : work()),
    governance: {
      emit: async (e) => {
        const fresh = !emitted.has(e.event_id);
        emitted.set(e.event_id, e);
        return fresh;
      },
    },
    conformanceInputs: () => ({
      stages: [{ stage: 'local', streamPrefix: '', secrets: { igApiKeys: 'world_streamer=k' } }],
      topics: ['fp.bus.case.v1'],
      contractDigests: {},
      policies: [{ name: 'p', revision: 'r1' }],
      producerPrincipals: ['world_streamer'],
      governanceSamples: [fixtureEvent()],
      ...options.conformance,
    }),
    pageAssets: async () => ({ chartJs: '/* chart */', chartCss: '/* css */' }),
    now: () => new Date('2026-12-07T10:30:00Z'),
  };
  return { ports: p, objects, emitted };
}

function fixtureEvent() {
  return {
    event_id: 'c'.repeat(64),
    event_family: 'RUN_ENDED',
    ts_utc: '2026-12-07T10:00:00+00:00',
    actor: { actor_id: 'SYSTEM::x', source_type: 'SYSTEM', source_component: 'x' },
    pins: { platform_run_id: RUN },
    provenance: { service_release_id: 'dev-local', environment: 'test' },
    details: {},
  };
}

describe('run report generation (P11)', () => {
  it('writes the JSON, the page and the conformance; resolves refs in scope only; closes with RUN_ENDED', async () => {
    const { ports: p, objects, emitted } = ports(blocks());
    const r = await generateRunReport({ platform_run_id: RUN, execution_arn: 'arn:x' }, p);
    expect(r).toMatchObject({ written: true, closed: true, conformance: 'PASS', gaps: [] });
    expect([...objects.keys()].sort()).toEqual([
      `${RUN}/obs/environment_conformance.json`,
      `${RUN}/obs/platform_run_report.html`,
      `${RUN}/obs/platform_run_report.json`,
    ]);
    const report = PlatformRunReport.parse(
      JSON.parse(objects.get(`${RUN}/obs/platform_run_report.json`) ?? ''),
    );
    expect(report.basis.evidence_ref_resolution).toEqual({ attempted: 4, resolved: 1, denied: 3 });
    expect(report.phases[0]).toMatchObject({ phase: 'P0', status: 'RUNNING' });
    expect(report.rates.series.find((s) => s.plane === 'ingress')?.total).toBe(10);
    const families = [...emitted.values()].map((e) => e.event_family).sort();
    expect(families).toEqual([
      'EVIDENCE_REF_RESOLVED',
      'EVIDENCE_REF_RESOLVED',
      'EVIDENCE_REF_RESOLVED',
      'EVIDENCE_REF_RESOLVED',
      'RUN_ENDED',
      'RUN_REPORT_GENERATED',
    ]);
    const resolutions = [...emitted.values()]
      .filter((e) => e.event_family === 'EVIDENCE_REF_RESOLVED')
      .map((e) => e.details.resolution);
    expect(resolutions.sort()).toEqual(['REF_INVALID', 'REF_NOT_FOUND', 'REF_SCOPE_MISMATCH', 'RESOLVED']);
    expect(objects.get(`${RUN}/obs/platform_run_report.html`)).toContain('/* chart */');
  });

  it('a re-run of an unchanged run announces nothing new (same event ids)', async () => {
    const { ports: p, emitted } = ports(blocks());
    await generateRunReport({ platform_run_id: RUN }, p);
    const first = emitted.size;
    const again = await generateRunReport(
      { platform_run_id: RUN },
      { ...p, now: () => new Date('2026-12-07T11:00:00Z') },
    );
    expect(emitted.size).toBe(first);
    expect(again.governance).toEqual({ events: first, written: 0 });
  });

  it('a run whose decisions were all ALLOW closes without a case; a missing expected trigger does not', async () => {
    const quiet = blocks();
    quiet.case_labels.summary = {
      ...quiet.case_labels.summary,
      triggers_expected: 0,
      triggers_seen: 0,
      cases_created: 0,
      labels_accepted: 0,
    };
    expect(await generateRunReport({ platform_run_id: RUN }, ports(quiet).ports)).toMatchObject({
      closed: true,
      gaps: [],
    });
    const short = blocks();
    short.case_labels.summary = { ...short.case_labels.summary, triggers_expected: 3 };
    expect(await generateRunReport({ platform_run_id: RUN }, ports(short).ports)).toMatchObject({
      closed: false,
      gaps: ['CASE_TRIGGERS_MISSING:1'],
    });
  });

  it('a gap leaves the run open (no RUN_ENDED) and names it; another writer holding the lock writes nothing', async () => {
    const { ports: p, emitted } = ports(
      blocks({
        case_labels: {
          ...blocks().case_labels,
          summary: { ...blocks().case_labels.summary, cases_created: 0 },
        },
      }),
    );
    const r = await generateRunReport({ platform_run_id: RUN }, p);
    expect(r).toMatchObject({ written: true, closed: false, gaps: ['NO_CASE_CREATED'] });
    expect([...emitted.values()].some((e) => e.event_family === 'RUN_ENDED')).toBe(false);
    const busy = ports(blocks(), { busy: true });
    expect(await generateRunReport({ platform_run_id: RUN }, busy.ports)).toMatchObject({
      written: false,
      reason: 'REPORT_WRITER_BUSY',
    });
    expect(busy.objects.size).toBe(0);
  });

  it('bad requests are refused before anything is read', async () => {
    const { ports: p, objects } = ports(blocks());
    await expect(generateRunReport({ platform_run_id: '../etc' }, p)).rejects.toThrow();
    expect(objects.size).toBe(0);
  });
});

describe('closeout gates (downstream.md §6)', () => {
  const conformance = environmentConformance({
    stages: [],
    topics: ['t'],
    contractDigests: {},
    policies: [],
    producerPrincipals: [],
    governanceSamples: [fixtureEvent()],
  });
  it('each broken gate is named', () => {
    expect(conformance.status).toBe('PASS');
    const report = PlatformRunReport.parse({
      ...fixture,
      ingress: { ...fixture.ingress, publish_ambiguous: 2, admit: 0 },
      components: fixture.components.filter((c) => c.component !== 'label-store'),
    });
    const gaps = closeoutGaps(report, {
      ...conformance,
      status: 'FAIL',
      checks: [{ check_id: 'x', status: 'FAIL', details: {} }],
    });
    expect(gaps).toEqual(
      expect.arrayContaining([
        'CONFORMANCE_FAIL:x',
        'INGRESS_NOTHING_ADMITTED',
        'PUBLISH_AMBIGUOUS:2',
        'COMPONENT_MISSING:label-store',
      ]),
    );
  });
});
