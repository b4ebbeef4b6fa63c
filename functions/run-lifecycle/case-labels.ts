import { caseLabelsPorts } from '../../lib/adapters/case-labels-progress.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { CaseLabelsRequest, checkCaseLabels } from '../../lib/run-lifecycle/case-labels.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { caseLabelsTimeoutSeconds, caseTriggerEscalation } from '../../lib/runtime/run-lifecycle-config.ts';

const env = platformEnvironment();
const ports = caseLabelsPorts(env, platformDependencies(env), caseTriggerEscalation());
const timeoutSeconds = caseLabelsTimeoutSeconds();

/** P10 CASE_LABELS_COMMITTED (in a loop): triggers admitted, cases opened, labels accepted, the case plane GREEN? */
export const handler = taskHandler(
  CaseLabelsRequest,
  async (request, { logger }) => {
    const result = await checkCaseLabels(request, ports, timeoutSeconds);
    logger.info('case labels check', {
      done: result.done,
      committed: result.committed,
      waited_seconds: result.waited_seconds,
      missing: result.missing,
    });
    return result;
  },
  { service: 'case-labels', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
