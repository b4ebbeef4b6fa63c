import { z } from 'zod';
import { postgresIdentityGraphStore } from '../../lib/adapters/identity-graph-stores.ts';
import { inBatchTransaction } from '../../lib/adapters/postgres/projector-store.ts';
import { projectorDependencies } from '../../lib/adapters/projector-dependencies.ts';
import { IDENTITY_GRAPH_STREAM_BASE } from '../../lib/contracts/identity-graph.ts';
import { ProjectorReportRequest, queryTask } from '../../lib/contracts/projector-report.ts';
import { publishIdentityGraphReport } from '../../lib/identity-graph/health.ts';
import { applyIdentityGraphBatch, DEFAULT_IDENTITY_GRAPH_SETTINGS } from '../../lib/identity-graph/intake.ts';
import { linkedEntitiesQuery } from '../../lib/identity-graph/query.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { busBatchHandler } from '../../lib/runtime/edge/bus-handler.ts';
import { byTrigger } from '../../lib/runtime/edge/by-trigger.ts';
import { taskHandler } from '../../lib/runtime/edge/task-handler.ts';
import { graphHealthThresholds, projectorConfig } from '../../lib/runtime/rtdl-config.ts';

const env = platformEnvironment();
const config = projectorConfig('identity-graph');
const deps = projectorDependencies(env, config);
const service = 'identity-graph';

const Task = z.discriminatedUnion('action', [ProjectorReportRequest, queryTask('linked_entities')]);

/**
 * identity-graph (downstream.md §2.2): the traffic and context topics' mappings, one record at a time (entities,
 * identifiers, edges, dedupe, apply failures); as a task, `{action: report}` (the P8 gate: status, metrics and
 * reconciliation documents) and `{action: linked_entities}` (entities linked to X within N hops).
 */
export const handler = byTrigger({
  stream: busBatchHandler(async (records) => {
    const scope = await deps.runScope(IDENTITY_GRAPH_STREAM_BASE);
    await inBatchTransaction(await deps.pool(), (pool) =>
      applyIdentityGraphBatch(postgresIdentityGraphStore(pool, scope.streamId), records, {
        ...DEFAULT_IDENTITY_GRAPH_SETTINGS,
        requiredPlatformRunId: scope.platformRunId,
      }),
    );
  }, deps.busOptions(service)),
  task: taskHandler(
    Task,
    async (task) => {
      const pool = await deps.pool();
      if (task.action === 'report')
        return publishIdentityGraphReport(
          {
            storeFor: (streamId) => postgresIdentityGraphStore(pool, streamId),
            documents: deps.documents,
            now: () => new Date(),
          },
          task.platform_run_id,
          graphHealthThresholds(config),
        );
      const { streamId } = await deps.queryScope(IDENTITY_GRAPH_STREAM_BASE, task);
      return linkedEntitiesQuery(postgresIdentityGraphStore(pool, streamId), task.request);
    },
    { service, invalid: 'IDENTITY_GRAPH_REQUEST_INVALID' },
  ),
});
