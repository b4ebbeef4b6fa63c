import type { Pool } from './postgres/pool.ts';

/**
 * A digest of a run's feature state that two runs of the same world share: sha256 over every bucket, event and entity
 * sighting row of the scope, named by what the world decides (key type and id, event time, counts, amounts) and not by what a run
 * decides (platform and scenario run ids, event ids, arrival order). Computed in Postgres, one pass.
 */
export async function featureStateDigest(pool: Pool, streamId: string): Promise<string> {
  const res = await pool.query<{ digest: string | null; rows: string }>(
    `SELECT encode(sha256(convert_to(coalesce(string_agg(line, E'\\n' ORDER BY line), ''), 'UTF8')), 'hex') AS digest,
            count(*)::text AS rows
     FROM (
       SELECT concat_ws('|', 'b', key_type, key_id, bucket_start_micros, event_count, amount_micros) AS line
       FROM ofp_feature_buckets WHERE stream_id = $1
       UNION ALL
       SELECT concat_ws('|', 'e', key_type, key_id, event_ts_micros, amount_micros)
       FROM ofp_feature_events WHERE stream_id = $1
       UNION ALL
       SELECT concat_ws('|', 's', event_ts_micros, party_id, account_id, instrument_id, device_id, ip_id, merchant_id)
       FROM ofp_entity_sightings WHERE stream_id = $1
     ) lines`,
    [streamId],
  );
  return res.rows[0]?.digest ?? '';
}
