import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { caughtUpEvidencePorts, caughtUpPorts } from '../../lib/adapters/rtdl-progress.ts';
import {
  CaughtUpEvidenceRequest,
  CaughtUpRequest,
  checkCaughtUp,
  writeCaughtUpEvidence,
} from '../../lib/run-lifecycle/rtdl-caught-up.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { caughtUpTimeoutSeconds } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const timeoutSeconds = caughtUpTimeoutSeconds();
const edge = { service: 'rtdl-caught-up', invalid: 'RUN_PHASE_REQUEST_INVALID' };

/** P8 RTDL_CAUGHT_UP, step 1 (in a loop): has every projector applied or accounted for IG's admitted events? */
export const check = taskHandler(
  CaughtUpRequest,
  async (request, { logger }) => {
    const result = await checkCaughtUp(request, caughtUpPorts(deps), timeoutSeconds);
    logger.info('rtdl caught-up check', {
      caught_up: result.caught_up,
      waited_seconds: result.waited_seconds,
      lagging: result.lagging.slice(0, 8),
    });
    return result;
  },
  edge,
);

/** P8 RTDL_CAUGHT_UP, step 2: after the projectors' reports, the counts reconcile and the evidence is written. */
export const evidence = taskHandler(
  CaughtUpEvidenceRequest,
  async (request, { logger }) => {
    const result = await writeCaughtUpEvidence(request, caughtUpEvidencePorts(env, deps));
    logger.info('rtdl caught-up gate', { caught_up: result.caught_up, summary: result.summary });
    return result;
  },
  edge,
);
