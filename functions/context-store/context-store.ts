import { postgresContextStore } from '../../lib/adapters/context-store-stores.ts';
import type { Pool } from '../../lib/adapters/postgres/pool.ts';
import { inBatchTransaction } from '../../lib/adapters/postgres/projector-store.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { applyContextBatch, CONTEXT_EVENT_CLASSES, CONTEXT_TOPICS } from '../../lib/context-store/intake.ts';
import { publishContextStoreReport } from '../../lib/context-store/observability.ts';
import { queryContext } from '../../lib/context-store/query.ts';
import { CONTEXT_STORE_STREAM_BASE } from '../../lib/contracts/context-store.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { projectorTaskHandler } from '../../lib/runtime/edge/projector-task.ts';
import { contextHealthThresholds, projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('context-store');
const deps = projectorDependencies(env, config);
/** The store of a stream on a pool (the function's, or a batch's scope). */
const store = (pool: Pool) => (streamId: string) => postgresContextStore(pool, streamId);
const service = 'context-store';

/**
 * context-store (downstream.md §2.4): the three context topics' mappings, one unit of work per batch (join frames, flow
 * bindings, late context, apply failures); as a task, `{action: report}` (the P8 gate: metrics, health and
 * reconciliation documents) and `{action: query}` (resolve_flow_binding / fetch_join_frame, every status).
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const scope = await deps.runScope(CONTEXT_STORE_STREAM_BASE);
    await inBatchTransaction(await deps.pool(), (pool) =>
      applyContextBatch(store(pool)(scope.streamId), records, {
        requiredPlatformRunId: scope.platformRunId,
        contextTopics: CONTEXT_TOPICS,
        contextEventClasses: CONTEXT_EVENT_CLASSES,
      }),
    );
  }, deps.busOptions(service)),
  task: projectorTaskHandler({
    service,
    invalid: 'CONTEXT_STORE_REQUEST_INVALID',
    report: async (platformRunId) => {
      const pool = await deps.pool();
      const ports = { storeFor: store(pool), documents: deps.documents, now: () => new Date() };
      return publishContextStoreReport(ports, platformRunId, contextHealthThresholds(config));
    },
    query: {
      action: 'query',
      answer: async (task) => {
        const { streamId } = await deps.queryScope(CONTEXT_STORE_STREAM_BASE, task);
        return queryContext(store(await deps.pool())(streamId), task.request, new Date());
      },
    },
  }),
});
