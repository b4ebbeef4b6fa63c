import { describe, expect, it } from 'vitest';
import {
  type CaseLabelsCounts,
  checkCaseLabels,
  missingCaseLinks,
} from '../../../lib/run-lifecycle/case-labels.ts';
import type { PhaseEvidenceStore } from '../../../lib/run-lifecycle/phase-evidence.ts';
import {
  checkRunClosed,
  closeRun,
  type RunClosePorts,
  rowsWrittenSince,
  stopRun,
} from '../../../lib/run-lifecycle/run-closed.ts';

const RUN = 'platform_20261207T100000Z';

function evidenceStore() {
  const objects = new Map<string, string>();
  const store: PhaseEvidenceStore = {
    async writeOnce(key, body) {
      const before = objects.get(key);
      if (before === undefined) objects.set(key, body);
      return { ref: `s3://fraud-platform/${key}`, created: before === undefined, identical: before === body };
    },
  };
  return { store, objects };
}

const whole: CaseLabelsCounts = {
  triggers_expected: 3,
  triggers_admitted: 3,
  triggers_taken_in: 3,
  cases_created: 2,
  timeline_events: 9,
  labels_pending: 0,
  labels_accepted: 3,
  labels_rejected: 0,
  anomalies_total: 0,
  label_store_by_source: { AUTO: 3, EXTERNAL: 7 },
  health: { case_trigger: 'GREEN', case_management: 'GREEN', label_store: 'GREEN' },
};

describe('P10 CASE_LABELS_COMMITTED', () => {
  it('a whole case plane misses nothing; each shortfall is named by its reason code', () => {
    expect(missingCaseLinks(whole)).toEqual([]);
    expect(
      missingCaseLinks({
        ...whole,
        triggers_admitted: 1,
        triggers_taken_in: 0,
        cases_created: 0,
        labels_pending: 1,
        labels_accepted: 0,
        labels_rejected: 0,
        health: { ...whole.health, label_store: 'AMBER' },
      }),
    ).toEqual([
      'TRIGGERS_MISSING:2',
      'TRIGGERS_NOT_TAKEN_IN:1',
      'NO_CASE_CREATED',
      'LABELS_PENDING:1',
      'HEALTH:label_store=AMBER',
    ]);
    expect(missingCaseLinks({ ...whole, labels_accepted: 2, labels_rejected: 1 })).toEqual([
      'LABELS_REJECTED:1',
    ]);
  });

  it('waits (not done) until whole or timed out; writes its evidence once done', async () => {
    const { store, objects } = evidenceStore();
    let counts = { ...whole, triggers_admitted: 2 };
    let now = new Date('2026-12-07T10:00:00Z');
    const ports = { counts: async () => counts, evidence: store, now: () => now };
    const first = await checkCaseLabels({ platform_run_id: RUN }, ports, 60);
    expect(first).toMatchObject({ done: false, committed: false, missing: ['TRIGGERS_MISSING:1'] });
    expect(objects.size).toBe(0);
    counts = whole;
    now = new Date('2026-12-07T10:00:05Z');
    const second = await checkCaseLabels({ platform_run_id: RUN, since: first.since }, ports, 60);
    expect(second).toMatchObject({ done: true, committed: true, waited_seconds: 5 });
    expect(JSON.parse(objects.get(`${RUN}/lifecycle/P10_CASE_LABELS_COMMITTED.json`) ?? '{}')).toMatchObject({
      status: 'PASS',
      gate: 'CASE_LABELS_COMMITTED',
    });
  });

  it('gives up at the bounded wait with FAIL evidence naming what is missing', async () => {
    const { store, objects } = evidenceStore();
    const ports = {
      counts: async () => ({ ...whole, cases_created: 0 }),
      evidence: store,
      now: () => new Date('2026-12-07T10:10:00Z'),
    };
    const r = await checkCaseLabels({ platform_run_id: RUN, since: '2026-12-07T10:00:00Z' }, ports, 600);
    expect(r).toMatchObject({ done: true, committed: false, summary: 'waited 600 s: NO_CASE_CREATED' });
    expect(JSON.parse(objects.get(`${RUN}/lifecycle/P10_CASE_LABELS_COMMITTED.json`) ?? '{}').status).toBe(
      'FAIL',
    );
  });

  it('refuses a request that is not a run id', async () => {
    const { store } = evidenceStore();
    await expect(
      checkCaseLabels(
        { platform_run_id: "x'; DROP TABLE" },
        { counts: async () => whole, evidence: store, now: () => new Date() },
        1,
      ),
    ).rejects.toThrow();
  });
});

describe('P12 DONE', () => {
  function closePorts(rows: Record<string, number>[]) {
    const { store, objects } = evidenceStore();
    const stops: string[] = [];
    let reads = 0;
    const ports: RunClosePorts = {
      registry: {
        async stopRun(run) {
          stops.push(run);
          return {
            status: 'STOPPED',
            was_active: stops.length === 1,
            stopped_at_utc: '2026-12-07T10:00:00.000Z',
          };
        },
      },
      runScopeRows: async () => rows[Math.min(reads++, rows.length - 1)] ?? {},
      evidence: store,
      now: () => new Date('2026-12-07T10:00:00Z'),
    };
    return { ports, objects, stops };
  }

  it('stop: the run STOPPED and scoped off, its rows counted; check: nothing more written ⇒ DONE with evidence', async () => {
    const { ports, objects, stops } = closePorts([{ ig_admissions: 10, df_metrics: 40 }]);
    const stopped = await stopRun({ action: 'stop', platform_run_id: RUN }, ports);
    expect(stopped).toMatchObject({
      status: 'STOPPED',
      was_active: true,
      rows_at_stop: { ig_admissions: 10, df_metrics: 40 },
    });
    const checked = await checkRunClosed(
      {
        action: 'check',
        platform_run_id: RUN,
        rows_at_stop: stopped.rows_at_stop,
        stopped_at_utc: stopped.stopped_at_utc,
      },
      ports,
    );
    expect(checked).toMatchObject({ done: true, written_after_stop: [] });
    expect(stops).toEqual([RUN]);
    expect(JSON.parse(objects.get(`${RUN}/lifecycle/P12_DONE.json`) ?? '{}')).toMatchObject({
      status: 'PASS',
      run_record: 'STOPPED',
    });
  });

  it('a row written to the run scope after the stop fails the gate, naming the table and how many', async () => {
    const { ports } = closePorts([
      { ig_admissions: 10, df_metrics: 40 },
      { ig_admissions: 12, df_metrics: 40 },
    ]);
    const stopped = await stopRun({ action: 'stop', platform_run_id: RUN }, ports);
    const checked = await checkRunClosed(
      {
        action: 'check',
        platform_run_id: RUN,
        rows_at_stop: stopped.rows_at_stop,
        stopped_at_utc: stopped.stopped_at_utc,
      },
      ports,
    );
    expect(checked).toMatchObject({ done: false, written_after_stop: ['ig_admissions:+2'] });
    expect(checked.summary).toBe('RUN_SCOPE_STILL_WRITTEN: ig_admissions:+2');
  });

  it('the task answers both actions and refuses others', async () => {
    const { ports } = closePorts([{ a: 1 }]);
    expect(await closeRun({ action: 'stop', platform_run_id: RUN }, ports)).toMatchObject({
      status: 'STOPPED',
    });
    await expect(closeRun({ action: 'delete', platform_run_id: RUN }, ports)).rejects.toThrow();
  });

  it('rowsWrittenSince covers tables on either side', () => {
    expect(rowsWrittenSince({ a: 1, b: 2 }, { a: 1, c: 3 })).toEqual(['b:-2', 'c:+3']);
  });
});
