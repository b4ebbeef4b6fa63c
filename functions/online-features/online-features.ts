import { featureStateDigest } from '../../lib/adapters/online-features-digest.ts';
import { postgresOnlineFeatureStore } from '../../lib/adapters/online-features-stores.ts';
import type { Pool } from '../../lib/adapters/postgres/pool.ts';
import { inBatchTransaction } from '../../lib/adapters/postgres/projector-store.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../../lib/contracts/online-features.ts';
import { applyOnlineFeatureBatch } from '../../lib/online-features/intake.ts';
import { publishOnlineFeatureReport } from '../../lib/online-features/observability.ts';
import { getFeatures } from '../../lib/online-features/snapshot.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { projectorTaskHandler } from '../../lib/runtime/edge/projector-task.ts';
import { loadFeaturePolicy } from '../../lib/runtime/online-features-config.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('online-features');
const deps = projectorDependencies(env, config);
const policy = loadFeaturePolicy();
/** The store of a stream on a pool (the function's, or a batch's scope). */
const store = (pool: Pool) => (streamId: string) => postgresOnlineFeatureStore(pool, streamId);
const service = 'online-features';

/**
 * online-features (downstream.md §2.3, windows applied in event time): the traffic and flow-anchor topics'
 * mappings, one unit of work per batch; as a task, `{action: report}` (the P8 gate: metrics, health and reconciliation
 * documents) and `{action: get_features}` (the snapshot as of `as_of_time_utc`, or an error code).
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const scope = await deps.runScope(ONLINE_FEATURES_STREAM_BASE);
    await inBatchTransaction(await deps.pool(), (pool) =>
      applyOnlineFeatureBatch(store(pool)(scope.streamId), records, {
        requiredPlatformRunId: scope.platformRunId,
        policy,
      }),
    );
  }, deps.busOptions(service)),
  task: projectorTaskHandler({
    service,
    invalid: 'ONLINE_FEATURES_REQUEST_INVALID',
    report: async (platformRunId) => {
      const pool = await deps.pool();
      const ports = {
        storeFor: store(pool),
        stateDigest: (streamId: string) => featureStateDigest(pool, streamId),
        documents: deps.documents,
        now: () => new Date(),
      };
      return publishOnlineFeatureReport(ports, platformRunId, {
        amberWatermarkAgeSeconds: config.watermarkAgeSeconds.amber,
        redWatermarkAgeSeconds: config.watermarkAgeSeconds.red,
      });
    },
    query: {
      action: 'get_features',
      answer: async (task) => {
        const { streamId } = await deps.queryScope(ONLINE_FEATURES_STREAM_BASE, task);
        return getFeatures(store(await deps.pool())(streamId), task.request, policy);
      },
    },
  }),
});
