/**
 * Context store counters (downstream.md §2.4 metrics are derived from rows; these add what rows cannot say: every
 * delivery and its outcome — seen, applied, duplicate, skipped, failed — each also per topic as
 * `<name>|topic=<t>`), written in the record's own transaction, for the projector report and the P8 gate.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS csfb_counters (
  stream_id      text NOT NULL,
  metric_name    text NOT NULL,
  value          bigint NOT NULL CHECK (value >= 0),
  updated_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, metric_name)
);
`;
