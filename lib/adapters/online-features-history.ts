import type { FeatureKey } from '../contracts/online-features.ts';
import { ANCHOR_ENTITY_TYPES, type AnchorEntityType, isAnchorEntityType } from '../online-features/keys.ts';
import type {
  FeatureScope,
  FlowEntities,
  KeyEvent,
  KeyHistory,
  SightingRow,
} from '../online-features/ports.ts';
import type { Pool } from './postgres/pool.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * The Online Feature Plane's batch reads for the decision fabric (migrations 0010, 0011, 0015): the events of many
 * keys and the sightings of their entities up to one bound, in one statement each, and the entities of many flows.
 * Keys are matched as (key_type, key_id) pairs from two arrays; entity columns come from the allow-list only.
 */

type SightingDbRow = { event_ts_micros: string } & Partial<Record<AnchorEntityType, string | null>>;

const entitiesOf = (row: Partial<Record<AnchorEntityType, string | null>>) => {
  const entities: Partial<Record<AnchorEntityType, string>> = {};
  for (const type of ANCHOR_ENTITY_TYPES) {
    const id = row[type];
    if (id !== null && id !== undefined) entities[type] = id;
  }
  return entities;
};

const ENTITY_SELECT = ANCHOR_ENTITY_TYPES.join(', ');

export async function loadFeatureHistory(
  pool: Pool,
  streamId: string,
  scope: FeatureScope,
  keys: readonly FeatureKey[],
  atOrBefore: bigint,
): Promise<KeyHistory> {
  const unique = [...new Map(keys.map((k) => [`${k.key_type}:${k.key_id}`, k])).values()];
  const events = new Map<string, KeyEvent[]>();
  const sightings: SightingRow[] = [];
  if (unique.length === 0) return { events, sightings };
  const base = [streamId, scope.platform_run_id, scope.scenario_run_id];
  const res = await queryOrUnavailable<{
    key_type: string;
    key_id: string;
    event_ts_micros: string;
    amount_micros: string;
  }>(
    pool,
    // LATERAL: one primary-key range per key, whatever the planner's (often stale, mid-stream) row estimates.
    `SELECT k.key_type, k.key_id, e.event_ts_micros::text AS event_ts_micros, e.amount_micros::text AS amount_micros
     FROM unnest($4::text[], $5::text[]) AS k(key_type, key_id)
     CROSS JOIN LATERAL (
       SELECT event_ts_micros, amount_micros FROM ofp_feature_events
       WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3
         AND key_type = k.key_type AND key_id = k.key_id AND event_ts_micros <= $6::bigint
     ) e
     ORDER BY k.key_type, k.key_id, e.event_ts_micros`,
    [...base, unique.map((k) => k.key_type), unique.map((k) => k.key_id), atOrBefore.toString()],
  );
  for (const row of res.rows) {
    const name = `${row.key_type}:${row.key_id}`;
    const list = events.get(name) ?? [];
    list.push({ event_ts_micros: BigInt(row.event_ts_micros), amount_micros: BigInt(row.amount_micros) });
    events.set(name, list);
  }
  const entityKeys = unique.filter((k) => isAnchorEntityType(k.key_type));
  const byType = new Map<AnchorEntityType, string[]>();
  for (const k of entityKeys) {
    const type = k.key_type as AnchorEntityType;
    byType.set(type, [...(byType.get(type) ?? []), k.key_id]);
  }
  const seen = new Set<string>();
  for (const [type, ids] of byType) {
    const column = ANCHOR_ENTITY_TYPES.find((t) => t === type);
    if (!column) continue;
    const rows = await queryOrUnavailable<SightingDbRow & { event_id: string }>(
      pool,
      `SELECT s.event_id, s.event_ts_micros::text AS event_ts_micros, ${ENTITY_SELECT.replace(/(\w+)/g, 's.$1')}
       FROM unnest($4::text[]) AS k(id)
       CROSS JOIN LATERAL (
         SELECT * FROM ofp_entity_sightings
         WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND ${column} = k.id
           AND event_ts_micros <= $5::bigint
       ) s`,
      [...base, ids, atOrBefore.toString()],
    );
    for (const row of rows.rows) {
      if (seen.has(row.event_id)) continue;
      seen.add(row.event_id);
      sightings.push({ event_ts_micros: BigInt(row.event_ts_micros), entities: entitiesOf(row) });
    }
  }
  return { events, sightings };
}

export async function loadFlowEntities(
  pool: Pool,
  streamId: string,
  scope: FeatureScope,
  flowIds: readonly string[],
): Promise<FlowEntities[]> {
  if (flowIds.length === 0) return [];
  const res = await queryOrUnavailable<SightingDbRow & { event_id: string; flow_id: string }>(
    pool,
    `SELECT DISTINCT ON (flow_id) flow_id, event_id, event_ts_micros::text AS event_ts_micros, ${ENTITY_SELECT}
     FROM ofp_entity_sightings
     WHERE stream_id = $1 AND platform_run_id = $2 AND scenario_run_id = $3 AND flow_id = ANY($4::text[])
     ORDER BY flow_id, event_ts_micros, event_id`,
    [streamId, scope.platform_run_id, scope.scenario_run_id, [...new Set(flowIds)]],
  );
  return res.rows.map((row) => ({
    flow_id: row.flow_id,
    anchor_event_id: row.event_id,
    anchor_ts_micros: BigInt(row.event_ts_micros),
    entities: entitiesOf(row),
  }));
}
