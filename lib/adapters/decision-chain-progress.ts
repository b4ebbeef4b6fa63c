import { decisionLogStreamId } from '../contracts/decision-log.ts';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import {
  collectDecisionLogObservability,
  type DecisionLogHealthThresholds,
} from '../decision-log/observability.ts';
import type { DecisionChainCounts, DecisionChainPorts } from '../run-lifecycle/decision-chain.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { DECISION_FABRIC_STREAM_BASE } from './decision-fabric-dependencies.ts';
import { postgresDecisionLogStore } from './decision-log-stores.ts';
import { s3PhaseEvidenceStore } from './phase-evidence-store.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';

/**
 * P9 ports: what IG admitted for the run per event type (ig_admissions), the decision fabric's ledger (df_decisions:
 * distinct decided events, decisions) and counters (df_metrics), the decision log's lineage and health (its own
 * observability code over its tables), read from Postgres so the gate works the same on AWS.
 */

export function decisionChainPorts(
  env: PlatformEnvironment,
  deps: PlatformDependencies,
  decisionLogThresholds: DecisionLogHealthThresholds,
): DecisionChainPorts {
  return {
    async counts(platformRunId): Promise<DecisionChainCounts> {
      const pool = await deps.pool();
      const [admitted, decided, metrics] = await Promise.all([
        pool.query<{ event_type: string; n: string }>(
          `SELECT event_type, count(*)::text AS n FROM ig_admissions
           WHERE platform_run_id = $1 AND state = 'ADMITTED' AND event_type = ANY($2::text[]) GROUP BY 1`,
          [
            platformRunId,
            ['s3_event_stream_with_fraud_6B', 'decision_response', 'action_intent', 'action_outcome'],
          ],
        ),
        pool.query<{ events: string; decisions: string }>(
          `SELECT count(DISTINCT source_event_id)::text AS events, count(*)::text AS decisions
           FROM df_decisions WHERE platform_run_id = $1 AND published`,
          [platformRunId],
        ),
        pool.query<{ metric_name: string; value: string }>(
          'SELECT metric_name, value::text AS value FROM df_metrics WHERE stream_id = $1 ORDER BY metric_name',
          [consumerCheckpointScope(DECISION_FABRIC_STREAM_BASE, platformRunId)],
        ),
      ]);
      const byType = new Map(admitted.rows.map((r) => [r.event_type, Number(r.n)]));
      const log = await collectDecisionLogObservability(
        postgresDecisionLogStore(pool, decisionLogStreamId(platformRunId)),
        {
          platformRunId,
          scope: { platformRunId },
          thresholds: decisionLogThresholds,
          thresholdPolicyRef: 'decision_log_audit.health.v0',
          recentAttempts: 0,
          now: new Date(),
        },
      );
      return {
        traffic_admitted: byType.get('s3_event_stream_with_fraud_6B') ?? 0,
        decided_events: Number(decided.rows[0]?.events ?? 0),
        decisions: Number(decided.rows[0]?.decisions ?? 0),
        decisions_admitted: byType.get('decision_response') ?? 0,
        intents_admitted: byType.get('action_intent') ?? 0,
        outcomes_admitted: byType.get('action_outcome') ?? 0,
        lineage_unresolved: log.metrics.lineage_unresolved_total,
        decision_log_health: log.state,
        fabric_metrics: Object.fromEntries(metrics.rows.map((r) => [r.metric_name, Number(r.value)])),
      };
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
    now: () => new Date(),
  };
}
