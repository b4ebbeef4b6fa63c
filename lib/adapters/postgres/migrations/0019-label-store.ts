/**
 * Label Store (downstream.md §4.3): `ls_label_assertions` (one row per label_assertion_id, never updated but for its
 * replay count; the idempotency tuple (platform_run_id, event_id, label_type, label_assertion_id) unique; times are
 * RFC 3339 text with six fractional digits, so text order is time order; evidence and pins are canonical JSON text),
 * `ls_label_timeline` (append-only, one row per committed assertion, ordered per subject and type by timeline_seq),
 * `ls_label_mismatches` (append-only, one row per rejected write of a stored id: PAYLOAD_HASH_MISMATCH or
 * DEDUPE_TUPLE_COLLISION, with both hashes) and the counters per run (`ls_metrics`).
 */
export const sql = `
CREATE TABLE IF NOT EXISTS ls_label_assertions (
  label_assertion_id     text PRIMARY KEY,
  platform_run_id        text NOT NULL,
  event_id               text NOT NULL,
  label_type             text NOT NULL
    CHECK (label_type IN ('fraud_disposition', 'chargeback_status', 'account_takeover')),
  label_value            text NOT NULL,
  effective_time         text NOT NULL,
  observed_time          text NOT NULL,
  source_type            text NOT NULL CHECK (source_type IN ('HUMAN', 'EXTERNAL', 'AUTO', 'SYSTEM')),
  actor_id               text,
  evidence_refs          text NOT NULL,
  case_timeline_event_id text NOT NULL,
  pins                   text NOT NULL,
  payload_hash           text NOT NULL,
  replay_count           integer NOT NULL DEFAULT 0 CHECK (replay_count >= 0),
  created_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ls_label_assertions_idempotency_tuple
    UNIQUE (platform_run_id, event_id, label_type, label_assertion_id)
);
-- As-of reads: one subject and type, observed_time ≤ as_of, in the §4.3 order.
CREATE INDEX IF NOT EXISTS ls_label_assertions_as_of
  ON ls_label_assertions (platform_run_id, event_id, label_type, observed_time, effective_time, label_assertion_id);

CREATE TABLE IF NOT EXISTS ls_label_timeline (
  timeline_seq       bigserial PRIMARY KEY,
  label_assertion_id text NOT NULL UNIQUE REFERENCES ls_label_assertions (label_assertion_id),
  platform_run_id    text NOT NULL,
  event_id           text NOT NULL,
  label_type         text NOT NULL,
  label_value        text NOT NULL,
  effective_time     text NOT NULL,
  observed_time      text NOT NULL,
  source_type        text NOT NULL,
  committed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ls_label_timeline_subject
  ON ls_label_timeline (platform_run_id, event_id, label_type, timeline_seq);

CREATE TABLE IF NOT EXISTS ls_label_mismatches (
  mismatch_id           bigserial PRIMARY KEY,
  label_assertion_id    text NOT NULL,
  reason_code           text NOT NULL CHECK (reason_code IN ('PAYLOAD_HASH_MISMATCH', 'DEDUPE_TUPLE_COLLISION')),
  platform_run_id       text NOT NULL,
  event_id              text NOT NULL,
  label_type            text NOT NULL,
  incoming_payload_hash text NOT NULL,
  stored_payload_hash   text NOT NULL,
  recorded_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ls_label_mismatches_run ON ls_label_mismatches (platform_run_id, mismatch_id);

CREATE TABLE IF NOT EXISTS ls_metrics (
  platform_run_id text NOT NULL,
  metric_name     text NOT NULL,
  value           bigint NOT NULL CHECK (value >= 0),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (platform_run_id, metric_name)
);
`;
