/**
 * Degrade Ladder (downstream.md §3.1): the current posture per (stream, scope) — its seq only ever rises — and the
 * outbox of posture changes (INITIAL, MODE_CHANGE), one row per changing seq, written in the posture's transaction.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS dl_current_posture (
  stream_id      text NOT NULL,
  scope_key      text NOT NULL,
  posture_seq    bigint NOT NULL CHECK (posture_seq > 0),
  mode           text NOT NULL,
  decided_at_utc text NOT NULL,
  posture_json   text NOT NULL,
  updated_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, scope_key)
);

CREATE TABLE IF NOT EXISTS dl_posture_outbox (
  stream_id        text NOT NULL,
  scope_key        text NOT NULL,
  posture_seq      bigint NOT NULL,
  event_type       text NOT NULL,
  transition       text NOT NULL,
  event_json       text NOT NULL,
  created_at_utc   timestamptz NOT NULL DEFAULT now(),
  published_at_utc timestamptz,
  PRIMARY KEY (stream_id, scope_key, posture_seq)
);
`;
