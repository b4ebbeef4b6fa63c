import { z } from 'zod';
import { postgresContextStore } from '../../lib/adapters/context-store-stores.ts';
import { inBatchTransaction } from '../../lib/adapters/postgres/projector-store.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { applyContextBatch, CONTEXT_EVENT_CLASSES, CONTEXT_TOPICS } from '../../lib/context-store/intake.ts';
import { publishContextStoreReport } from '../../lib/context-store/observability.ts';
import { queryContext } from '../../lib/context-store/query.ts';
import { CONTEXT_STORE_STREAM_BASE } from '../../lib/contracts/context-store.ts';
import { ProjectorReportRequest, queryTask } from '../../lib/contracts/projector-report.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { contextHealthThresholds, projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('context-store');
const deps = projectorDependencies(env, config);
const service = 'context-store';

const Task = z.discriminatedUnion('action', [ProjectorReportRequest, queryTask('query')]);

/**
 * context-store (downstream.md §2.4): the three context topics' mappings, one record at a time (join frames, flow
 * bindings, late context, apply failures); as a task, `{action: report}` (the P8 gate: metrics, health and
 * reconciliation documents) and `{action: query}` (resolve_flow_binding / fetch_join_frame, every status).
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const scope = await deps.runScope(CONTEXT_STORE_STREAM_BASE);
    await inBatchTransaction(await deps.pool(), (pool) =>
      applyContextBatch(postgresContextStore(pool, scope.streamId), records, {
        requiredPlatformRunId: scope.platformRunId,
        contextTopics: CONTEXT_TOPICS,
        contextEventClasses: CONTEXT_EVENT_CLASSES,
      }),
    );
  }, deps.busOptions(service)),
  task: taskHandler(
    Task,
    async (task) => {
      const pool = await deps.pool();
      if (task.action === 'report')
        return publishContextStoreReport(
          {
            storeFor: (streamId) => postgresContextStore(pool, streamId),
            documents: deps.documents,
            now: () => new Date(),
          },
          task.platform_run_id,
          contextHealthThresholds(config),
        );
      const { streamId } = await deps.queryScope(CONTEXT_STORE_STREAM_BASE, task);
      const store = postgresContextStore(pool, streamId);
      return queryContext(store, task.request, new Date());
    },
    { service, invalid: 'CONTEXT_STORE_REQUEST_INVALID' },
  ),
});
