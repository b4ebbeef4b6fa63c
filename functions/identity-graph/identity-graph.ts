import { postgresIdentityGraphStore } from '../../lib/adapters/identity-graph-stores.ts';
import type { Pool } from '../../lib/adapters/postgres/pool.ts';
import { inBatchTransaction } from '../../lib/adapters/postgres/projector-store.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { IDENTITY_GRAPH_STREAM_BASE } from '../../lib/contracts/identity-graph.ts';
import { publishIdentityGraphReport } from '../../lib/identity-graph/health.ts';
import { applyIdentityGraphBatch, DEFAULT_IDENTITY_GRAPH_SETTINGS } from '../../lib/identity-graph/intake.ts';
import { linkedEntitiesQuery } from '../../lib/identity-graph/query.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { projectorTaskHandler } from '../../lib/runtime/edge/projector-task.ts';
import { graphHealthThresholds, projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('identity-graph');
const deps = projectorDependencies(env, config);
/** The store of a stream on a pool (the function's, or a batch's scope). */
const store = (pool: Pool) => (streamId: string) => postgresIdentityGraphStore(pool, streamId);
const service = 'identity-graph';

/**
 * identity-graph (downstream.md §2.2): the traffic and context topics' mappings, one unit of work per batch (entities,
 * identifiers, edges, dedupe, apply failures); as a task, `{action: report}` (the P8 gate: status, metrics and
 * reconciliation documents) and `{action: linked_entities}` (entities linked to X within N hops).
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const scope = await deps.runScope(IDENTITY_GRAPH_STREAM_BASE);
    await inBatchTransaction(await deps.pool(), (pool) =>
      applyIdentityGraphBatch(store(pool)(scope.streamId), records, {
        ...DEFAULT_IDENTITY_GRAPH_SETTINGS,
        requiredPlatformRunId: scope.platformRunId,
      }),
    );
  }, deps.busOptions(service)),
  task: projectorTaskHandler({
    service,
    invalid: 'IDENTITY_GRAPH_REQUEST_INVALID',
    report: async (platformRunId) => {
      const pool = await deps.pool();
      const ports = { storeFor: store(pool), documents: deps.documents, now: () => new Date() };
      return publishIdentityGraphReport(ports, platformRunId, graphHealthThresholds(config));
    },
    query: {
      action: 'linked_entities',
      answer: async (task) => {
        const { streamId } = await deps.queryScope(IDENTITY_GRAPH_STREAM_BASE, task);
        return linkedEntitiesQuery(store(await deps.pool())(streamId), task.request);
      },
    },
  }),
});
