/**
 * World Streamer tables (control-ingress.md §4.1, §4.6):
 * - `wsp_ready_runs`: one row per READY message_id, the dedupe authority. `claim` inserts it IN_PROGRESS (attempt 1)
 *   or re-opens a FAILED one (attempt + 1); STREAMED and SKIPPED_OUT_OF_SCOPE are final and never re-opened.
 * - `wsp_ready_record`: the ready record, one line per outcome (§4.1 step 8), append-only.
 * - `wsp_checkpoint`: §4.6 one cursor per (scope key, output), written compare-and-set on `version`.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS wsp_ready_runs (
  message_id      text PRIMARY KEY CHECK (message_id ~ '^[0-9a-f]{64}$'),
  status          text NOT NULL CHECK (status IN ('IN_PROGRESS', 'STREAMED', 'FAILED', 'SKIPPED_OUT_OF_SCOPE')),
  attempt         integer NOT NULL CHECK (attempt >= 1),
  claimed_at_utc  timestamptz NOT NULL,
  updated_at_utc  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS wsp_ready_record (
  line_id         bigserial PRIMARY KEY,
  message_id      text NOT NULL,
  run_id          text NOT NULL,
  status          text NOT NULL CHECK (status IN ('STREAMED', 'FAILED', 'SKIPPED_DUPLICATE', 'SKIPPED_OUT_OF_SCOPE')),
  reason          text,
  emitted         bigint,
  engine_run_root text,
  scenario_id     text,
  ts_utc          text NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS wsp_ready_record_message ON wsp_ready_record (message_id, line_id);

CREATE TABLE IF NOT EXISTS wsp_checkpoint (
  pack_key        text NOT NULL,
  output_id       text NOT NULL,
  next_row        bigint NOT NULL CHECK (next_row >= 0),
  last_file       text,
  last_row_index  bigint,
  last_ts_utc     text,
  session_id      text NOT NULL,
  session_emitted bigint NOT NULL CHECK (session_emitted >= 0),
  reason          text NOT NULL,
  version         integer NOT NULL CHECK (version >= 1),
  updated_at_utc  timestamptz NOT NULL,
  PRIMARY KEY (pack_key, output_id)
);
`;
