/**
 * Decision Fabric (downstream.md §3.2; issue 14): the replay ledger — one row per decision_id (and per source event of a
 * run) with its payload hash,
 * the envelopes it publishes (so a retried batch publishes exactly those again), IG's answers and when they came —
 * the payload mismatches it refused to overwrite, and the fabric's counters. Rows carry their run, so the P9 gate and
 * the quality report read a run's decisions by (platform_run_id, source_event_id).
 */
export const sql = `
CREATE TABLE IF NOT EXISTS df_decisions (
  decision_id      text PRIMARY KEY,
  platform_run_id  text NOT NULL,
  scenario_run_id  text NOT NULL,
  source_event_id  text NOT NULL,
  flow_id          text,
  action_kind      text NOT NULL,
  context_status   text NOT NULL,
  reason_codes     text[] NOT NULL,
  payload_hash     text NOT NULL,
  envelopes_json   text NOT NULL,
  bus_arrival_ms   bigint NOT NULL,
  published        boolean NOT NULL DEFAULT false,
  publish_decisions text[],
  admitted_at_ms   bigint,
  replay_count     integer NOT NULL DEFAULT 0,
  mismatch_count   integer NOT NULL DEFAULT 0,
  created_at_utc   timestamptz NOT NULL DEFAULT now()
);
-- One decision per source event of a run: a retry that would decide it again (another offset, another bundle outcome)
-- gets the stored decision back instead.
CREATE UNIQUE INDEX IF NOT EXISTS df_decisions_by_source_event ON df_decisions (platform_run_id, source_event_id);

CREATE TABLE IF NOT EXISTS df_payload_mismatches (
  decision_id           text NOT NULL,
  incoming_payload_hash text NOT NULL,
  stored_payload_hash   text NOT NULL,
  seen_at_utc           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (decision_id, incoming_payload_hash)
);

CREATE TABLE IF NOT EXISTS df_metrics (
  stream_id   text NOT NULL,
  metric_name text NOT NULL,
  value       bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (stream_id, metric_name)
);
`;
