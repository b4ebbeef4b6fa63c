/**
 * Case trigger (downstream.md §4.1, §7.4), every row under its stream id `case_trigger.v0::<platform_run_id>`: the
 * decision → source event map (one row per decision seen, ALLOW ones too; insert-once), the failed or denied outcomes
 * parked until their decision arrives (`raised_at_utc` set when their trigger settles), the replay ledger
 * (case_trigger_id → payload hash, never overwritten), the publish decision per trigger (an AMBIGUOUS one is replaced
 * by the next answer, a settled one kept), the CASE_TRIGGER_PAYLOAD_MISMATCH anomalies and the counters.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS ct_decision_sources (
  stream_id       text NOT NULL,
  decision_id     text NOT NULL,
  platform_run_id text NOT NULL,
  scenario_run_id text NOT NULL,
  source_event_id text NOT NULL,
  recorded_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, decision_id)
);

CREATE TABLE IF NOT EXISTS ct_waiting_outcomes (
  stream_id          text NOT NULL,
  outcome_id         text NOT NULL,
  decision_id        text NOT NULL,
  platform_run_id    text NOT NULL,
  scenario_run_id    text NOT NULL,
  status             text NOT NULL CHECK (status IN ('FAILED', 'DENIED')),
  outcome_json       text NOT NULL,
  parked_at_utc      timestamptz NOT NULL DEFAULT now(),
  raised_at_utc      timestamptz,
  case_trigger_id    text,
  raised_disposition text CHECK (raised_disposition IN ('PUBLISHED', 'REPLAY', 'QUARANTINED')),
  PRIMARY KEY (stream_id, outcome_id)
);
CREATE INDEX IF NOT EXISTS ct_waiting_outcomes_by_decision
  ON ct_waiting_outcomes (stream_id, decision_id) WHERE raised_at_utc IS NULL;

CREATE TABLE IF NOT EXISTS ct_replay_ledger (
  stream_id         text NOT NULL,
  case_trigger_id   text NOT NULL,
  case_id           text NOT NULL,
  trigger_type      text NOT NULL,
  source_ref_id     text NOT NULL,
  platform_run_id   text NOT NULL,
  scenario_run_id   text NOT NULL,
  payload_hash      text NOT NULL,
  payload_json      text NOT NULL,
  first_seen_at_utc text NOT NULL,
  created_at_utc    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, case_trigger_id)
);

CREATE TABLE IF NOT EXISTS ct_trigger_publish (
  stream_id        text NOT NULL,
  case_trigger_id  text NOT NULL,
  publish_decision text NOT NULL CHECK (publish_decision IN ('ADMIT', 'DUPLICATE', 'QUARANTINE', 'AMBIGUOUS')),
  receipt_ref      text,
  reason_code      text,
  attempts         integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
  first_at_utc     timestamptz NOT NULL DEFAULT now(),
  updated_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, case_trigger_id)
);

CREATE TABLE IF NOT EXISTS ct_anomalies (
  stream_id             text NOT NULL,
  case_trigger_id       text NOT NULL,
  observed_payload_hash text NOT NULL,
  anomaly_family        text NOT NULL DEFAULT 'CORRIDOR_ANOMALY',
  reason_code           text NOT NULL,
  stored_payload_hash   text NOT NULL,
  source_ref_id         text NOT NULL,
  platform_run_id       text NOT NULL,
  scenario_run_id       text NOT NULL,
  observed_at_utc       text NOT NULL,
  recorded_at_utc       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, case_trigger_id, observed_payload_hash)
);

CREATE TABLE IF NOT EXISTS ct_metrics (
  stream_id      text NOT NULL,
  metric_name    text NOT NULL,
  value          bigint NOT NULL CHECK (value >= 0),
  updated_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, metric_name)
);
`;
