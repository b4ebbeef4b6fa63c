/**
 * Online Feature Plane tables (downstream.md §2.3), every row scoped by `stream_id` (`ofp.v0::<run>`):
 * `ofp_applied_events` (offset dedupe), `ofp_semantic_dedupe` (one row per applied event: same hash a duplicate,
 * another hash a row in `ofp_payload_mismatches`, never an overwrite), the feature state — `ofp_feature_buckets`
 * (per key and one-minute bucket of event time: count and amount sum in micro-units) and `ofp_feature_events`
 * (per key and event: event time and amount, for the buckets a window's ends cut) —, `ofp_checkpoints` (offset +
 * event-time watermark per topic partition) and `ofp_metrics` (counters). Times are integer microseconds since
 * the epoch and amounts integer micro-units, so sums are exact and independent of arrival order.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS ofp_applied_events (
  stream_id      text NOT NULL,
  topic          text NOT NULL,
  partition_id   integer NOT NULL,
  offset_kind    text NOT NULL,
  "offset"       text NOT NULL,
  event_id       text,
  created_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, topic, partition_id, offset_kind, "offset")
);

CREATE TABLE IF NOT EXISTS ofp_semantic_dedupe (
  stream_id       text NOT NULL,
  platform_run_id text NOT NULL,
  event_class     text NOT NULL,
  event_id        text NOT NULL,
  payload_hash    text NOT NULL,
  first_topic     text NOT NULL,
  first_partition integer NOT NULL,
  first_offset    text NOT NULL,
  offset_kind     text NOT NULL,
  event_ts_utc    text NOT NULL,
  created_at_utc  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, platform_run_id, event_class, event_id)
);

CREATE TABLE IF NOT EXISTS ofp_payload_mismatches (
  stream_id             text NOT NULL,
  topic                 text NOT NULL,
  partition_id          integer NOT NULL,
  offset_kind           text NOT NULL,
  "offset"              text NOT NULL,
  platform_run_id       text NOT NULL,
  event_class           text NOT NULL,
  event_id              text NOT NULL,
  stored_payload_hash   text,
  incoming_payload_hash text NOT NULL,
  recorded_at_utc       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, topic, partition_id, offset_kind, "offset")
);

CREATE TABLE IF NOT EXISTS ofp_feature_buckets (
  stream_id           text NOT NULL,
  platform_run_id     text NOT NULL,
  scenario_run_id     text NOT NULL,
  key_type            text NOT NULL,
  key_id              text NOT NULL,
  bucket_start_micros bigint NOT NULL,
  event_count         bigint NOT NULL,
  amount_micros       numeric(38, 0) NOT NULL,
  PRIMARY KEY (stream_id, platform_run_id, scenario_run_id, key_type, key_id, bucket_start_micros)
);

CREATE TABLE IF NOT EXISTS ofp_feature_events (
  stream_id       text NOT NULL,
  platform_run_id text NOT NULL,
  scenario_run_id text NOT NULL,
  key_type        text NOT NULL,
  key_id          text NOT NULL,
  event_ts_micros bigint NOT NULL,
  event_id        text NOT NULL,
  amount_micros   numeric(38, 0) NOT NULL,
  PRIMARY KEY (stream_id, platform_run_id, scenario_run_id, key_type, key_id, event_ts_micros, event_id)
);

CREATE TABLE IF NOT EXISTS ofp_checkpoints (
  stream_id        text NOT NULL,
  topic            text NOT NULL,
  partition_id     integer NOT NULL,
  next_offset      text NOT NULL,
  offset_kind      text NOT NULL,
  watermark_ts_utc text,
  updated_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, topic, partition_id)
);

CREATE TABLE IF NOT EXISTS ofp_metrics (
  stream_id      text NOT NULL,
  metric_name    text NOT NULL,
  value          bigint NOT NULL,
  updated_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, metric_name)
);
`;
