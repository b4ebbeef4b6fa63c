import { BoundedWaitRequest, checkBoundedGate } from './bounded-wait.ts';
import type { PhaseEvidenceStore } from './phase-evidence.ts';

/**
 * P10 CASE_LABELS_COMMITTED (issue 15): every decision that asks a person to look (not ALLOW) and every failed or
 * denied action became a case trigger admitted on the case topic; case management took each in, opened the cases, wrote
 * their timelines and had the label store accept each trigger's label; the three components are GREEN. Called in a
 * loop with a Wait between (the case plane drains behind the decision lane); when complete, or when the bounded wait
 * (CASE_LABELS_TIMEOUT_SECONDS from the first check) ends, it writes `<run>/lifecycle/P10_CASE_LABELS_COMMITTED.json`
 * and answers `done`; `committed` says whether the gate passes and `missing` names what is missing by reason code.
 */

export interface CaseLabelsCounts {
  /** Triggers the case trigger should raise: decisions not ALLOW (or every decision, when so configured) + failed/denied outcomes. */
  triggers_expected: number;
  /** Case triggers IG admitted for the run. */
  triggers_admitted: number;
  /** Triggers case management took in as new. */
  triggers_taken_in: number;
  cases_created: number;
  timeline_events: number;
  labels_pending: number;
  labels_accepted: number;
  labels_rejected: number;
  /** Case management's anomalies (payload mismatches, quarantined triggers). */
  anomalies_total: number;
  /** Label store assertions of the run by source type (AUTO, EXTERNAL, HUMAN, SYSTEM). */
  label_store_by_source: Record<string, number>;
  health: { case_trigger: string; case_management: string; label_store: string };
}

export interface CaseLabelsPorts {
  counts(platformRunId: string): Promise<CaseLabelsCounts>;
  evidence: PhaseEvidenceStore;
  now(): Date;
}

export const CaseLabelsRequest = BoundedWaitRequest;

/** What is missing, by reason code (empty: the case plane is whole for the run). */
export function missingCaseLinks(c: CaseLabelsCounts): string[] {
  const missing: string[] = [];
  if (c.triggers_admitted < c.triggers_expected)
    missing.push(`TRIGGERS_MISSING:${c.triggers_expected - c.triggers_admitted}`);
  if (c.triggers_taken_in < c.triggers_admitted)
    missing.push(`TRIGGERS_NOT_TAKEN_IN:${c.triggers_admitted - c.triggers_taken_in}`);
  if (c.triggers_expected > 0 && c.cases_created === 0) missing.push('NO_CASE_CREATED');
  if (c.labels_pending > 0) missing.push(`LABELS_PENDING:${c.labels_pending}`);
  if (c.labels_accepted + c.labels_rejected < c.triggers_taken_in)
    missing.push(`LABELS_NOT_EMITTED:${c.triggers_taken_in - c.labels_accepted - c.labels_rejected}`);
  if (c.labels_rejected > 0) missing.push(`LABELS_REJECTED:${c.labels_rejected}`);
  for (const [component, state] of Object.entries(c.health))
    if (state !== 'GREEN') missing.push(`HEALTH:${component}=${state}`);
  return missing;
}

export function checkCaseLabels(request: unknown, ports: CaseLabelsPorts, timeoutSeconds: number) {
  return checkBoundedGate(
    request,
    {
      phase: 'P10',
      gate: 'CASE_LABELS_COMMITTED',
      evidenceName: 'P10_CASE_LABELS_COMMITTED',
      counts: ports.counts,
      missing: missingCaseLinks,
      passed: (c, waited) =>
        `${c.triggers_admitted} case triggers, ${c.cases_created} cases, ${c.labels_accepted} labels accepted (waited ${waited} s)`,
    },
    ports,
    timeoutSeconds,
  );
}
