/**
 * Context Store + FlowBinding tables (downstream.md §2.4), every row scoped by `stream_id` (`csfb.v0::<run>`):
 * `csfb_intake_dedupe` (one row per applied event: duplicate ⇒ nothing, other hash ⇒ anomaly),
 * `csfb_join_frames` (the merged roles per (run, scenario run, merchant_id, arrival_seq); `frame_json` is NULL
 * only inside the transaction that creates the row), `csfb_flow_bindings` (one per flow_id and one per join
 * key), `csfb_join_checkpoints` (offset + event-time watermark per topic partition) and
 * `csfb_join_apply_failures` (deterministic ids, so a redelivered failure keeps one row). JSON documents are
 * canonical JSON text: 64-bit ids stay exact (jsonb would read them back as doubles).
 */
export const sql = `
CREATE TABLE IF NOT EXISTS csfb_intake_dedupe (
  stream_id         text NOT NULL,
  platform_run_id   text NOT NULL,
  event_class       text NOT NULL,
  event_id          text NOT NULL,
  payload_hash      text NOT NULL,
  first_topic       text NOT NULL,
  first_partition   integer NOT NULL,
  first_offset      text NOT NULL,
  offset_kind       text NOT NULL,
  first_seen_ts_utc text,
  created_at_utc    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, platform_run_id, event_class, event_id)
);

CREATE TABLE IF NOT EXISTS csfb_join_frames (
  stream_id         text NOT NULL,
  platform_run_id   text NOT NULL,
  scenario_run_id   text NOT NULL,
  merchant_id       text NOT NULL,
  arrival_seq       numeric(20, 0) NOT NULL,
  payload_hash      text,
  frame_json        text,
  source_event_json text,
  context_complete  boolean NOT NULL DEFAULT false,
  created_at_utc    timestamptz NOT NULL DEFAULT now(),
  updated_at_utc    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, platform_run_id, scenario_run_id, merchant_id, arrival_seq)
);

CREATE TABLE IF NOT EXISTS csfb_flow_bindings (
  stream_id                       text NOT NULL,
  platform_run_id                 text NOT NULL,
  scenario_run_id                 text NOT NULL,
  flow_id                         text NOT NULL,
  merchant_id                     text NOT NULL,
  arrival_seq                     numeric(20, 0) NOT NULL,
  authoritative_source_event_type text NOT NULL,
  payload_hash                    text NOT NULL,
  binding_json                    text NOT NULL,
  bound_at_utc                    text NOT NULL,
  created_at_utc                  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, platform_run_id, scenario_run_id, flow_id),
  UNIQUE (stream_id, platform_run_id, scenario_run_id, merchant_id, arrival_seq)
);

CREATE TABLE IF NOT EXISTS csfb_join_checkpoints (
  stream_id        text NOT NULL,
  topic            text NOT NULL,
  partition_id     integer NOT NULL,
  next_offset      text NOT NULL,
  offset_kind      text NOT NULL,
  watermark_ts_utc text,
  updated_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, topic, partition_id)
);

CREATE TABLE IF NOT EXISTS csfb_join_apply_failures (
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
  reason_code     text NOT NULL,
  details_json    text NOT NULL,
  late_applied    boolean NOT NULL DEFAULT false,
  recorded_at_utc timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS csfb_join_apply_failures_scope
  ON csfb_join_apply_failures (stream_id, platform_run_id, scenario_run_id, recorded_at_utc);
`;
