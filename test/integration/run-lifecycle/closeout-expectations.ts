import { GetObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { expect } from 'vitest';
import type { StackState } from '../../../local/stack.ts';
import { clientsFor } from '../../support/clients.ts';

const readJson = async (state: StackState, key: string) => {
  const { s3 } = clientsFor(state);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'fraud-platform', Key: key }));
  return JSON.parse((await got.Body?.transformToString()) ?? '{}');
};

/**
 * P10–P12 (the Gate runs escalate every decision: global-setup.ts): one case trigger, case and accepted AUTO label per
 * traffic event, the case plane GREEN; the run report (JSON and page) with every closeout gate, conformance PASS,
 * governance appended; the run STOPPED and no longer the active run, nothing written to its scope after.
 */
export async function expectRunClosed(
  state: StackState,
  output: {
    platform_run_id: string;
    case_labels: unknown;
    report: unknown;
    evidence: Record<string, string>;
  },
  traffic: number,
) {
  const run = output.platform_run_id;
  const { s3 } = clientsFor(state);
  expect(output.case_labels).toMatchObject({
    triggers_expected: traffic,
    triggers_admitted: traffic,
    triggers_taken_in: traffic,
    cases_created: traffic,
    labels_pending: 0,
    labels_accepted: traffic,
    labels_rejected: 0,
    health: { case_trigger: 'GREEN', case_management: 'GREEN', label_store: 'GREEN' },
  });
  expect(
    (output.case_labels as { label_store_by_source: Record<string, number> }).label_store_by_source.AUTO,
  ).toBe(traffic);
  expect(await readJson(state, `${run}/lifecycle/P10_CASE_LABELS_COMMITTED.json`)).toMatchObject({
    status: 'PASS',
    missing: [],
  });
  const report = await readJson(state, `${run}/obs/platform_run_report.json`);
  expect(report).toMatchObject({
    platform_run_id: run,
    ingress: { publish_ambiguous: 0 },
    case_labels: { summary: { triggers_seen: traffic, cases_created: traffic, labels_accepted: traffic } },
  });
  expect(report.ingress.admit).toBeGreaterThan(0);
  expect(report.rtdl.decision).toBeGreaterThanOrEqual(report.rtdl.outcome);
  for (const c of report.components as { component: string; health: string }[])
    if (!['degrade-ladder', 'ingestion-gate', 'world-streamer'].includes(c.component))
      expect(c.health, c.component).toBe('GREEN');
  expect(report.phases.map((p: { phase: string }) => p.phase)).toHaveLength(13);
  expect(output.report).toMatchObject({ cases: traffic, labels_accepted: traffic });
  const conformance = await readJson(state, `${run}/obs/environment_conformance.json`);
  expect(conformance.status).toBe('PASS');
  const page = await s3.send(
    new GetObjectCommand({ Bucket: 'fraud-platform', Key: `${run}/obs/platform_run_report.html` }),
  );
  expect(await page.Body?.transformToString()).toContain(`"platform_run_id":"${run}"`);
  const governance = await s3.send(
    new GetObjectCommand({ Bucket: 'fraud-platform', Key: `${run}/obs/governance/events.jsonl` }),
  );
  const families = ((await governance.Body?.transformToString()) ?? '')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).event_family);
  expect(families).toEqual(
    expect.arrayContaining(['RUN_REPORT_GENERATED', 'EVIDENCE_REF_RESOLVED', 'RUN_ENDED']),
  );
  expect(await readJson(state, `${run}/lifecycle/P12_DONE.json`)).toMatchObject({
    status: 'PASS',
    run_record: 'STOPPED',
    written_after_stop: [],
  });
  const db = new pg.Client({ connectionString: state.databaseUrl });
  await db.connect();
  try {
    const record = await db.query(
      'SELECT status, stopped_at_utc FROM platform_runs WHERE platform_run_id = $1',
      [run],
    );
    expect(record.rows[0]?.status).toBe('STOPPED');
    const active = await db.query('SELECT platform_run_id FROM active_run');
    expect(active.rows[0]?.platform_run_id).not.toBe(run);
  } finally {
    await db.end();
  }
}
