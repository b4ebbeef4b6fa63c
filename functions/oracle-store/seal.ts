import { engineRunWriteOnceStore } from '../../lib/adapters/oracle-dependencies.ts';
import { SealRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { sealPack } from '../../lib/oracle-store/seal.ts';
import { deps, env, logger, oracle, parseRequest } from './oracle-context.ts';

/** oracle-seal: pack manifest and seal, write-once; an identical re-seal is a no-op. */
export const handler = async (event: unknown) => {
  const request = parseRequest(SealRequest, event);
  const store = engineRunWriteOnceStore(deps.s3, env.ORACLE_STORE_BUCKET, request.engine_run_prefix);
  const result = await sealPack(store, {
    scenarioId: request.scenario_id,
    engineRelease: request.engine_release ?? oracle.ORACLE_ENGINE_RELEASE,
    now: new Date(),
  });
  logger.info('pack sealed', { oracle_pack_id: result.oracle_pack_id, created: result.created });
  return {
    oracle_pack_id: result.oracle_pack_id,
    created: result.created,
    seal_status: result.seal.seal_status,
  };
};
