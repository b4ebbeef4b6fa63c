import { decisionChainPorts } from '../../lib/adapters/decision-chain-progress.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { checkDecisionChain, DecisionChainRequest } from '../../lib/run-lifecycle/decision-chain.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { decisionLogHealthThresholds } from '../../lib/runtime/decision-log-config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';
import { decisionChainTimeoutSeconds } from '../../lib/runtime/run-lifecycle-config.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const ports = decisionChainPorts(env, deps, decisionLogHealthThresholds(projectorConfig('decision-log')));
const timeoutSeconds = decisionChainTimeoutSeconds();

/** P9 DECISION_CHAIN_COMMITTED (in a loop): is every admitted traffic event decided, every chain committed? */
export const handler = taskHandler(
  DecisionChainRequest,
  async (request, { logger }) => {
    const result = await checkDecisionChain(request, ports, timeoutSeconds);
    logger.info('decision chain check', {
      done: result.done,
      committed: result.committed,
      waited_seconds: result.waited_seconds,
      missing: result.missing,
    });
    return result;
  },
  { service: 'decision-chain', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
