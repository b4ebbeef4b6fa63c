import { bankLabelsPorts } from '../../lib/adapters/bank-labels-sources.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { BankLabelsRequest, loadBankViewLabels } from '../../lib/label-store/bank-view-load.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const ports = bankLabelsPorts(platformDependencies(platformEnvironment()));

/** P10: the world's bank view (event labels, case timeline) of the run's traffic, into the label store as EXTERNAL labels. */
export const handler = taskHandler(
  BankLabelsRequest,
  async (request, { logger }) => {
    const result = await loadBankViewLabels(request, ports);
    logger.info('bank-view labels', {
      assertions: result.assertions,
      accepted: result.accepted,
      rejected: result.rejected,
    });
    return result;
  },
  { service: 'bank-labels', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
