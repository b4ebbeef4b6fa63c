import { platformDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { getObjectText, putObjectOnce, s3Uri } from '../../lib/adapters/s3-objects.ts';
import {
  type OracleReadyResult,
  oracleReady,
  type PhaseEvidenceStore,
} from '../../lib/run-lifecycle/oracle-ready.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';

const env = platformEnvironment();
const deps = platformDependencies(env);
const logger = createLogger('oracle-ready');

const evidence: PhaseEvidenceStore = {
  async writeOnce(key, body) {
    const ref = s3Uri(env.PLATFORM_BUCKET, key);
    if (await putObjectOnce(deps.s3, env.PLATFORM_BUCKET, key, body))
      return { ref, created: true, identical: true };
    return {
      ref,
      created: false,
      identical: (await getObjectText(deps.s3, env.PLATFORM_BUCKET, key)) === body,
    };
  },
};

/** P3 ORACLE_READY gate: the nested oracle-pipeline's output checked and recorded as the phase's evidence. */
export const handler = async (event: unknown): Promise<OracleReadyResult> => {
  const result = await oracleReady(event, evidence);
  logger.info('oracle ready gate', { ready: result.ready, summary: result.summary });
  return result;
};
