/**
 * Identity & Entity Graph tables (downstream.md §2.2), every row scoped by `stream_id` (`ieg.v0::<run>`):
 * `ieg_dedupe` (one row per applied event, key sha256(run:class:event_id): same hash ⇒ duplicate, other ⇒
 * PAYLOAD_HASH_MISMATCH), `ieg_entities` and `ieg_identifiers` (first_seen = min, last_seen = max of event time;
 * the entity id hashes every pin, so it stands for the reference's wider key), `ieg_edges` (ours: flow ↔
 * merchant/party/account/instrument/device/ip, deterministic `edge_id`; indexed both ways for the hops walk),
 * `ieg_arrival_keys` + `ieg_arrival_members` (the entities met under one (scenario run, merchant_id, arrival_seq),
 * so a flow anchor and its arrival entities link whatever order they arrive in; the key row is the lock),
 * `ieg_checkpoints` (offset + event-time watermark per topic partition), `ieg_metrics` (durable counters per
 * scenario run) and `ieg_apply_failures` (deterministic ids, so a redelivered failure keeps one row).
 */
export const sql = `
CREATE TABLE IF NOT EXISTS ieg_dedupe (
  stream_id         text NOT NULL,
  dedupe_key        text NOT NULL,
  platform_run_id   text NOT NULL,
  scenario_run_id   text NOT NULL,
  event_class       text NOT NULL,
  event_id          text NOT NULL,
  payload_hash      text NOT NULL,
  first_topic       text NOT NULL,
  first_partition   integer NOT NULL,
  first_offset      text NOT NULL,
  offset_kind       text NOT NULL,
  first_seen_ts_utc text NOT NULL,
  created_at_utc    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, dedupe_key)
);

CREATE TABLE IF NOT EXISTS ieg_entities (
  stream_id            text NOT NULL,
  entity_id            text NOT NULL,
  entity_type          text NOT NULL,
  platform_run_id      text NOT NULL,
  scenario_run_id      text NOT NULL,
  manifest_fingerprint text NOT NULL,
  parameter_hash       text,
  scenario_id          text,
  seed                 text,
  run_id               text,
  first_seen_ts_utc    text NOT NULL,
  last_seen_ts_utc     text NOT NULL,
  PRIMARY KEY (stream_id, entity_id)
);

CREATE TABLE IF NOT EXISTS ieg_identifiers (
  stream_id         text NOT NULL,
  identifier_type   text NOT NULL,
  identifier_value  text NOT NULL,
  entity_id         text NOT NULL,
  entity_type       text NOT NULL,
  scenario_run_id   text NOT NULL,
  first_seen_ts_utc text NOT NULL,
  last_seen_ts_utc  text NOT NULL,
  source_event_id   text NOT NULL,
  PRIMARY KEY (stream_id, identifier_type, identifier_value, entity_id)
);

CREATE TABLE IF NOT EXISTS ieg_edges (
  stream_id         text NOT NULL,
  edge_id           text NOT NULL,
  edge_type         text NOT NULL,
  src_entity_id     text NOT NULL,
  dst_entity_id     text NOT NULL,
  scenario_run_id   text NOT NULL,
  first_seen_ts_utc text NOT NULL,
  last_seen_ts_utc  text NOT NULL,
  source_event_id   text NOT NULL,
  PRIMARY KEY (stream_id, edge_id)
);
CREATE INDEX IF NOT EXISTS ieg_edges_src ON ieg_edges (stream_id, src_entity_id, dst_entity_id);
CREATE INDEX IF NOT EXISTS ieg_edges_dst ON ieg_edges (stream_id, dst_entity_id, src_entity_id);

CREATE TABLE IF NOT EXISTS ieg_arrival_keys (
  stream_id       text NOT NULL,
  scenario_run_id text NOT NULL,
  merchant_id     text NOT NULL,
  arrival_seq     text NOT NULL,
  PRIMARY KEY (stream_id, scenario_run_id, merchant_id, arrival_seq)
);

CREATE TABLE IF NOT EXISTS ieg_arrival_members (
  stream_id       text NOT NULL,
  scenario_run_id text NOT NULL,
  merchant_id     text NOT NULL,
  arrival_seq     text NOT NULL,
  entity_id       text NOT NULL,
  entity_type     text NOT NULL,
  PRIMARY KEY (stream_id, scenario_run_id, merchant_id, arrival_seq, entity_id)
);

CREATE TABLE IF NOT EXISTS ieg_checkpoints (
  stream_id        text NOT NULL,
  topic            text NOT NULL,
  partition_id     integer NOT NULL,
  next_offset      text NOT NULL,
  offset_kind      text NOT NULL,
  watermark_ts_utc text,
  updated_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, topic, partition_id)
);

CREATE TABLE IF NOT EXISTS ieg_metrics (
  stream_id       text NOT NULL,
  scenario_run_id text NOT NULL,
  metric_name     text NOT NULL,
  metric_value    bigint NOT NULL CHECK (metric_value >= 0),
  PRIMARY KEY (stream_id, scenario_run_id, metric_name)
);

CREATE TABLE IF NOT EXISTS ieg_apply_failures (
  failure_id      text PRIMARY KEY,
  stream_id       text NOT NULL,
  platform_run_id text,
  scenario_run_id text,
  topic           text NOT NULL,
  partition_id    integer NOT NULL,
  "offset"        text NOT NULL,
  offset_kind     text NOT NULL,
  event_id        text,
  event_type      text,
  event_ts_utc    text,
  reason_code     text NOT NULL,
  details_json    text NOT NULL,
  recorded_at_utc timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ieg_apply_failures_scope
  ON ieg_apply_failures (stream_id, platform_run_id, scenario_run_id, recorded_at_utc);
`;
