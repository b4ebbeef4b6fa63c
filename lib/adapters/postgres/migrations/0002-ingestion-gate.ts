/**
 * Ingestion Gate tables (control-ingress.md §5.8): `ig_admissions` (the dedupe authority and the outbox: the
 * record to publish is kept with the row until it is published), `ig_receipts` (lookup index of the receipts
 * in S3) and `ig_quarantines`.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS ig_admissions (
  dedupe_key              text PRIMARY KEY,
  state                   text NOT NULL CHECK (state IN ('PUBLISH_PENDING', 'ADMITTED')),
  platform_run_id         text NOT NULL,
  event_class             text NOT NULL,
  event_id                text NOT NULL,
  event_type              text NOT NULL,
  payload_hash            text NOT NULL,
  stream                  text NOT NULL,
  partition_key           text NOT NULL,
  partitioning_profile_id text NOT NULL,
  record                  text NOT NULL,
  publish_attempts        integer NOT NULL DEFAULT 0,
  last_error              text,
  claimed_until           timestamptz,
  eb_ref                  jsonb,
  receipt_ref             text,
  admitted_at_utc         text,
  created_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ig_admissions_pending ON ig_admissions (created_at) WHERE state = 'PUBLISH_PENDING';

CREATE TABLE IF NOT EXISTS ig_receipts (
  platform_run_id   text NOT NULL DEFAULT '',
  receipt_id        text NOT NULL,
  event_id          text NOT NULL,
  event_type        text NOT NULL,
  dedupe_key        text,
  decision          text NOT NULL CHECK (decision IN ('ADMIT', 'DUPLICATE', 'QUARANTINE')),
  eb_ref            jsonb,
  receipt_ref       text NOT NULL,
  reason_codes_json jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at_utc    timestamptz NOT NULL,
  UNIQUE (platform_run_id, receipt_id)
);
CREATE INDEX IF NOT EXISTS ig_receipts_receipt_id ON ig_receipts (receipt_id);
CREATE INDEX IF NOT EXISTS ig_receipts_event_id ON ig_receipts (event_id, created_at_utc);
CREATE INDEX IF NOT EXISTS ig_receipts_dedupe_key ON ig_receipts (dedupe_key, created_at_utc);

CREATE TABLE IF NOT EXISTS ig_quarantines (
  quarantine_id     text PRIMARY KEY,
  platform_run_id   text NOT NULL DEFAULT '',
  event_id          text,
  reason_codes_json jsonb NOT NULL,
  evidence_ref      text NOT NULL,
  created_at_utc    timestamptz NOT NULL
);
`;
