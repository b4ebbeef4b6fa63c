/**
 * What P7 needs to measure the event-time alignment of a run on the bus (docs/scenario-runner-and-world-streamer.md,
 * "Event-time alignment"): each admission row keeps its envelope's `ts_utc` and its payload's `flow_id` (exact
 * decimal), written when the row is reserved (the record itself is dropped once published, migration 0006). Null for
 * rows reserved before this migration, and `flow_id` for events without one.
 */
export const sql = `
ALTER TABLE ig_admissions ADD COLUMN IF NOT EXISTS ts_utc text;
ALTER TABLE ig_admissions ADD COLUMN IF NOT EXISTS flow_id text;
`;
