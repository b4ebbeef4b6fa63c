import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { PlatformDependencies } from '../../../lib/adapters/platform-dependencies.ts';
import { caseReportReads, runReporterPorts } from '../../../lib/adapters/run-reporter-dependencies.ts';
import { EVIDENCE_PHASES, runReportSources } from '../../../lib/adapters/run-reporter-sources.ts';
import type { CaseStore } from '../../../lib/case-management/ports.ts';
import { PlatformRunReport } from '../../../lib/contracts/run-report.ts';
import type { PlatformEnvironment } from '../../../lib/runtime/config.ts';
import { scriptedPool } from '../../support/scripted-pool.ts';

/**
 * The run report's sources (lib/adapters/run-reporter-sources.ts) on a scripted pool and an in-memory bucket: the blocks
 * built from the phase evidence the gates wrote and IG's receipts; the SQL itself runs in the Gate runs of the
 * integration tier (test/integration/run-lifecycle).
 */

const RUN = 'platform_20261207T100000Z';
const BUCKET = 'fraud-platform';

function bucket(objects: Record<string, unknown>) {
  const puts: { key: string; body: string; type?: string }[] = [];
  const s3 = {
    async send(command: unknown) {
      if (command instanceof GetObjectCommand || command instanceof HeadObjectCommand) {
        const key = command.input.Key ?? '';
        if (key.includes('denied'))
          throw Object.assign(new Error('denied'), { $metadata: { httpStatusCode: 403 } });
        if (!(key in objects))
          throw Object.assign(new Error('NoSuchKey'), {
            name: 'NoSuchKey',
            $metadata: { httpStatusCode: 404 },
          });
        const text =
          typeof objects[key] === 'string' ? (objects[key] as string) : JSON.stringify(objects[key]);
        return { Body: { transformToString: async () => text } };
      }
      if (command instanceof PutObjectCommand) {
        puts.push({
          key: command.input.Key ?? '',
          body: String(command.input.Body),
          type: command.input.ContentType,
        });
        return {};
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  } as unknown as S3Client;
  return { s3, puts };
}

const evidence = (phase: string) => `${RUN}/lifecycle/${phase}.json`;
const projector = (health: string, counts: Record<string, number>) => ({
  health_state: health,
  health_reasons: health === 'GREEN' ? [] : ['LAG'],
  counts,
  documents: { health: `s3://${BUCKET}/${RUN}/x/health.json` },
  topics: [{ topic: 't', admitted: 4, accounted: 4 }],
});

const OBJECTS: Record<string, unknown> = {
  [evidence('P7_INGEST_COMMITTED')]: {
    status: 'PASS',
    problems: [],
    scenario_run_id: 'a'.repeat(32),
    outputs: [
      { output_id: 'o1', emitted: 3, events: 3 },
      { output_id: 'o2', emitted: 2, events: 2 },
    ],
  },
  [evidence('P8_RTDL_CAUGHT_UP')]: {
    projectors: {
      'archive-writer': projector('GREEN', { seen: 9, applied: 8, duplicate: 1, failed: 0 }),
      'identity-graph': projector('GREEN', { seen: 5, duplicate: 1, failed: 0 }),
      'online-features': projector('AMBER', { seen: 7, duplicate: 2, failed: 1 }),
      'context-store': projector('GREEN', { seen: 3, failed: 2 }),
    },
  },
  [evidence('P9_DECISION_CHAIN_COMMITTED')]: {
    counts: {
      intents_admitted: 2,
      outcomes_admitted: 1,
      decision_log_health: 'GREEN',
      lineage_unresolved: 0,
      decisions: 2,
    },
  },
  [evidence('P10_CASE_LABELS_COMMITTED')]: {
    counts: {
      triggers_expected: 2,
      triggers_admitted: 2,
      triggers_taken_in: 2,
      cases_created: 1,
      timeline_events: 6,
      labels_pending: 0,
      labels_accepted: 2,
      labels_rejected: 0,
      anomalies_total: 0,
      label_store_by_source: { AUTO: 2, EXTERNAL: 3 },
      health: { case_trigger: 'GREEN', case_management: 'GREEN', label_store: 'RED' },
    },
  },
  [`${RUN}/decision_fabric/quality.json`]: {
    platform_run_id: RUN,
    flows: 2,
    decisions: 2,
    decisions_by_action: { ALLOW: 1, DECLINE: 1 },
    flows_decided: 2,
    flows_undecided: 0,
    flows_flagged: 1,
    confusion: { true_positive: 1, false_positive: 0, false_negative: 0, true_negative: 1 },
    precision: 1,
    recall_fraud: 1,
    by_label: { FRAUD: { flows: 1, flagged: 1, recall: 1 } },
    latency_ms: { p50: 10, p99: 20, max: 20, measured: 2 },
  },
};

function pool() {
  return scriptedPool((sql) => {
    if (sql.includes('FROM ig_receipts'))
      return {
        rows: [
          { event_type: 's3_event_stream_with_fraud_6B', decision: 'ADMIT', n: '5' },
          { event_type: 'decision_response', decision: 'ADMIT', n: '2' },
          { event_type: 'action_outcome', decision: 'ADMIT', n: '1' },
          { event_type: 'dla.audit_record.v1', decision: 'ADMIT', n: '2' },
          { event_type: 's3_event_stream_with_fraud_6B', decision: 'QUARANTINE', n: '1' },
        ],
      };
    if (sql.includes("state = 'PUBLISH_PENDING'")) return { rows: [{ n: '0' }] };
    if (sql.includes('FROM df_metrics'))
      return {
        rows: [
          { metric_name: 'decisions_total', value: '2' },
          { metric_name: 'missing_context_total', value: '1' },
        ],
      };
    if (sql.includes('FROM al_metrics')) return { rows: [{ metric_name: 'executed_total', value: '1' }] };
    if (sql.includes('FROM dl_current_posture')) return { rows: [{ mode: 'DEGRADED_1' }] };
    if (sql.includes("'ingress' AS plane"))
      return {
        rows: [
          { plane: 'ingress', second: '1800000000', n: '4' },
          { plane: 'cases', second: '1800000003', n: '1' },
        ],
      };
    return undefined;
  });
}

const noCases = { topCases: async () => [] };

describe('run report sources', () => {
  it('builds every block from the phase evidence and the receipts', async () => {
    const { s3 } = bucket(OBJECTS);
    const p = pool();
    const blocks = await runReportSources(s3, BUCKET, async () => p.pool, noCases).blocks(RUN);
    expect(blocks.scenario_run_ids).toEqual(['a'.repeat(32)]);
    expect(blocks.ingress).toEqual({
      sent: 5,
      received: 5,
      admit: 10,
      duplicate: 0,
      quarantine: 1,
      publish_ambiguous: 0,
      receipt_write_failed: 0,
    });
    expect(blocks.rtdl).toEqual({
      inlet_seen: 7,
      deduped: 3,
      degraded: 3,
      decision: 2,
      outcome: 1,
      audit_append: 2,
    });
    expect(blocks.archive).toMatchObject({
      summary: { seen: 9, archived: 8, duplicate: 1, payload_mismatch: 0 },
      health_state: 'GREEN',
      reconciliation_totals: { admitted: 4, accounted: 4 },
    });
    const health = Object.fromEntries(blocks.components.map((c) => [c.component, c.health]));
    expect(health).toEqual({
      'ingestion-gate': 'AMBER',
      'world-streamer': 'GREEN',
      'archive-writer': 'GREEN',
      'identity-graph': 'GREEN',
      'online-features': 'AMBER',
      'context-store': 'GREEN',
      'degrade-ladder': 'AMBER',
      'decision-fabric': 'AMBER',
      'action-layer': 'AMBER',
      'decision-log': 'GREEN',
      'case-trigger': 'GREEN',
      'case-management': 'GREEN',
      'label-store': 'RED',
    });
    expect(blocks.case_labels.summary).toMatchObject({
      triggers_expected: 2,
      triggers_seen: 2,
      cases_created: 1,
    });
    expect(blocks.case_labels.labels_by_source).toEqual({ AUTO: 2, EXTERNAL: 3 });
    expect(blocks.decision_quality?.precision).toBe(1);
    expect(blocks.evidence_refs.map((e) => e.name)).toEqual(
      expect.arrayContaining(['P7_INGEST_COMMITTED', 'decision_quality', 'archive-writer health']),
    );
    // The blocks fit the report's schema once the time views are added.
    expect(() =>
      PlatformRunReport.parse({
        schema: 'platform_run_report.v1',
        generated_at_utc: 'now',
        platform_run_id: RUN,
        ...blocks,
        phases: [],
        rates: { started_at_utc: null, bucket_seconds: 1, series: [] },
        basis: {
          provenance: { service_release_id: 'x', environment: 'y' },
          evidence_ref_resolution: { attempted: 0, resolved: 0, denied: 0 },
        },
      }),
    ).not.toThrow();
  });

  it('without evidence every component it feeds is UNKNOWN and nothing is invented', async () => {
    const { s3 } = bucket({});
    const p = scriptedPool();
    const blocks = await runReportSources(s3, BUCKET, async () => p.pool, noCases).blocks(RUN);
    expect(blocks.ingress.sent).toBe(0);
    expect(blocks.decision_quality).toBeNull();
    const unknown = blocks.components.filter((c) => c.health === 'UNKNOWN').map((c) => c.component);
    expect(unknown).toEqual(
      expect.arrayContaining([
        'world-streamer',
        'archive-writer',
        'degrade-ladder',
        'decision-log',
        'label-store',
      ]),
    );
    expect(blocks.evidence_refs).toEqual([]);
  });

  it('plane counts: one query for the four planes, scoped to the run and its online-features stream', async () => {
    const p = pool();
    const counts = await runReportSources(bucket({}).s3, BUCKET, async () => p.pool, noCases).planeCounts(
      RUN,
    );
    expect(counts).toEqual([
      { plane: 'ingress', second: 1_800_000_000, n: 4 },
      { plane: 'cases', second: 1_800_000_003, n: 1 },
    ]);
    expect(p.calls[0]?.params).toEqual([RUN, `ofp.v0::${RUN}`]);
    expect(EVIDENCE_PHASES).toContain('P10_CASE_LABELS_COMMITTED');
  });
});

describe('run reporter ports', () => {
  const env = { PLATFORM_BUCKET: BUCKET } as PlatformEnvironment;
  const provenance = { service_release_id: 'dev-local', environment: 'test' };

  function deps(objects: Record<string, unknown>, locked = true) {
    const { s3, puts } = bucket(objects);
    const p = scriptedPool((sql) =>
      sql.includes('pg_try_advisory_lock') ? { rows: [{ locked }] } : undefined,
    );
    const d = {
      s3,
      pool: async () => p.pool,
      endpoints: { region: 'us-east-1' },
    } as unknown as PlatformDependencies;
    return { d, puts, p };
  }

  it('puts documents, resolves refs (found, missing, denied, invalid) and holds the lock while working', async () => {
    const { d, puts, p } = deps({ [`${RUN}/lifecycle/P7.json`]: {} });
    const ports = runReporterPorts(env, d, noCases, provenance);
    expect(await ports.objects.put(`${RUN}/obs/x.json`, '{}', 'application/json')).toBe(
      `s3://${BUCKET}/${RUN}/obs/x.json`,
    );
    expect(puts).toEqual([{ key: `${RUN}/obs/x.json`, body: '{}', type: 'application/json' }]);
    expect(await ports.objects.resolve(`s3://${BUCKET}/${RUN}/lifecycle/P7.json`)).toBe('RESOLVED');
    expect(await ports.objects.resolve(`s3://${BUCKET}/${RUN}/lifecycle/P99.json`)).toBe('REF_NOT_FOUND');
    expect(await ports.objects.resolve(`s3://${BUCKET}/${RUN}/denied.json`)).toBe('REF_ACCESS_DENIED');
    expect(await ports.objects.resolve('nope')).toBe('REF_INVALID');
    expect(await ports.singleWriter(RUN, async () => 'done')).toBe('done');
    expect(p.sqlOf('pg_advisory_unlock')).toHaveLength(1);
    expect(await ports.sources.history(undefined)).toEqual([]);
    expect(ports.sources.provenance()).toEqual(provenance);
    const conformance = ports.conformanceInputs();
    expect(conformance.stages.map((s) => s.stage)).toEqual(['dev', 'local', 'localstack', 'prod']);
    expect(conformance.topics).toContain('fp.bus.case.v1');
    expect(conformance.policies.every((x) => x.revision)).toBe(true);
    expect((await ports.pageAssets()).chartJs.length).toBeGreaterThan(1000);
  });

  it('another writer holding the lock: the work is not done', async () => {
    const { d } = deps({}, false);
    const ports = runReporterPorts(env, d, noCases, provenance);
    let ran = false;
    expect(
      await ports.singleWriter(RUN, async () => {
        ran = true;
      }),
    ).toBeUndefined();
    expect(ran).toBe(false);
  });

  it('top cases: the most triggered of the latest, with their timelines', async () => {
    const summary = (id: string, triggers: number, at: string) => ({
      case_id: id,
      case_subject_key: { platform_run_id: RUN, event_class: 'traffic_fraud', event_id: `e-${id}` },
      trigger_count: triggers,
      first_observed_time: at,
      last_observed_time: at,
      created_at_utc: at,
      label_status: 'ACCEPTED' as const,
    });
    const store = {
      listCases: async () => ({
        platform_run_id: RUN,
        cases: [
          summary('a', 1, '2026-12-07T10:00:00.000000Z'),
          summary('b', 3, '2026-12-07T10:00:01.000000Z'),
          summary('c', 1, '2026-12-07T10:00:02.000000Z'),
        ],
        next_cursor: null,
      }),
      caseView: async (id: string) =>
        id === 'b'
          ? {
              case: summary('b', 3, '2026-12-07T10:00:01.000000Z'),
              timeline: [
                {
                  case_timeline_event_id: 'f'.repeat(32),
                  case_id: 'b',
                  timeline_event_type: 'CASE_TRIGGERED' as const,
                  source_ref_id: 'trigger',
                  observed_time: '2026-12-07T10:00:01.000000Z',
                  payload: {},
                  payload_hash: '0'.repeat(64),
                  recorded_at_utc: '2026-12-07T10:00:02.000000Z',
                },
              ],
            }
          : undefined,
    } as unknown as CaseStore;
    const top = await caseReportReads(store).topCases(RUN, 2);
    expect(top.map((c) => [c.case_id, c.trigger_count, c.timeline.length])).toEqual([
      ['b', 3, 1],
      ['c', 1, 0],
    ]);
    expect(top[0]?.timeline[0]).toEqual({
      type: 'CASE_TRIGGERED',
      at_utc: '2026-12-07T10:00:02.000000Z',
      source_ref_id: 'trigger',
    });
  });
});
