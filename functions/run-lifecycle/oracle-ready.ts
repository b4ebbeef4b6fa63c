import { s3PhaseEvidenceStore } from '../../lib/adapters/phase-evidence-store.ts';
import { objectStoreDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { type OracleReadyResult, oracleReady } from '../../lib/run-lifecycle/oracle-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = objectStoreDependencies(env);
const logger = createLogger('oracle-ready');
const evidence = s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET);

/** P3 ORACLE_READY gate: the nested oracle-pipeline's output checked and recorded as the phase's evidence. */
export const handler = async (event: unknown): Promise<OracleReadyResult> => {
  const result = await oracleReady(event, evidence);
  logger.info('oracle ready gate', { ready: result.ready, summary: result.summary });
  return result;
};
