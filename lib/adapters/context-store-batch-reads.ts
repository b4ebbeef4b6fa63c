import type { ContextCheckpoint, ContextStore } from '../context-store/ports.ts';
import type { FlowBinding, JoinFrameKey } from '../contracts/context-store.ts';
import { bindingOf, type FrameRow, frameOf, keyParams } from './context-store-held-rows.ts';
import type { Pool } from './postgres/pool.ts';
import { checkpointTable, queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Context Store's reads for many flows at once (the decision fabric asks `resolve_flow_binding` for every flow of a
 * batch): the flows' bindings, their join frames and the checkpoints, one statement each, served to the Context
 * Store's own query code (lib/context-store/query.ts) as a read-only `ContextStore`, so each answer is the one the
 * store would give. Writes and the other reads are refused: this store only answers `resolve_flow_binding`.
 */

const CHECKPOINTS = checkpointTable<ContextCheckpoint['offset_kind']>('csfb_join_checkpoints');
const frameName = (key: JoinFrameKey) => keyParams(key).join('|');

export async function preloadedFlowBindings(
  pool: Pool,
  streamId: string,
  scope: { platform_run_id: string; scenario_run_id: string },
  flowIds: readonly string[],
): Promise<ContextStore> {
  const bindings = new Map<string, FlowBinding>();
  const frames = new Map<string, FrameRow>();
  if (flowIds.length > 0) {
    const res = await queryOrUnavailable<{ flow_id: string; binding_json: string }>(
      pool,
      `SELECT b.flow_id, b.binding_json FROM unnest($4::text[]) AS k(flow_id)
       CROSS JOIN LATERAL (
         SELECT flow_id, binding_json FROM csfb_flow_bindings
         WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND flow_id = k.flow_id
       ) b`,
      [streamId, scope.platform_run_id, scope.scenario_run_id, [...new Set(flowIds)]],
    );
    for (const row of res.rows) {
      const binding = bindingOf(row);
      if (binding) bindings.set(row.flow_id, binding);
    }
  }
  const keys = [...bindings.values()].map((b) => b.join_frame_key);
  if (keys.length > 0) {
    const res = await queryOrUnavailable<
      FrameRow & { merchant_id: string; arrival_seq: string; run: string; scenario: string }
    >(
      pool,
      `SELECT f.platform_run_id AS run, f.scenario_run_id AS scenario, f.merchant_id, f.arrival_seq::text AS arrival_seq,
              f.payload_hash, f.frame_json, f.source_event_json
       FROM unnest($2::text[], $3::text[], $4::text[], $5::numeric[]) AS k(run, scenario, merchant_id, arrival_seq)
       CROSS JOIN LATERAL (
         SELECT * FROM csfb_join_frames
         WHERE stream_id = $1 AND platform_run_id = k.run AND scenario_run_id = k.scenario
           AND merchant_id = k.merchant_id AND arrival_seq = k.arrival_seq
       ) f`,
      [
        streamId,
        keys.map((k) => k.platform_run_id),
        keys.map((k) => k.scenario_run_id),
        keys.map((k) => k.merchant_id),
        keys.map((k) => k.arrival_seq.toString()),
      ],
    );
    for (const row of res.rows)
      frames.set([row.run, row.scenario, row.merchant_id, row.arrival_seq].join('|'), row);
  }
  const checkpoints = await CHECKPOINTS.all(pool, streamId);
  const refuse = (what: string) => () => {
    throw new Error(`the preloaded context store answers resolve_flow_binding only (${what})`);
  };
  return {
    streamId,
    inTransaction: refuse('inTransaction'),
    async readFlowBinding(platformRunId, scenarioRunId, flowId) {
      const found = bindings.get(flowId);
      return found &&
        found.join_frame_key.platform_run_id === platformRunId &&
        found.join_frame_key.scenario_run_id === scenarioRunId
        ? found
        : undefined;
    },
    readFlowBindingForJoinFrame: refuse('readFlowBindingForJoinFrame'),
    readJoinFrame: async (key) => frameOf(frames.get(frameName(key))),
    checkpoints: async () => checkpoints,
    metrics: refuse('metrics'),
    counters: refuse('counters'),
    anomalies: refuse('anomalies'),
  };
}
