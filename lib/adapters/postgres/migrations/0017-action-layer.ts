/**
 * Action Layer (downstream.md §3.3), every row under its stream id `al.v0::<platform_run_id>`: the semantic ledger
 * (one row per intent, claimed before it runs; its intent hash guarded; `outcome_id` set when its outcome is
 * appended), the append-only outcomes (hash guard ⇒ OUTCOME_HASH_MISMATCH), the publish decision per outcome (an
 * AMBIGUOUS one is replaced by the next answer, a settled one kept) and the counters.
 */
export const sql = `
CREATE TABLE IF NOT EXISTS al_semantic_ledger (
  stream_id         text NOT NULL,
  platform_run_id   text NOT NULL,
  scenario_run_id   text NOT NULL,
  semantic_key      text NOT NULL,
  idempotency_key   text NOT NULL,
  action_id         text NOT NULL,
  decision_id       text NOT NULL,
  intent_hash       text NOT NULL,
  first_seen_at_utc text NOT NULL,
  outcome_id        text,
  created_at_utc    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, platform_run_id, scenario_run_id, semantic_key)
);

CREATE TABLE IF NOT EXISTS al_outcomes_append (
  stream_id        text NOT NULL,
  outcome_id       text NOT NULL,
  platform_run_id  text NOT NULL,
  scenario_run_id  text NOT NULL,
  semantic_key     text NOT NULL,
  decision_id      text NOT NULL,
  action_id        text NOT NULL,
  status           text NOT NULL CHECK (status IN ('EXECUTED', 'DENIED', 'FAILED')),
  outcome_hash     text NOT NULL,
  outcome_json     text NOT NULL,
  completed_at_utc text NOT NULL,
  recorded_at_utc  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, outcome_id)
);

CREATE TABLE IF NOT EXISTS al_outcome_publish (
  stream_id        text NOT NULL,
  outcome_id       text NOT NULL,
  publish_decision text NOT NULL CHECK (publish_decision IN ('ADMIT', 'DUPLICATE', 'QUARANTINE', 'AMBIGUOUS')),
  receipt_ref      text,
  reason_code      text,
  attempts         integer NOT NULL DEFAULT 1 CHECK (attempts > 0),
  first_at_utc     timestamptz NOT NULL DEFAULT now(),
  updated_at_utc   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, outcome_id)
);

CREATE TABLE IF NOT EXISTS al_metrics (
  stream_id      text NOT NULL,
  metric_name    text NOT NULL,
  value          bigint NOT NULL CHECK (value >= 0),
  updated_at_utc timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, metric_name)
);
`;
