import { decisionLogDependencies } from '../../lib/adapters/decision-log-dependencies.ts';
import { decisionLogStreamId } from '../../lib/contracts/decision-log.ts';
import { DEFAULT_DECISION_LOG_SETTINGS, intakeDecisionLogBatch } from '../../lib/decision-log/intake.ts';
import { publishDecisionLogReport } from '../../lib/decision-log/observability.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import {
  decisionLogEnvironment,
  decisionLogHealthThresholds,
} from '../../lib/runtime/decision-log-config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { projectorTaskHandler } from '../../lib/runtime/edge/projector-task.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const config = projectorConfig('decision-log');
const deps = decisionLogDependencies(platformEnvironment(), decisionLogEnvironment(), config, {
  timeoutMs: 10_000,
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
});
const thresholds = decisionLogHealthThresholds(config);
const service = 'decision-log';

/**
 * decision-log (downstream.md §3.4, with the audit records and events the reference lacks): the rtdl topic's mapping —
 * inlet, replay observations, candidates, lineage chains, and one audit record per resolved chain (segment in S3,
 * event on fp.bus.audit.v1), one transaction per batch. A REPLAY_DIVERGENCE stops the shard at that record (it and
 * the rest are reported failed, the mapping redelivers them). As a task, `{action: report}`: metrics, health and
 * reconciliation documents under `<run>/decision_log_audit/`.
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const { platformRunId, ports } = await deps.portsFor();
    const result = await intakeDecisionLogBatch(ports, records, {
      ...DEFAULT_DECISION_LOG_SETTINGS,
      requiredPlatformRunId: platformRunId,
    });
    return result.blocked === null ? undefined : { failFrom: result.blocked.index };
  }, deps.busOptions(service)),
  task: projectorTaskHandler({
    service,
    invalid: 'DECISION_LOG_REQUEST_INVALID',
    report: async (platformRunId) => {
      const store = await deps.storeFor(decisionLogStreamId(platformRunId));
      return publishDecisionLogReport(
        { storeFor: () => store, documents: deps.documents, now: () => new Date() },
        platformRunId,
        thresholds,
      );
    },
  }),
});
