/**
 * Decision Log & Audit (downstream.md §3.4), every row scoped by `stream_id` (`dla.v0::<run>`):
 * `dla_intake_attempts` (every delivery, append-only), `dla_intake_quarantine` (one row per source offset and
 * reason), `dla_intake_replay_observations` (what an offset carried the first time: the same offset with another
 * content is REPLAY_DIVERGENCE), `dla_intake_candidates` (append-only, one per (run, event_type, event_id): another
 * hash is PAYLOAD_HASH_MISMATCH), `dla_intake_checkpoints` (offset + event-time watermark per topic partition, as
 * the RTDL projectors keep), and the lineage: `dla_lineage_chains` (one per decision_id: pins, digest, the decision's
 * link, counts, reasons, status, since when unresolved, and the audit record once written), `dla_lineage_intents`
 * PK(decision_id, action_id), `dla_lineage_outcomes` PK(decision_id, outcome_id). JSON is canonical JSON text.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS dla_intake_attempts (
  attempt_id          bigserial PRIMARY KEY,
  stream_id           text NOT NULL,
  topic               text NOT NULL,
  partition_id        integer NOT NULL,
  offset_kind         text NOT NULL,
  source_offset       text NOT NULL,
  platform_run_id     text,
  scenario_run_id     text,
  event_type          text,
  event_id            text,
  accepted            boolean NOT NULL,
  reason_code         text NOT NULL,
  write_status        text CHECK (write_status IN ('NEW', 'DUPLICATE')),
  checkpoint_advanced boolean NOT NULL,
  detail              text,
  attempted_at_utc    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS dla_intake_attempts_scope
  ON dla_intake_attempts (stream_id, platform_run_id, scenario_run_id, attempted_at_utc);

CREATE TABLE IF NOT EXISTS dla_intake_quarantine (
  stream_id          text NOT NULL,
  topic              text NOT NULL,
  partition_id       integer NOT NULL,
  offset_kind        text NOT NULL,
  source_offset      text NOT NULL,
  reason_code        text NOT NULL,
  detail             text,
  platform_run_id    text,
  scenario_run_id    text,
  event_type         text,
  event_id           text,
  schema_version     text,
  payload_hash       text,
  published_at_utc   text,
  envelope_json      text,
  quarantined_at_utc timestamptz NOT NULL,
  PRIMARY KEY (stream_id, topic, partition_id, offset_kind, source_offset, reason_code)
);

CREATE TABLE IF NOT EXISTS dla_intake_replay_observations (
  stream_id         text NOT NULL,
  topic             text NOT NULL,
  partition_id      integer NOT NULL,
  offset_kind       text NOT NULL,
  source_offset     text NOT NULL,
  platform_run_id   text NOT NULL,
  scenario_run_id   text NOT NULL,
  event_type        text NOT NULL,
  event_id          text NOT NULL,
  payload_hash      text NOT NULL,
  first_seen_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, topic, partition_id, offset_kind, source_offset)
);

CREATE TABLE IF NOT EXISTS dla_intake_candidates (
  stream_id        text NOT NULL,
  platform_run_id  text NOT NULL,
  event_type       text NOT NULL,
  event_id         text NOT NULL,
  scenario_run_id  text NOT NULL,
  schema_version   text NOT NULL,
  payload_hash     text NOT NULL,
  source_topic     text NOT NULL,
  source_partition integer NOT NULL,
  source_offset    text NOT NULL,
  offset_kind      text NOT NULL,
  published_at_utc text,
  event_ts_utc     text NOT NULL,
  envelope_json    text NOT NULL,
  created_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, platform_run_id, event_type, event_id)
);

CREATE TABLE IF NOT EXISTS dla_intake_checkpoints (
  stream_id        text NOT NULL,
  topic            text NOT NULL,
  partition_id     integer NOT NULL,
  next_offset      text NOT NULL,
  offset_kind      text NOT NULL,
  watermark_ts_utc text,
  updated_at_utc   timestamptz NOT NULL,
  PRIMARY KEY (stream_id, topic, partition_id)
);

CREATE TABLE IF NOT EXISTS dla_lineage_chains (
  stream_id               text NOT NULL,
  decision_id             text NOT NULL,
  platform_run_id         text NOT NULL,
  scenario_run_id         text NOT NULL,
  pins_json               text NOT NULL,
  run_config_digest       text NOT NULL,
  decision_event_id       text,
  decision_payload_hash   text,
  decision_json           text,
  intent_count            integer NOT NULL,
  outcome_count           integer NOT NULL,
  unresolved_reasons_json text NOT NULL,
  chain_status            text NOT NULL CHECK (chain_status IN ('RESOLVED', 'UNRESOLVED')),
  unresolved_since_utc    timestamptz,
  audit_id                text,
  audit_record_digest     text,
  created_at_utc          timestamptz NOT NULL DEFAULT now(),
  updated_at_utc          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, decision_id)
);
CREATE INDEX IF NOT EXISTS dla_lineage_chains_status
  ON dla_lineage_chains (stream_id, chain_status, unresolved_since_utc);

CREATE TABLE IF NOT EXISTS dla_lineage_intents (
  stream_id        text NOT NULL,
  decision_id      text NOT NULL,
  action_id        text NOT NULL,
  platform_run_id  text NOT NULL,
  scenario_run_id  text NOT NULL,
  intent_event_id  text NOT NULL,
  payload_hash     text NOT NULL,
  link_json        text NOT NULL,
  requested_at_utc text NOT NULL,
  created_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, decision_id, action_id)
);

CREATE TABLE IF NOT EXISTS dla_lineage_outcomes (
  stream_id        text NOT NULL,
  decision_id      text NOT NULL,
  outcome_id       text NOT NULL,
  action_id        text NOT NULL,
  platform_run_id  text NOT NULL,
  scenario_run_id  text NOT NULL,
  outcome_event_id text NOT NULL,
  payload_hash     text NOT NULL,
  status           text NOT NULL,
  link_json        text NOT NULL,
  completed_at_utc text NOT NULL,
  created_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, decision_id, outcome_id)
);
`;
