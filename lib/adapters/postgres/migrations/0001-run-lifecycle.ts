/** Platform runs and the active-run pointer (P1 RUN_PINNED). */
export const sql = `
CREATE TABLE IF NOT EXISTS platform_runs (
  platform_run_id text PRIMARY KEY CHECK (platform_run_id ~ '^platform_[0-9]{8}T[0-9]{6}Z$'),
  pinned_at_utc   timestamptz NOT NULL DEFAULT now(),
  pinned_by       text NOT NULL,
  evidence_json   jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE IF NOT EXISTS active_run (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  platform_run_id text NOT NULL REFERENCES platform_runs (platform_run_id),
  updated_at_utc  timestamptz NOT NULL DEFAULT now()
);
`;
