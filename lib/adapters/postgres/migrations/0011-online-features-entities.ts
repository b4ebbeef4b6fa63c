/**
 * Online Feature Plane, per-entity features from flow anchors (downstream.md §2.3, issue 13): `ofp_entity_sightings`
 * holds one row per applied anchor — its event time and the six entity ids it names — for distinct counterparties
 * over a window: `count(DISTINCT <counterpart>)` over the rows of one entity in (T − w, T], found by that entity's
 * index (scope, entity id, event time). An anchor costs one row and at most six index entries whatever the history,
 * and any (entity, counterpart) pair a policy names is answered without a replay. Counts, sums and first sightings
 * of entities and of account-device / account-ip keys live in the tables of 0010 (`ofp_feature_buckets`,
 * `ofp_feature_events`, whose primary key serves the first event of a key).
 */
const ENTITY_COLUMNS = ['party_id', 'account_id', 'instrument_id', 'device_id', 'ip_id', 'merchant_id'];

const byEntity = ENTITY_COLUMNS.map(
  (column) => `
CREATE INDEX IF NOT EXISTS ofp_entity_sightings_by_${column}
  ON ofp_entity_sightings (stream_id, platform_run_id, scenario_run_id, ${column}, event_ts_micros)
  WHERE ${column} IS NOT NULL;`,
).join('\n');

export const sql = `
CREATE TABLE IF NOT EXISTS ofp_entity_sightings (
  stream_id       text NOT NULL,
  platform_run_id text NOT NULL,
  scenario_run_id text NOT NULL,
  event_id        text NOT NULL,
  event_ts_micros bigint NOT NULL,
  party_id        text,
  account_id      text,
  instrument_id   text,
  device_id       text,
  ip_id           text,
  merchant_id     text,
  PRIMARY KEY (stream_id, platform_run_id, scenario_run_id, event_id)
);
${byEntity}
`;
