import { caseManagementHealth } from '../case-management/observability.ts';
import { caseTriggerHealth } from '../case-trigger/observability.ts';
import type { EscalationMode } from '../case-trigger/triggers.ts';
import { caseTriggerStreamId } from '../contracts/case-trigger.ts';
import { labelStoreHealth, labelStoreMetrics } from '../label-store/observability.ts';
import type { CaseLabelsCounts, CaseLabelsPorts } from '../run-lifecycle/case-labels.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { postgresCaseStore } from './case-management-stores.ts';
import { postgresCaseTriggerStore } from './case-trigger-stores.ts';
import { postgresLabelStore } from './label-store-stores.ts';
import { s3PhaseEvidenceStore } from './phase-evidence-store.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';

/**
 * P10 ports: what should have become a case trigger (the decision fabric's ledger: decisions not ALLOW — every
 * decision when the case trigger escalates every one — and the action layer's FAILED / DENIED outcomes), what IG
 * admitted on the case topic, and each case-plane component's own counts and health from its own code over its tables.
 */

export function caseLabelsPorts(
  env: PlatformEnvironment,
  deps: PlatformDependencies,
  escalate: EscalationMode,
): CaseLabelsPorts {
  return {
    async counts(run): Promise<CaseLabelsCounts> {
      const pool = await deps.pool();
      const [expected, admitted, sources] = await Promise.all([
        pool.query<{ n: string }>(
          `SELECT ((SELECT count(*) FROM df_decisions WHERE platform_run_id = $1 AND published
                     AND ($2 = 'every_decision' OR action_kind <> 'ALLOW'))
                 + (SELECT count(*) FROM al_outcomes_append WHERE platform_run_id = $1 AND status IN ('FAILED', 'DENIED')))::text AS n`,
          [run, escalate],
        ),
        pool.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM ig_admissions
           WHERE platform_run_id = $1 AND event_type = 'case_trigger' AND state = 'ADMITTED'`,
          [run],
        ),
        pool.query<{ source_type: string; n: string }>(
          'SELECT source_type, count(*)::text AS n FROM ls_label_assertions WHERE platform_run_id = $1 GROUP BY 1',
          [run],
        ),
      ]);
      const cm = await postgresCaseStore(pool).counts(run);
      const ct = await postgresCaseTriggerStore(pool, caseTriggerStreamId(run)).metrics();
      const lsMetrics = await labelStoreMetrics(postgresLabelStore(pool), run);
      const cmHealth = caseManagementHealth(cm);
      return {
        triggers_expected: Number(expected.rows[0]?.n ?? 0),
        triggers_admitted: Number(admitted.rows[0]?.n ?? 0),
        triggers_taken_in: cm.case_triggers ?? 0,
        cases_created: cm.cases_created ?? 0,
        timeline_events: cm.timeline_events_appended ?? 0,
        labels_pending: cm.labels_pending ?? 0,
        labels_accepted: cm.labels_accepted ?? 0,
        labels_rejected: cm.labels_rejected ?? 0,
        anomalies_total: cmHealth.anomalies,
        label_store_by_source: Object.fromEntries(sources.rows.map((r) => [r.source_type, Number(r.n)])),
        health: {
          case_trigger: caseTriggerHealth(ct).health_state,
          case_management: cmHealth.health_state,
          label_store: labelStoreHealth(lsMetrics).health_state,
        },
      };
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
    now: () => new Date(),
  };
}
