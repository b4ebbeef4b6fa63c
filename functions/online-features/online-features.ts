import { z } from 'zod';
import { featureStateDigest } from '../../lib/adapters/online-features-digest.ts';
import { postgresOnlineFeatureStore } from '../../lib/adapters/online-features-stores.ts';
import { inBatchTransaction } from '../../lib/adapters/postgres/projector-store.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../../lib/contracts/online-features.ts';
import { ProjectorReportRequest, queryTask } from '../../lib/contracts/projector-report.ts';
import { applyOnlineFeatureBatch } from '../../lib/online-features/intake.ts';
import { publishOnlineFeatureReport } from '../../lib/online-features/observability.ts';
import { getFeatures } from '../../lib/online-features/snapshot.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { loadFeaturePolicy } from '../../lib/runtime/online-features-config.ts';
import { projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('online-features');
const deps = projectorDependencies(env, config);
const policy = loadFeaturePolicy();
const service = 'online-features';

const Task = z.discriminatedUnion('action', [ProjectorReportRequest, queryTask('get_features')]);

/**
 * online-features (downstream.md §2.3, windows applied in event time): the traffic and flow-anchor topics'
 * mappings, one record at a time; as a task, `{action: report}` (the P8 gate: metrics, health and reconciliation
 * documents) and `{action: get_features}` (the snapshot as of `as_of_time_utc`, or an error code).
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const scope = await deps.runScope(ONLINE_FEATURES_STREAM_BASE);
    await inBatchTransaction(await deps.pool(), (pool) =>
      applyOnlineFeatureBatch(postgresOnlineFeatureStore(pool, scope.streamId), records, {
        requiredPlatformRunId: scope.platformRunId,
        policy,
      }),
    );
  }, deps.busOptions(service)),
  task: taskHandler(
    Task,
    async (task) => {
      const pool = await deps.pool();
      if (task.action === 'report')
        return publishOnlineFeatureReport(
          {
            storeFor: (streamId) => postgresOnlineFeatureStore(pool, streamId),
            stateDigest: (streamId) => featureStateDigest(pool, streamId),
            documents: deps.documents,
            now: () => new Date(),
          },
          task.platform_run_id,
          {
            amberWatermarkAgeSeconds: config.watermarkAgeSeconds.amber,
            redWatermarkAgeSeconds: config.watermarkAgeSeconds.red,
          },
        );
      const { streamId } = await deps.queryScope(ONLINE_FEATURES_STREAM_BASE, task);
      const store = postgresOnlineFeatureStore(pool, streamId);
      return getFeatures(store, task.request, policy);
    },
    { service, invalid: 'ONLINE_FEATURES_REQUEST_INVALID' },
  ),
});
