import { describe, expect, it } from 'vitest';
import type { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import type { PhaseEvidenceStore } from '../../../lib/run-lifecycle/phase-evidence.ts';
import {
  checkCaughtUp,
  PROJECTORS,
  type Projector,
  type ProjectorProgress,
  writeCaughtUpEvidence,
} from '../../../lib/run-lifecycle/rtdl-caught-up.ts';
import { ALL_TOPICS, caughtUp, fakePorts, NOW, RUN, T } from './rtdl-caught-up-world.ts';

/**
 * P8 RTDL_CAUGHT_UP's evidence (lib/run-lifecycle/rtdl-caught-up.ts `writeCaughtUpEvidence`) on fake ports: PASS or
 * FAIL with the reasons, the identity graph reconciliation required, write-once evidence in a map.
 */

function memoryEvidence() {
  const objects = new Map<string, string>();
  const store: PhaseEvidenceStore = {
    async writeOnce(key, body) {
      const ref = `s3://fraud-platform/${key}`;
      const existing = objects.get(key);
      if (existing === undefined) {
        objects.set(key, body);
        return { ref, created: true, identical: true };
      }
      return { ref, created: false, identical: existing === body };
    },
  };
  return { store, objects };
}

const RECONCILIATION = `s3://fraud-platform/${RUN}/identity_entity_graph/reconciliation/reconciliation.json`;

function report(component: Projector, extra: Partial<ProjectorReport> = {}): ProjectorReport {
  return {
    component,
    platform_run_id: RUN,
    stream_id: `${component}::${RUN}`,
    generated_at_utc: NOW.toISOString(),
    counts: { seen: 17, applied: 17, duplicate: 0, skipped: 0, failed: 0 },
    health_state: 'GREEN',
    health_reasons: [],
    documents:
      component === 'identity-graph'
        ? { reconciliation: RECONCILIATION, metrics: `s3://fraud-platform/${RUN}/m.json` }
        : { metrics: `s3://fraud-platform/${RUN}/${component}.json` },
    ...extra,
  };
}

async function evidenceRequest(overrides: Partial<Record<Projector, ProjectorProgress>> = {}) {
  const caught = await checkCaughtUp({ platform_run_id: RUN }, fakePorts(overrides).ports, 900);
  return {
    platform_run_id: RUN,
    caught_up: caught,
    reports: [
      report('archive-writer'),
      report('identity-graph'),
      report('context-store', { health_state: 'AMBER', health_reasons: ['WATERMARK_OLD'] }),
      report('online-features', { state_digest: 'd'.repeat(64) }),
    ],
  };
}

function evidencePorts(existing: readonly string[] = [RECONCILIATION]) {
  const evidence = memoryEvidence();
  const checked: string[] = [];
  return {
    evidence,
    checked,
    ports: {
      exists: async (ref: string) => {
        checked.push(ref);
        return existing.includes(ref);
      },
      evidence: evidence.store,
    },
  };
}

const EVIDENCE_KEY = `${RUN}/lifecycle/P8_RTDL_CAUGHT_UP.json`;
const writtenEvidence = (objects: Map<string, string>) => JSON.parse(objects.get(EVIDENCE_KEY) ?? 'null');

describe('writeCaughtUpEvidence', () => {
  it('caught up, counts reconciled, the reconciliation there: PASS evidence with each projector’s report and topics', async () => {
    const { ports, evidence, checked } = evidencePorts();
    const result = await writeCaughtUpEvidence(await evidenceRequest(), ports);
    expect(result).toMatchObject({
      caught_up: true,
      summary: "every projector applied or accounted for the run's admitted events (waited 0 s)",
      evidence_ref: `s3://fraud-platform/${EVIDENCE_KEY}`,
    });
    expect(checked).toEqual([RECONCILIATION]);
    const written = writtenEvidence(evidence.objects);
    expect(written).toMatchObject({
      phase: 'P8',
      gate: 'RTDL_CAUGHT_UP',
      platform_run_id: RUN,
      status: 'PASS',
      problems: [],
    });
    expect(Object.keys(written.projectors).sort()).toEqual([...PROJECTORS].sort());
    expect(written.projectors['context-store']).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['WATERMARK_OLD'],
      topics: [
        { topic: T.events, admitted: 4, accounted: 4 },
        { topic: T.entities, admitted: 4, accounted: 4 },
        { topic: T.anchor, admitted: 4, accounted: 4 },
      ],
    });
    expect(written.projectors['online-features'].state_digest).toBe('d'.repeat(64));
    expect('state_digest' in written.projectors['archive-writer']).toBe(false);
    expect(result.projectors['identity-graph']?.documents.reconciliation).toBe(RECONCILIATION);
  });

  it('a count that does not reconcile: FAIL, the problem names projector, topic and both counts', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const request = await evidenceRequest({
      'identity-graph': { ...progress, accounted: { ...progress.accounted, [T.events]: 6 } },
    });
    const { ports, evidence } = evidencePorts();
    const result = await writeCaughtUpEvidence(request, ports);
    expect(result.caught_up).toBe(false);
    expect(result.summary).toBe(`identity-graph accounted 6 events on ${T.events}, IG admitted 4`);
    expect(writtenEvidence(evidence.objects)).toMatchObject({
      status: 'FAIL',
      problems: [`identity-graph accounted 6 events on ${T.events}, IG admitted 4`],
    });
  });

  it('projectors not caught up: FAIL naming that and each short count', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const request = await evidenceRequest({
      'context-store': { ...progress, accounted: { ...progress.accounted, [T.anchor]: 2 } },
    });
    const { ports } = evidencePorts();
    const result = await writeCaughtUpEvidence(request, ports);
    expect(result.caught_up).toBe(false);
    expect(result.summary).toBe(
      `the projectors had not caught up; context-store accounted 2 events on ${T.anchor}, IG admitted 4`,
    );
  });

  it('the identity graph reconciliation.json missing from the bucket: FAIL', async () => {
    const { ports, evidence } = evidencePorts([]);
    const result = await writeCaughtUpEvidence(await evidenceRequest(), ports);
    expect(result.caught_up).toBe(false);
    expect(result.summary).toBe('the identity graph reconciliation.json does not exist');
    expect(writtenEvidence(evidence.objects).status).toBe('FAIL');
  });

  it('an identity graph report without a reconciliation document: FAIL without asking the bucket', async () => {
    const request = await evidenceRequest();
    request.reports[1] = report('identity-graph', { documents: { metrics: 's3://fraud-platform/m.json' } });
    const { ports, checked } = evidencePorts();
    const result = await writeCaughtUpEvidence(request, ports);
    expect(result.summary).toBe('the identity graph reconciliation.json does not exist');
    expect(checked).toEqual([]);
  });

  it('a rerun with the same inputs writes the same evidence; different evidence is a conflict (not caught up)', async () => {
    const { ports, evidence } = evidencePorts();
    const request = await evidenceRequest();
    expect((await writeCaughtUpEvidence(request, ports)).caught_up).toBe(true);
    expect((await writeCaughtUpEvidence(request, ports)).caught_up).toBe(true);
    const changed = {
      ...request,
      reports: request.reports.map((r) => ({ ...r, health_reasons: ['CHANGED'] })),
    };
    const conflict = await writeCaughtUpEvidence(changed, ports);
    expect(conflict.caught_up).toBe(false);
    expect(conflict.evidence_ref).toBe(`s3://fraud-platform/${EVIDENCE_KEY}`);
    expect(writtenEvidence(evidence.objects).projectors['archive-writer'].health_reasons).toEqual([]);
  });

  it('a request without the four reports is refused before anything is written', async () => {
    const request = await evidenceRequest();
    const { ports, evidence } = evidencePorts();
    await expect(
      writeCaughtUpEvidence({ ...request, reports: request.reports.slice(1) }, ports),
    ).rejects.toThrow(/reports/);
    expect(evidence.objects.size).toBe(0);
  });
});
