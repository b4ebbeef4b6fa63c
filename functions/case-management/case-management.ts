import { caseManagementDependencies } from '../../lib/adapters/case-management-dependencies.ts';
import { retryPendingLabels, takeInCaseTriggers } from '../../lib/case-management/intake.ts';
import { publishCaseManagementReport } from '../../lib/case-management/observability.ts';
import { CaseManagementTask } from '../../lib/contracts/case-management.ts';
import { caseManagementEnvironment } from '../../lib/runtime/case-management-config.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const cm = caseManagementEnvironment();
const deps = caseManagementDependencies(platformEnvironment(), cm);
const service = 'case-management';

/**
 * case-management (downstream.md §4.2): the case topic's mapping — triggers taken in (ids and hash re-derived, run-scope
 * gate), cases, timelines and one FRAUD_SUSPECTED label per new trigger written through the label store in process. As
 * a task: `{action: retry_pending[, platform_run_id]}` (the schedule's) writes the run's PENDING labels again;
 * `{action: report, platform_run_id}` writes its metrics and health documents.
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records, { logger }) => {
    const { platformRunId, ports } = await deps.portsFor();
    const answer = await takeInCaseTriggers(records, ports, { requiredPlatformRunId: platformRunId });
    const { accepted, rejected, pending, exceptions } = answer.labels;
    logger.debug('case triggers taken in', {
      counters: answer.counters,
      accepted,
      rejected,
      pending,
      exceptions,
    });
  }, deps.busOptions(service)),
  task: taskHandler(
    CaseManagementTask,
    async (task, { logger }) => {
      if (task.action === 'report')
        return publishCaseManagementReport(
          {
            store: (await deps.portsForTask()).store,
            documents: deps.documents,
            clock: { now: () => new Date() },
          },
          task.platform_run_id,
        );
      const { platformRunId, ports } = await deps.portsFor();
      const answer = await retryPendingLabels(ports, task.platform_run_id ?? platformRunId, cm.retryBatch);
      if (answer.written > 0) logger.info('pending labels retried', { ...answer });
      return answer;
    },
    { service, invalid: 'CASE_MANAGEMENT_REQUEST_INVALID' },
  ),
});
