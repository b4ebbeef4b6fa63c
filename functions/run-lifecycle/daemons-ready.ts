import { lambdaEventSourceMappings } from '../../lib/adapters/event-source-mappings.ts';
import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { postgresRunRegistry } from '../../lib/adapters/run-registry.ts';
import { DaemonsReadyRequest, daemonsReady } from '../../lib/run-lifecycle/daemons-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { daemonsReadyEnvironment } from '../../lib/runtime/run-lifecycle-config.ts';

const env = platformEnvironment();
const gate = daemonsReadyEnvironment();
const deps = platformDependencies(env);
const mappingsOf = lambdaEventSourceMappings(deps.endpoints, gate.ESM_API_ENDPOINT);
const evidence = s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET);

/** P2 DAEMONS_READY gate: the run's consumers have their mappings enabled and the active run is this run. */
export const handler = taskHandler(
  DaemonsReadyRequest,
  async (request, { logger }) => {
    const registry = postgresRunRegistry(await deps.pool());
    const result = await daemonsReady(request, gate.REQUIRED_CONSUMERS, {
      mappingsOf,
      activeRun: () => registry.activeRun(),
      evidence,
    });
    logger.info('daemons ready gate', { ready: result.ready, summary: result.summary });
    return result;
  },
  { service: 'daemons-ready', invalid: 'RUN_PHASE_REQUEST_INVALID' },
);
