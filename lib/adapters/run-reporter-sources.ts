import type { S3Client } from '@aws-sdk/client-s3';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import type { ComponentHealth, HealthState, ReportCase } from '../contracts/run-report.ts';
import { DecisionQualityBlock } from '../contracts/run-report.ts';
import type { ReportBlocks } from '../run-reporter/ports.ts';
import type { PlaneCount } from '../run-reporter/timeline.ts';
import type { Pool } from './postgres/pool.ts';
import { getObjectText, s3Uri } from './s3-objects.ts';

/**
 * Where the run report's blocks come from: the phase evidence the lifecycle wrote for the run (P7's outputs, P8's
 * projector reports, P9's decision chain, P10's case plane — each the component's own counts and health, as the gate
 * saw them), the decision quality document, and a few counts from Postgres (IG's receipts by decision, the decision
 * fabric's counters, the action layer's, the degrade ladder's posture, the case timelines).
 */

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const num = (v: unknown): number =>
  typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.round(v)) : 0;
const health = (v: unknown): HealthState => (v === 'GREEN' || v === 'AMBER' || v === 'RED' ? v : 'UNKNOWN');

export const EVIDENCE_PHASES = [
  'P2_DAEMONS_READY',
  'P3_ORACLE_READY',
  'P4_INGEST_READY',
  'P6_STREAMING_ACTIVE',
  'P7_INGEST_COMMITTED',
  'P8_RTDL_CAUGHT_UP',
  'P9_DECISION_CHAIN_COMMITTED',
  'P10_CASE_LABELS_COMMITTED',
] as const;

/** Case-plane reads the report needs (case management's store answers them). */
export interface ReportCaseReads {
  topCases(platformRunId: string, limit: number): Promise<ReportCase[]>;
}

async function readJson(s3: S3Client, bucket: string, key: string): Promise<Json | undefined> {
  const text = await getObjectText(s3, bucket, key);
  return text === undefined ? undefined : obj(parseJsonLossless(text));
}

/** The 0/AMBER/RED of a count against two thresholds. */
const ladder = (n: number, amber: number, red: number): HealthState =>
  n >= red ? 'RED' : n >= amber ? 'AMBER' : 'GREEN';

export function runReportSources(
  s3: S3Client,
  bucket: string,
  pool: () => Promise<Pool>,
  cases: ReportCaseReads,
) {
  return {
    async blocks(run: string): Promise<ReportBlocks> {
      const evidence = new Map<string, Json>();
      await Promise.all(
        EVIDENCE_PHASES.map(async (phase) => {
          const doc = await readJson(s3, bucket, `${run}/lifecycle/${phase}.json`);
          if (doc) evidence.set(phase, doc);
        }),
      );
      const qualityDoc = await readJson(s3, bucket, `${run}/decision_fabric/quality.json`);
      const quality = DecisionQualityBlock.safeParse(
        qualityDoc
          ? Object.fromEntries(Object.entries(qualityDoc).filter(([k]) => k in DecisionQualityBlock.shape))
          : undefined,
      );
      const db = await pool();
      const [receipts, pending, df, al, posture] = await Promise.all([
        db.query<{ event_type: string; decision: string; n: string }>(
          `SELECT event_type, decision, count(*)::text AS n FROM ig_receipts WHERE platform_run_id = $1 GROUP BY 1, 2`,
          [run],
        ),
        db.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ig_admissions WHERE platform_run_id = $1 AND state = 'PUBLISH_PENDING'`,
          [run],
        ),
        db.query<{ metric_name: string; value: string }>(
          'SELECT metric_name, value::text AS value FROM df_metrics WHERE stream_id = $1',
          [consumerCheckpointScope('df.v0', run)],
        ),
        db.query<{ metric_name: string; value: string }>(
          'SELECT metric_name, value::text AS value FROM al_metrics WHERE stream_id = $1',
          [consumerCheckpointScope('al.v0', run)],
        ),
        db.query<{ mode: string }>('SELECT mode FROM dl_current_posture WHERE stream_id = $1 LIMIT 1', [
          consumerCheckpointScope('dl.v0', run),
        ]),
      ]);
      const byDecision: Record<string, number> = {};
      const admittedByType: Record<string, number> = {};
      for (const r of receipts.rows) {
        byDecision[r.decision] = (byDecision[r.decision] ?? 0) + Number(r.n);
        if (r.decision === 'ADMIT') admittedByType[r.event_type] = Number(r.n);
      }
      const metrics = (rows: { metric_name: string; value: string }[]) =>
        Object.fromEntries(rows.map((r) => [r.metric_name, Number(r.value)]));
      const dfm = metrics(df.rows);
      const alm = metrics(al.rows);

      const p7 = evidence.get('P7_INGEST_COMMITTED') ?? {};
      const outputs = Array.isArray(p7.outputs) ? p7.outputs.map(obj) : [];
      const sent = outputs.reduce((s, o) => s + num(o.emitted), 0);
      const received = outputs.reduce((s, o) => s + num(o.events), 0);
      const projectors = obj(evidence.get('P8_RTDL_CAUGHT_UP')?.projectors);
      const projector = (name: string) => obj(projectors[name]);
      const counts = (name: string) => obj(projector(name).counts);
      const p9 = obj(evidence.get('P9_DECISION_CHAIN_COMMITTED')?.counts);
      const p10 = obj(evidence.get('P10_CASE_LABELS_COMMITTED')?.counts);
      const p10health = obj(p10.health);
      const bySource = obj(p10.label_store_by_source);

      const components: ComponentHealth[] = [];
      const quarantined = byDecision.QUARANTINE ?? 0;
      components.push({
        component: 'ingestion-gate',
        health: num(pending.rows[0]?.n) > 0 ? 'AMBER' : ladder(quarantined, 1, 10),
        reasons: [
          ...(quarantined > 0 ? [`QUARANTINED:${quarantined}`] : []),
          ...(num(pending.rows[0]?.n) > 0 ? [`PUBLISH_PENDING:${pending.rows[0]?.n}`] : []),
        ],
        counts: {
          admit: byDecision.ADMIT ?? 0,
          duplicate: byDecision.DUPLICATE ?? 0,
          quarantine: quarantined,
        },
      });
      components.push({
        component: 'world-streamer',
        health: p7.status === 'PASS' ? 'GREEN' : p7.status === undefined ? 'UNKNOWN' : 'RED',
        reasons: Array.isArray(p7.problems) ? p7.problems.map(String) : [],
        counts: { sent, received, outputs: outputs.length },
      });
      for (const name of ['archive-writer', 'identity-graph', 'online-features', 'context-store']) {
        const p = projector(name);
        components.push({
          component: name,
          health: health(p.health_state),
          reasons: Array.isArray(p.health_reasons) ? p.health_reasons.map(String) : [],
          counts: Object.fromEntries(Object.entries(counts(name)).map(([k, v]) => [k, num(v)])),
        });
      }
      const mode = posture.rows[0]?.mode;
      components.push({
        component: 'degrade-ladder',
        health:
          mode === undefined
            ? 'UNKNOWN'
            : mode === 'NORMAL'
              ? 'GREEN'
              : mode === 'FAIL_CLOSED'
                ? 'RED'
                : 'AMBER',
        reasons: mode === undefined ? ['NO_POSTURE'] : [`MODE:${mode}`],
        counts: {},
      });
      const dfAnomalies = num(dfm.payload_mismatch_total) + num(dfm.publish_quarantine_total);
      const dfDegraded = num(dfm.fail_closed_total) + num(dfm.missing_context_total);
      components.push({
        component: 'decision-fabric',
        health: dfAnomalies > 0 ? 'RED' : ladder(dfDegraded, 1, 100),
        reasons: [
          ...(dfAnomalies > 0 ? [`ANOMALIES:${dfAnomalies}`] : []),
          ...(dfDegraded > 0 ? [`DEGRADED_DECISIONS:${dfDegraded}`] : []),
        ],
        counts: {
          decisions: num(dfm.decisions_total),
          missing_context: num(dfm.missing_context_total),
          fail_closed: num(dfm.fail_closed_total),
        },
      });
      const intents = num(p9.intents_admitted);
      const outcomes = num(p9.outcomes_admitted);
      components.push({
        component: 'action-layer',
        health: intents === outcomes ? 'GREEN' : 'AMBER',
        reasons: intents === outcomes ? [] : [`OUTCOMES_BEHIND:${intents - outcomes}`],
        counts: {
          intake: intents,
          outcomes,
          ...Object.fromEntries(Object.entries(alm).map(([k, v]) => [k, num(v)])),
        },
      });
      components.push({
        component: 'decision-log',
        health: health(p9.decision_log_health),
        reasons: [],
        counts: { lineage_unresolved_total: num(p9.lineage_unresolved), decisions: num(p9.decisions) },
      });
      const caseCounts = {
        triggers_expected: num(p10.triggers_expected),
        triggers_seen: num(p10.triggers_admitted),
        cases_created: num(p10.cases_created),
        labels_pending: num(p10.labels_pending),
        labels_accepted: num(p10.labels_accepted),
        labels_rejected: num(p10.labels_rejected),
        anomalies_total: num(p10.anomalies_total),
      };
      components.push(
        {
          component: 'case-trigger',
          health: health(p10health.case_trigger),
          reasons: [],
          counts: {
            triggers_expected: num(p10.triggers_expected),
            triggers_admitted: caseCounts.triggers_seen,
          },
        },
        {
          component: 'case-management',
          health: health(p10health.case_management),
          reasons: [],
          counts: {
            triggers_taken_in: num(p10.triggers_taken_in),
            cases_created: caseCounts.cases_created,
            timeline_events: num(p10.timeline_events),
          },
        },
        {
          component: 'label-store',
          health: health(p10health.label_store),
          reasons: [],
          counts: Object.fromEntries(Object.entries(bySource).map(([k, v]) => [`assertions_${k}`, num(v)])),
        },
      );

      const aw = counts('archive-writer');
      const awTopics = Array.isArray(projector('archive-writer').topics)
        ? (projector('archive-writer').topics as unknown[]).map(obj)
        : [];
      const iegCounts = counts('identity-graph');
      const ofpCounts = counts('online-features');
      const csfbCounts = counts('context-store');
      const evidenceRefs = [...evidence.keys()].map((phase) => ({
        name: phase,
        ref: s3Uri(bucket, `${run}/lifecycle/${phase}.json`),
      }));
      if (qualityDoc)
        evidenceRefs.push({
          name: 'decision_quality',
          ref: s3Uri(bucket, `${run}/decision_fabric/quality.json`),
        });
      for (const name of ['archive-writer', 'identity-graph', 'online-features', 'context-store'])
        for (const [doc, ref] of Object.entries(obj(projector(name).documents)))
          if (typeof ref === 'string') evidenceRefs.push({ name: `${name} ${doc}`, ref });
      return {
        scenario_run_ids: typeof p7.scenario_run_id === 'string' ? [p7.scenario_run_id] : [],
        ingress: {
          sent,
          received,
          admit: byDecision.ADMIT ?? 0,
          duplicate: byDecision.DUPLICATE ?? 0,
          quarantine: quarantined,
          publish_ambiguous: num(pending.rows[0]?.n),
          // IG writes a receipt in the request that admits: a failed write fails the request, never a silent gap.
          receipt_write_failed: 0,
        },
        rtdl: {
          inlet_seen: Math.max(num(iegCounts.seen), num(ofpCounts.seen)),
          deduped: num(iegCounts.duplicate) + num(ofpCounts.duplicate),
          degraded: num(iegCounts.failed) + num(ofpCounts.failed) + num(csfbCounts.failed),
          decision: admittedByType.decision_response ?? 0,
          outcome: admittedByType.action_outcome ?? 0,
          audit_append: admittedByType['dla.audit_record.v1'] ?? 0,
        },
        archive: {
          summary: {
            seen: num(aw.seen),
            archived: num(aw.applied),
            duplicate: num(aw.duplicate),
            payload_mismatch: num(aw.failed),
            write_error: 0,
          },
          health_state: health(projector('archive-writer').health_state),
          reconciliation_totals: {
            admitted: awTopics.reduce((s, t) => s + num(t.admitted), 0),
            accounted: awTopics.reduce((s, t) => s + num(t.accounted), 0),
          },
        },
        case_labels: {
          summary: caseCounts,
          health_states: {
            case_trigger: health(p10health.case_trigger),
            case_mgmt: health(p10health.case_management),
            label_store: health(p10health.label_store),
          },
          labels_by_source: Object.fromEntries(Object.entries(bySource).map(([k, v]) => [k, num(v)])),
        },
        components,
        decision_quality: quality.success ? quality.data : null,
        top_cases: await cases.topCases(run, 5),
        evidence_refs: evidenceRefs,
        artifact_refs: {
          report: s3Uri(bucket, `${run}/obs/platform_run_report.json`),
          page: s3Uri(bucket, `${run}/obs/platform_run_report.html`),
          conformance: s3Uri(bucket, `${run}/obs/environment_conformance.json`),
          governance: s3Uri(bucket, `${run}/obs/governance/events.jsonl`),
        },
      };
    },

    /** Per second: events IG admitted from the engine (ingress), applied by the online features (projectors), decisions admitted, case timeline rows. */
    async planeCounts(run: string): Promise<PlaneCount[]> {
      const db = await pool();
      const rows = await db.query<{ plane: PlaneCount['plane']; second: string; n: string }>(
        `SELECT 'ingress' AS plane, floor(extract(epoch FROM created_at))::bigint::text AS second, count(*)::text AS n
           FROM ig_admissions WHERE platform_run_id = $1
             AND event_type NOT IN ('decision_response', 'action_intent', 'action_outcome', 'case_trigger', 'dla.audit_record.v1')
           GROUP BY 2
         UNION ALL
         SELECT 'projectors', floor(extract(epoch FROM created_at_utc))::bigint::text, count(*)::text
           FROM ofp_applied_events WHERE stream_id = $2 GROUP BY 2
         UNION ALL
         SELECT 'decisions', floor(admitted_at_ms / 1000.0)::bigint::text, count(*)::text
           FROM df_decisions WHERE platform_run_id = $1 AND admitted_at_ms IS NOT NULL GROUP BY 2
         UNION ALL
         SELECT 'cases', floor(extract(epoch FROM created_at))::bigint::text, count(*)::text
           FROM ig_admissions WHERE platform_run_id = $1 AND event_type = 'case_trigger' GROUP BY 2`,
        [run, consumerCheckpointScope('ofp.v0', run)],
      );
      return rows.rows.map((r) => ({ plane: r.plane, second: Number(r.second), n: Number(r.n) }));
    },
  };
}
