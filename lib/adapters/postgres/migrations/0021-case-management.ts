/**
 * Case management (downstream.md §4.2): the trigger intake ledger (one row per case_trigger_id, its payload hash
 * guarded), the cases (one per case_id and subject; trigger_count), the append-only timeline (one event per (case,
 * type, source ref); `timeline_seq` is the order it was written in), the label emissions (the handshake with the label
 * store: PENDING until it answers, attempts and the last write error kept), the quarantine (evidence of records not
 * taken in, one row per scope and bus position) and the per-scope delivery counters (`case_mgmt.v0::<run>`).
 */
export const sql = `
CREATE TABLE IF NOT EXISTS cm_case_trigger_intake (
  case_trigger_id  text PRIMARY KEY,
  platform_run_id  text NOT NULL,
  case_id          text NOT NULL,
  trigger_type     text NOT NULL,
  source_ref_id    text NOT NULL,
  observed_time    text NOT NULL,
  payload_hash     text NOT NULL,
  payload_json     text NOT NULL,
  recorded_at_utc  text NOT NULL
);
CREATE INDEX IF NOT EXISTS cm_case_trigger_intake_run ON cm_case_trigger_intake (platform_run_id);

CREATE TABLE IF NOT EXISTS cm_cases (
  case_id             text PRIMARY KEY,
  case_seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  platform_run_id     text NOT NULL,
  event_class         text NOT NULL,
  event_id            text NOT NULL,
  subject_hash        text NOT NULL UNIQUE,
  trigger_count       integer NOT NULL CHECK (trigger_count > 0),
  first_observed_time text NOT NULL,
  last_observed_time  text NOT NULL,
  created_at_utc      text NOT NULL,
  updated_at_utc      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cm_cases_run_newest ON cm_cases (platform_run_id, case_seq DESC);

CREATE TABLE IF NOT EXISTS cm_case_timeline (
  case_timeline_event_id text PRIMARY KEY,
  timeline_seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  case_id                text NOT NULL REFERENCES cm_cases (case_id),
  platform_run_id        text NOT NULL,
  timeline_event_type    text NOT NULL CHECK (timeline_event_type IN ('CASE_TRIGGERED', 'EVIDENCE_ATTACHED',
    'ACTION_INTENT_REQUESTED', 'ACTION_OUTCOME_ATTACHED', 'LABEL_PENDING', 'LABEL_ACCEPTED', 'LABEL_REJECTED',
    'INVESTIGATOR_ASSERTION')),
  source_ref_id          text NOT NULL,
  observed_time          text NOT NULL,
  payload_json           text NOT NULL,
  payload_hash           text NOT NULL,
  recorded_at_utc        text NOT NULL,
  UNIQUE (case_id, timeline_event_type, source_ref_id)
);
CREATE INDEX IF NOT EXISTS cm_case_timeline_run ON cm_case_timeline (platform_run_id);

CREATE TABLE IF NOT EXISTS cm_label_emissions (
  label_assertion_id     text PRIMARY KEY,
  emission_seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  case_id                text NOT NULL REFERENCES cm_cases (case_id),
  case_trigger_id        text NOT NULL UNIQUE REFERENCES cm_case_trigger_intake (case_trigger_id),
  platform_run_id        text NOT NULL,
  label_pending_event_id text NOT NULL REFERENCES cm_case_timeline (case_timeline_event_id),
  observed_time          text NOT NULL,
  input_json             text NOT NULL,
  status                 text NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'REJECTED')),
  attempts               integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  reason_code            text,
  last_error             text,
  created_at_utc         timestamptz NOT NULL DEFAULT now(),
  updated_at_utc         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cm_label_emissions_case ON cm_label_emissions (case_id, emission_seq DESC);
CREATE INDEX IF NOT EXISTS cm_label_emissions_pending ON cm_label_emissions (platform_run_id, emission_seq)
  WHERE status = 'PENDING';

CREATE TABLE IF NOT EXISTS cm_quarantine (
  scope_id        text NOT NULL,
  topic           text NOT NULL,
  partition_id    integer NOT NULL,
  "offset"        text NOT NULL,
  reason_code     text NOT NULL,
  detail          text,
  event_id        text,
  case_trigger_id text,
  platform_run_id text,
  data_base64     text NOT NULL,
  data_sha256     text NOT NULL,
  data_bytes      integer NOT NULL,
  recorded_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope_id, topic, partition_id, "offset")
);

CREATE TABLE IF NOT EXISTS cm_metrics (
  scope_id       text NOT NULL,
  metric_name    text NOT NULL,
  value          bigint NOT NULL CHECK (value >= 0),
  updated_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope_id, metric_name)
);
`;
