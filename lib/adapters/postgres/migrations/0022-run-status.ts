/** P12 DONE: a run record's status (ACTIVE until the lifecycle stops it) and when it was stopped. */
export const sql = `
ALTER TABLE platform_runs ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'ACTIVE'
  CHECK (status IN ('ACTIVE', 'STOPPED'));
ALTER TABLE platform_runs ADD COLUMN IF NOT EXISTS stopped_at_utc timestamptz;
`;
