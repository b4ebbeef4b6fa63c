import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { objectStoreDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { OracleReadyRequest, oracleReady } from '../../lib/run-lifecycle/oracle-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';

const env = platformEnvironment();
const deps = objectStoreDependencies(env);
const evidence = s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET);

/** P3 ORACLE_READY gate: the nested oracle-pipeline's output checked and recorded as the phase's evidence. */
export const handler = taskHandler(
  OracleReadyRequest,
  async (request, { logger }) => {
    const result = await oracleReady(request, evidence);
    logger.info('oracle ready gate', { ready: result.ready, summary: result.summary });
    return result;
  },
  { service: 'oracle-ready', invalid: 'ORACLE_READY_INPUT_INVALID' },
);
