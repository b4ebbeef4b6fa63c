import { resolveFlowBindingQuery } from '../context-store/query.ts';
import type { ContextQueryResponse } from '../contracts/context-store.ts';
import { CONTEXT_STORE_STREAM_BASE } from '../contracts/context-store.ts';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import type { GetFeaturesRequest, GetFeaturesResponse } from '../contracts/online-features.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../contracts/online-features.ts';
import type { DecisionContextPort } from '../decision-fabric/ports.ts';
import { historyReader } from '../online-features/history.ts';
import type { FeaturePolicy } from '../online-features/policy.ts';
import { getFeatures } from '../online-features/snapshot.ts';
import { tsMicrosOf } from '../online-features/windows.ts';
import { preloadedFlowBindings } from './context-store-batch-reads.ts';
import { postgresOnlineFeatureStore } from './online-features-stores.ts';
import type { Pool } from './postgres/pool.ts';

/**
 * The Decision Fabric's context, read in process from the state the Online Feature Plane and the Context Store keep
 * in Postgres, through their own query code (`get_features` on a batch's history loaded at once, and
 * `resolve_flow_binding`), so an answer here is the answer those components give. The stores are the run's:
 * `ofp.v0::<platform_run_id>` and `csfb.v0::<platform_run_id>`.
 */

export function postgresDecisionContext(
  pool: Pool,
  platformRunId: string,
  policy: FeaturePolicy,
  now: () => Date = () => new Date(),
): DecisionContextPort {
  const features = postgresOnlineFeatureStore(
    pool,
    consumerCheckpointScope(ONLINE_FEATURES_STREAM_BASE, platformRunId),
  );
  const contextStreamId = consumerCheckpointScope(CONTEXT_STORE_STREAM_BASE, platformRunId);
  return {
    async featureProgress() {
      const offsets = new Map<string, string>();
      for (const c of await features.checkpoints()) offsets.set(`${c.topic}|${c.partition}`, c.next_offset);
      return { offsets };
    },
    async flowEntities(pins, flowIds) {
      const found = await features.flowEntities(
        { platform_run_id: pins.platform_run_id, scenario_run_id: pins.scenario_run_id },
        flowIds,
      );
      return found.map((f) => ({
        flow_id: f.flow_id,
        anchor_event_id: f.anchor_event_id,
        entities: f.entities as Record<string, string>,
      }));
    },
    async flowBindings(pins, flowIds) {
      const context = await preloadedFlowBindings(pool, contextStreamId, pins, flowIds);
      const answers = new Map<string, ContextQueryResponse>();
      for (const flowId of flowIds)
        answers.set(
          flowId,
          await resolveFlowBindingQuery(
            context,
            { request_id: `df:${flowId}`, pins, flow_id: flowId },
            now(),
          ),
        );
      return answers;
    },
    async snapshots(requests: readonly GetFeaturesRequest[]): Promise<GetFeaturesResponse[]> {
      const byScope = new Map<string, GetFeaturesRequest[]>();
      for (const r of requests) {
        const key = `${r.pins.platform_run_id}|${r.pins.scenario_run_id}`;
        byScope.set(key, [...(byScope.get(key) ?? []), r]);
      }
      const answers = new Map<GetFeaturesRequest, GetFeaturesResponse>();
      const checkpoints = await features.checkpoints();
      for (const group of byScope.values()) {
        const first = group[0];
        if (!first) continue;
        const scope = {
          platform_run_id: first.pins.platform_run_id,
          scenario_run_id: first.pins.scenario_run_id,
        };
        const bound = group.map((r) => tsMicrosOf(r.as_of_time_utc)).reduce((a, b) => (a > b ? a : b));
        const history = await features.loadHistory(
          scope,
          group.flatMap((r) => r.feature_keys),
          bound,
        );
        const reader = historyReader(scope, history, checkpoints, await features.hasState(scope));
        for (const r of group) answers.set(r, await getFeatures(reader, r, policy));
      }
      return requests.map(
        (r) =>
          answers.get(r) ?? {
            status: 'ERROR',
            request_id: r.request_id,
            error: { code: 'NOT_FOUND', detail: 'no feature state for the request' },
          },
      );
    },
  };
}
