import { z } from 'zod';
import { PlatformRunIdPattern, Provenance, SafeText } from './wire-primitives.ts';

/**
 * The platform run report (downstream.md §5 "Reporter", issue 15): `<run>/obs/platform_run_report.json`, every block of
 * the reference's report (ingress, rtdl, archive, case_labels, evidence_refs, basis, artifact_refs) plus what a person
 * reading a run wants beside it: the phase timeline, events/s over time per plane, each component's counts and health,
 * the decision quality block of P9 and the top cases with their timelines. The HTML page
 * (`<run>/obs/platform_run_report.html`) is rendered from this document alone.
 */

export const RUN_REPORT_SCHEMA = 'platform_run_report.v1';

export const HEALTH_STATES = ['GREEN', 'AMBER', 'RED', 'UNKNOWN'] as const;
export const HealthState = z.enum(HEALTH_STATES);
export type HealthState = z.infer<typeof HealthState>;

const Count = z.number().int().min(0);
const Counts = z.record(z.string(), z.number());

export const ComponentHealth = z.strictObject({
  /** Full component name (`ingestion-gate`, `decision-fabric`, …). */
  component: SafeText(64),
  health: HealthState,
  reasons: z.array(SafeText(512)),
  counts: Counts,
});
export type ComponentHealth = z.infer<typeof ComponentHealth>;

/** The run lifecycle's phases and the gate each ends with (docs/run-lifecycle.md). */
export const LIFECYCLE_PHASES: Readonly<Record<string, string>> = {
  P0: 'SUBSTRATE_READY',
  P1: 'RUN_PINNED',
  P2: 'DAEMONS_READY',
  P3: 'ORACLE_READY',
  P4: 'INGEST_READY',
  P5: 'READY_PUBLISHED',
  P6: 'STREAMING_ACTIVE',
  P7: 'INGEST_COMMITTED',
  P8: 'RTDL_CAUGHT_UP',
  P9: 'DECISION_CHAIN_COMMITTED',
  P10: 'CASE_LABELS_COMMITTED',
  P11: 'OBS_GOV_CLOSED',
  P12: 'DONE',
};

export const PhaseTiming = z.strictObject({
  /** P0 … P12. */
  phase: z.string().regex(/^P\d{1,2}$/),
  name: SafeText(64),
  started_at_utc: z.string().nullable(),
  ended_at_utc: z.string().nullable(),
  seconds: z.number().min(0).nullable(),
  status: z.enum(['PASS', 'FAIL', 'RUNNING', 'NOT_REACHED']),
});
export type PhaseTiming = z.infer<typeof PhaseTiming>;

export const PLANES = ['ingress', 'projectors', 'decisions', 'cases'] as const;
export const RateSeries = z.strictObject({
  plane: z.enum(PLANES),
  /** [seconds since `rates.started_at_utc`, events per second in that bucket]. */
  points: z.array(z.tuple([z.number().min(0), z.number().min(0)])),
  total: Count,
});
export type RateSeries = z.infer<typeof RateSeries>;

export const DecisionQualityBlock = z.strictObject({
  flows: Count,
  decisions: Count,
  decisions_by_action: Counts,
  flows_decided: Count,
  flows_undecided: Count,
  flows_flagged: Count,
  confusion: z.strictObject({
    true_positive: Count,
    false_positive: Count,
    false_negative: Count,
    true_negative: Count,
  }),
  precision: z.number().nullable(),
  recall_fraud: z.number().nullable(),
  by_label: z.record(
    z.string(),
    z.strictObject({ flows: Count, flagged: Count, recall: z.number().nullable() }),
  ),
  latency_ms: z.strictObject({
    p50: z.number().nullable(),
    p99: z.number().nullable(),
    max: z.number().nullable(),
    measured: Count,
  }),
});
export type DecisionQualityBlock = z.infer<typeof DecisionQualityBlock>;

export const ReportCase = z.strictObject({
  case_id: SafeText(64),
  subject_event_id: SafeText(256),
  trigger_count: Count,
  opened_at_utc: z.string(),
  /** The latest label status of the case's emissions (ACCEPTED, PENDING, REJECTED) or null. */
  label_status: z.string().nullable(),
  timeline: z.array(
    z.strictObject({
      type: SafeText(64),
      at_utc: z.string(),
      source_ref_id: SafeText(512),
    }),
  ),
});
export type ReportCase = z.infer<typeof ReportCase>;

export const PlatformRunReport = z.strictObject({
  schema: z.literal(RUN_REPORT_SCHEMA),
  generated_at_utc: z.string(),
  platform_run_id: PlatformRunIdPattern,
  scenario_run_ids: z.array(z.string()),
  ingress: z.strictObject({
    sent: Count,
    received: Count,
    admit: Count,
    duplicate: Count,
    quarantine: Count,
    publish_ambiguous: Count,
    receipt_write_failed: Count,
  }),
  rtdl: z.strictObject({
    inlet_seen: Count,
    deduped: Count,
    degraded: Count,
    decision: Count,
    outcome: Count,
    audit_append: Count,
  }),
  archive: z.strictObject({
    summary: z.strictObject({
      seen: Count,
      archived: Count,
      duplicate: Count,
      payload_mismatch: Count,
      write_error: Count,
    }),
    health_state: HealthState,
    reconciliation_totals: Counts,
  }),
  case_labels: z.strictObject({
    summary: z.strictObject({
      /** Escalations the case trigger should raise (decisions not ALLOW, or every decision in the reference's mode; failed actions). */
      triggers_expected: Count,
      triggers_seen: Count,
      cases_created: Count,
      labels_pending: Count,
      labels_accepted: Count,
      labels_rejected: Count,
      anomalies_total: Count,
    }),
    health_states: z.strictObject({
      case_trigger: HealthState,
      case_mgmt: HealthState,
      label_store: HealthState,
    }),
    /** Label store assertions by source type (AUTO: the machine's suspicion; EXTERNAL: the bank's view). */
    labels_by_source: Counts,
  }),
  components: z.array(ComponentHealth),
  phases: z.array(PhaseTiming),
  rates: z.strictObject({
    started_at_utc: z.string().nullable(),
    bucket_seconds: z.number().int().min(1),
    series: z.array(RateSeries),
  }),
  decision_quality: DecisionQualityBlock.nullable(),
  top_cases: z.array(ReportCase),
  evidence_refs: z.array(z.strictObject({ name: SafeText(128), ref: SafeText(1024) })),
  basis: z.strictObject({
    provenance: Provenance,
    evidence_ref_resolution: z.strictObject({ attempted: Count, resolved: Count, denied: Count }),
  }),
  artifact_refs: z.record(z.string(), z.string()),
});
export type PlatformRunReport = z.infer<typeof PlatformRunReport>;
