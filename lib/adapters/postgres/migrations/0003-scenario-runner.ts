/**
 * Scenario Runner authority tables (control-ingress.md §3.2): `sr_run_equivalence` (run_equivalence_key → run_id
 * and the intent fingerprint first seen with it; the same key with another fingerprint is EQUIV_KEY_COLLISION)
 * and `sr_run_leases` (one lease per run; taken when absent or expired, renewed by every commit step, released
 * at the end of a submission).
 */
export const sql = `
CREATE TABLE IF NOT EXISTS sr_run_equivalence (
  run_equivalence_key text PRIMARY KEY CHECK (length(run_equivalence_key) >= 1),
  run_id              text NOT NULL CHECK (run_id ~ '^[0-9a-f]{32}$'),
  intent_fingerprint  text NOT NULL CHECK (intent_fingerprint ~ '^[0-9a-f]{64}$'),
  first_seen_at       timestamptz NOT NULL,
  last_seen_at        timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sr_run_equivalence_run_id ON sr_run_equivalence (run_id);

CREATE TABLE IF NOT EXISTS sr_run_leases (
  run_id      text PRIMARY KEY CHECK (run_id ~ '^[0-9a-f]{32}$'),
  owner_id    text NOT NULL,
  lease_token text NOT NULL,
  expires_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
`;
