import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { runClosePorts } from '../../lib/adapters/run-close.ts';
import { closeRun, RunCloseRequest } from '../../lib/run-lifecycle/run-closed.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const env = platformEnvironment();
const ports = runClosePorts(env, platformDependencies(env));

/** P12 DONE: `stop` (run STOPPED, scoped off every mapping, its rows counted), then after the settle wait `check`. */
export const handler = taskHandler(
  RunCloseRequest,
  async (request, { logger }) => {
    const result = await closeRun(request, ports);
    logger.info('run close', { action: request.action, result });
    return result;
  },
  { service: 'run-close', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
