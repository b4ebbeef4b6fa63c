/**
 * A SQL condition on `ig_receipts` / `ig_admissions` rows: the events a producer streamed into the run, not the
 * decision lane's or the case plane's own (the local cloud's decision fabric, action layer, decision log and case
 * trigger act on any active run's traffic and publish through IG under the same platform_run_id).
 */
export const STREAMED_ONLY =
  "event_type NOT IN ('decision_response', 'action_intent', 'action_outcome', 'dla.audit_record.v1', 'case_trigger')";
