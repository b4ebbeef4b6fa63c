/**
 * Leaner Ingestion Gate writes (measured: indexing receipts was the largest part of a batch's commit). Receipts
 * keep two indexes instead of four: one unique index on (receipt_id, platform_run_id) serves both the
 * `ON CONFLICT` of the commit and the lookup by receipt_id; (event_id, created_at_utc) serves the lookup by
 * event_id, and by dedupe_key through ig_admissions. A published admission row no longer keeps its record: the
 * record is the outbox copy, needed only while the row is PUBLISH_PENDING.
 */
export const sql = `
CREATE UNIQUE INDEX IF NOT EXISTS ig_receipts_receipt_id_run ON ig_receipts (receipt_id, platform_run_id);
ALTER TABLE ig_receipts DROP CONSTRAINT IF EXISTS ig_receipts_platform_run_id_receipt_id_key;
DROP INDEX IF EXISTS ig_receipts_receipt_id;
DROP INDEX IF EXISTS ig_receipts_dedupe_key;
ALTER TABLE ig_admissions ALTER COLUMN record DROP NOT NULL;
`;
