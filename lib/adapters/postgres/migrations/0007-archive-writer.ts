/**
 * Archive Writer tables (downstream.md §2.1; Postgres only, a Lambda keeps no state):
 * - `archive_writer_offsets`: the ledger, one row per record position per consumer scope (`archive_writer.v0::<run>`),
 *   with the payload hash first archived there and its `archive_ref` (a byte range of a segment object); seen and
 *   mismatch counts grow with replays.
 * - `archive_writer_offset_mismatches`: each other payload hash seen at a position (never overwrites the ledger).
 * - `archive_writer_checkpoints`: the highest offset handled per (scope, topic, partition).
 * - `archive_writer_counters`: the durable counters (seen, archived, duplicate, payload_mismatch, write_error,
 *   skipped and `skipped.<REASON>`) per scope and topic, read by the health and reconciliation documents.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS archive_writer_offsets (
  stream_id          text NOT NULL,
  topic              text NOT NULL,
  partition_id       integer NOT NULL CHECK (partition_id >= 0),
  offset_kind        text NOT NULL,
  offset_value       text NOT NULL,
  platform_run_id    text NOT NULL,
  event_id           text NOT NULL,
  event_type         text NOT NULL,
  payload_hash       text NOT NULL CHECK (payload_hash ~ '^[0-9a-f]{64}$'),
  archive_ref        text NOT NULL,
  seen_count         bigint NOT NULL DEFAULT 1,
  mismatch_count     bigint NOT NULL DEFAULT 0,
  first_seen_at_utc  timestamptz NOT NULL,
  last_seen_at_utc   timestamptz NOT NULL,
  PRIMARY KEY (stream_id, topic, partition_id, offset_kind, offset_value)
);
CREATE INDEX IF NOT EXISTS archive_writer_offsets_recent ON archive_writer_offsets (stream_id, first_seen_at_utc);

CREATE TABLE IF NOT EXISTS archive_writer_offset_mismatches (
  stream_id              text NOT NULL,
  topic                  text NOT NULL,
  partition_id           integer NOT NULL,
  offset_kind            text NOT NULL,
  offset_value           text NOT NULL,
  observed_payload_hash  text NOT NULL,
  platform_run_id        text NOT NULL,
  event_id               text NOT NULL,
  seen_count             bigint NOT NULL DEFAULT 1,
  first_seen_at_utc      timestamptz NOT NULL,
  last_seen_at_utc       timestamptz NOT NULL,
  PRIMARY KEY (stream_id, topic, partition_id, offset_kind, offset_value, observed_payload_hash)
);

CREATE TABLE IF NOT EXISTS archive_writer_checkpoints (
  stream_id       text NOT NULL,
  topic           text NOT NULL,
  partition_id    integer NOT NULL,
  offset_kind     text NOT NULL,
  next_offset     text NOT NULL CHECK (next_offset ~ '^[0-9]+$'),
  updated_at_utc  timestamptz NOT NULL,
  PRIMARY KEY (stream_id, topic, partition_id)
);

CREATE TABLE IF NOT EXISTS archive_writer_counters (
  stream_id  text NOT NULL,
  topic      text NOT NULL,
  metric     text NOT NULL,
  value      bigint NOT NULL CHECK (value >= 0),
  PRIMARY KEY (stream_id, topic, metric)
);
`;
