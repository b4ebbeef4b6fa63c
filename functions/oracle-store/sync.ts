import { engineRunStore, worldSourceStore } from '../../lib/adapters/oracle-dependencies.ts';
import { SyncRequest } from '../../lib/contracts/oracle-pipeline.ts';
import { syncWorld } from '../../lib/oracle-store/sync.ts';
import { deps, env, InvalidOracleRequest, logger, parseRequest } from './oracle-context.ts';

/** oracle-sync: copies a world into the oracle-store bucket under `engine-runs/<run_id>` (or the given prefix). */
export const handler = async (event: unknown) => {
  const request = parseRequest(SyncRequest, event);
  const source = worldSourceStore(deps.s3, request.world_source);
  const receipt = await source.get('run_receipt.json');
  if (!receipt)
    throw new InvalidOracleRequest(`PACK_ROOT_NOT_FOUND: no run_receipt.json under ${source.root}`);
  const runId = String(
    (JSON.parse(Buffer.from(receipt).toString('utf8')) as { run_id?: unknown }).run_id ?? '',
  );
  const prefix = request.engine_run_prefix ?? `engine-runs/${runId}`;
  const target = engineRunStore(deps.s3, env.ORACLE_STORE_BUCKET, prefix);
  const result = await syncWorld(source, target, { concurrency: 8 });
  logger.info('world synced', {
    prefix,
    copied: result.copied,
    skipped: result.skipped,
    bytes: result.bytes,
  });
  return {
    engine_run_prefix: prefix,
    engine_run_root: target.root,
    run_id: runId,
    objects: result.total,
    copied: result.copied,
    skipped: result.skipped,
    bytes: result.bytes,
  };
};
