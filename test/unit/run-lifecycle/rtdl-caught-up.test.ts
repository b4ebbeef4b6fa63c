import { describe, expect, it } from 'vitest';
import type { ProjectorReport } from '../../../lib/contracts/projector-report.ts';
import type { PhaseEvidenceStore } from '../../../lib/run-lifecycle/phase-evidence.ts';
import {
  type AdmittedPartition,
  type CaughtUpPorts,
  checkCaughtUp,
  PROJECTORS,
  type Projector,
  type ProjectorProgress,
  writeCaughtUpEvidence,
} from '../../../lib/run-lifecycle/rtdl-caught-up.ts';

/**
 * P8 RTDL_CAUGHT_UP (lib/run-lifecycle/rtdl-caught-up.ts) on fake ports: what IG admitted per (topic, partition),
 * each projector's checkpoints and accounted events, a fixed clock; the evidence in a write-once map.
 */

const RUN = 'platform_20260308T000000Z';
const NOW = new Date('2026-03-08T01:00:00.000Z');
const T = {
  traffic: 'fp.bus.traffic.fraud.v1',
  events: 'fp.bus.context.arrival_events.v1',
  entities: 'fp.bus.context.arrival_entities.v1',
  anchor: 'fp.bus.context.flow_anchor.fraud.v1',
  rtdl: 'fp.bus.rtdl.v1',
};

/** IG's admissions: traffic on two partitions, each context topic on one. */
const ADMITTED: AdmittedPartition[] = [
  {
    topic: T.traffic,
    partition: 0,
    events: 3,
    max_offset: '4960000000000000000000000000000000000000000000000099',
  },
  { topic: T.traffic, partition: 1, events: 2, max_offset: '120' },
  { topic: T.events, partition: 0, events: 4, max_offset: '300' },
  { topic: T.entities, partition: 0, events: 4, max_offset: '310' },
  { topic: T.anchor, partition: 0, events: 4, max_offset: '320' },
];

/** A projector that reached every admitted offset on `topics` and accounted for every event there. */
function caughtUp(topics: readonly string[], admitted = ADMITTED): ProjectorProgress {
  const mine = admitted.filter((a) => topics.includes(a.topic));
  const accounted: Record<string, number> = {};
  for (const a of mine) accounted[a.topic] = (accounted[a.topic] ?? 0) + a.events;
  return {
    checkpoints: mine.map((a) => ({ topic: a.topic, partition: a.partition, next_offset: a.max_offset })),
    accounted,
  };
}

const ALL_TOPICS = Object.values(T);

function fakePorts(
  overrides: Partial<Record<Projector, ProjectorProgress>> = {},
  admitted = ADMITTED,
  now = NOW,
) {
  const asked: [Projector, string][] = [];
  const ports: CaughtUpPorts = {
    admitted: async (platformRunId) => (platformRunId === RUN ? admitted : []),
    async progress(projector, platformRunId) {
      asked.push([projector, platformRunId]);
      return overrides[projector] ?? caughtUp(ALL_TOPICS, admitted);
    },
    now: () => now,
  };
  return { ports, asked };
}

describe('checkCaughtUp', () => {
  it('every projector at IG’s highest offsets with every event accounted: caught up', async () => {
    const { ports, asked } = fakePorts();
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result).toMatchObject({
      platform_run_id: RUN,
      since: NOW.toISOString(),
      waited_seconds: 0,
      caught_up: true,
      timed_out: false,
      admitted_events: 17,
      lagging: [],
    });
    expect(asked).toEqual(PROJECTORS.map((p) => [p, RUN]));
    // Each projector is checked on the admitted topics it consumes.
    const topicsOf = (p: Projector) => result.checks.filter((c) => c.projector === p).map((c) => c.topic);
    expect(topicsOf('archive-writer')).toEqual([T.events, T.entities, T.anchor, T.traffic].sort());
    expect(topicsOf('identity-graph')).toEqual([T.traffic, T.events, T.entities, T.anchor]);
    expect(topicsOf('context-store')).toEqual([T.events, T.entities, T.anchor]);
    expect(topicsOf('online-features')).toEqual([T.traffic, T.anchor]);
    expect(result.checks.find((c) => c.projector === 'online-features' && c.topic === T.traffic)).toEqual({
      projector: 'online-features',
      topic: T.traffic,
      admitted: 5,
      accounted: 5,
      partitions_behind: [],
      caught_up: true,
    });
  });

  it('a partition whose checkpoint is below IG’s highest offset is behind (offsets compared as numbers)', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const behind = progress.checkpoints.map((c) =>
      c.topic === T.traffic && c.partition === 1 ? { ...c, next_offset: '99' } : c,
    );
    const { ports } = fakePorts({ 'identity-graph': { ...progress, checkpoints: behind } });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.caught_up).toBe(false);
    expect(result.timed_out).toBe(false);
    expect(result.checks.filter((c) => !c.caught_up)).toEqual([
      {
        projector: 'identity-graph',
        topic: T.traffic,
        admitted: 5,
        accounted: 5,
        partitions_behind: [1],
        caught_up: false,
      },
    ]);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:identity-graph:${T.traffic} (accounted 5 of 5; partitions behind: 1)`,
    ]);
  });

  it('a checkpoint past the admitted offset is not behind ("1000" > "999" though it sorts first as text)', async () => {
    const admitted = [{ topic: T.traffic, partition: 0, events: 1, max_offset: '999' }];
    const progress: ProjectorProgress = {
      checkpoints: [{ topic: T.traffic, partition: 0, next_offset: '1000' }],
      accounted: { [T.traffic]: 1 },
    };
    const { ports } = fakePorts({}, admitted);
    const everyone = Object.fromEntries(PROJECTORS.map((p) => [p, progress]));
    const result = await checkCaughtUp(
      { platform_run_id: RUN },
      { ...ports, progress: async (p) => everyone[p] as ProjectorProgress },
      900,
    );
    expect(result.caught_up).toBe(true);
  });

  it('a partition without any checkpoint is behind', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { ports } = fakePorts({
      'context-store': {
        ...progress,
        checkpoints: progress.checkpoints.filter((c) => c.topic !== T.entities),
      },
    });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:context-store:${T.entities} (accounted 4 of 4; partitions behind: 0)`,
    ]);
  });

  it('fewer events accounted than IG admitted is lagging though every checkpoint is there', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { ports } = fakePorts({
      'online-features': { ...progress, accounted: { ...progress.accounted, [T.anchor]: 3 } },
      'archive-writer': { ...progress, accounted: { ...progress.accounted, [T.events]: 0 } },
    });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.caught_up).toBe(false);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:archive-writer:${T.events} (accounted 0 of 4)`,
      `RTDL_LAGGING:online-features:${T.anchor} (accounted 3 of 4)`,
    ]);
  });

  it('a topic missing from accounted counts 0', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { [T.traffic]: _gone, ...accounted } = progress.accounted;
    const { ports } = fakePorts({ 'online-features': { ...progress, accounted } });
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.lagging).toEqual([`RTDL_LAGGING:online-features:${T.traffic} (accounted 0 of 5)`]);
  });

  it('the archive writer (*) is checked on every topic IG published to, the others only on theirs', async () => {
    const admitted = [...ADMITTED, { topic: T.rtdl, partition: 2, events: 7, max_offset: '55' }];
    const stale = caughtUp(ALL_TOPICS, ADMITTED); // knows nothing of fp.bus.rtdl.v1
    const { ports } = fakePorts(Object.fromEntries(PROJECTORS.map((p) => [p, stale])), admitted);
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.checks.filter((c) => c.topic === T.rtdl)).toEqual([
      {
        projector: 'archive-writer',
        topic: T.rtdl,
        admitted: 7,
        accounted: 0,
        partitions_behind: [2],
        caught_up: false,
      },
    ]);
    expect(result.lagging).toEqual([
      `RTDL_LAGGING:archive-writer:${T.rtdl} (accounted 0 of 7; partitions behind: 2)`,
    ]);
  });

  it('a projector is not checked on a topic IG did not publish to', async () => {
    const admitted = ADMITTED.filter((a) => a.topic === T.traffic);
    const { ports } = fakePorts({}, admitted);
    const result = await checkCaughtUp({ platform_run_id: RUN }, ports, 900);
    expect(result.checks.map((c) => `${c.projector}:${c.topic}`)).toEqual([
      `archive-writer:${T.traffic}`,
      `identity-graph:${T.traffic}`,
      `online-features:${T.traffic}`,
    ]);
    expect(result.caught_up).toBe(true);
  });

  it('nothing admitted: caught up at once', async () => {
    const { ports } = fakePorts({}, []);
    const result = await checkCaughtUp({ platform_run_id: RUN, since: null }, ports, 900);
    expect(result).toMatchObject({ caught_up: true, admitted_events: 0, checks: [], timed_out: false });
  });

  it('lagging past the deadline counted from `since`: timed out, the summary names projector and topic', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const { ports } = fakePorts({
      'context-store': { ...progress, accounted: { ...progress.accounted, [T.anchor]: 1 } },
    });
    const since = new Date(NOW.getTime() - 900_400).toISOString();
    const result = await checkCaughtUp({ platform_run_id: RUN, since }, ports, 900);
    expect(result).toMatchObject({ since, waited_seconds: 900.4, caught_up: false, timed_out: true });
    expect(result.lagging_summary).toBe(
      `waited 900 s: RTDL_LAGGING:context-store:${T.anchor} (accounted 1 of 4)`,
    );
  });

  it('lagging before the deadline is not timed out; caught up past it is not timed out either', async () => {
    const progress = caughtUp(ALL_TOPICS);
    const lagging = fakePorts({ 'context-store': { ...progress, accounted: {} } });
    const early = new Date(NOW.getTime() - 899_000).toISOString();
    expect(await checkCaughtUp({ platform_run_id: RUN, since: early }, lagging.ports, 900)).toMatchObject({
      caught_up: false,
      timed_out: false,
      waited_seconds: 899,
    });
    const late = new Date(NOW.getTime() - 5_000_000).toISOString();
    expect(await checkCaughtUp({ platform_run_id: RUN, since: late }, fakePorts().ports, 900)).toMatchObject({
      caught_up: true,
      timed_out: false,
    });
  });

  it('a request that is not one throws before any port is read', async () => {
    const { ports, asked } = fakePorts();
    await expect(checkCaughtUp({ platform_run_id: 'yesterday' }, ports, 900)).rejects.toThrow(
      /platform_run_id/,
    );
    await expect(checkCaughtUp({ platform_run_id: RUN, since: 'noon' }, ports, 900)).rejects.toThrow(/since/);
    expect(asked).toEqual([]);
  });
});

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
