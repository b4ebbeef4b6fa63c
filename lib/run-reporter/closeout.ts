import type { PlatformRunReport } from '../contracts/run-report.ts';
import type { EnvironmentConformance } from './conformance.ts';

/**
 * The closeout gates of a run (downstream.md §6), over the run report and the conformance document: what is missing,
 * by reason code (empty: the run may close). The components are named in full in the report.
 */

const GREEN_REQUIRED = [
  'archive-writer',
  'identity-graph',
  'online-features',
  'context-store',
  'decision-fabric',
  'action-layer',
  'decision-log',
  'case-trigger',
  'case-management',
  'label-store',
] as const;

export function closeoutGaps(report: PlatformRunReport, conformance: EnvironmentConformance): string[] {
  const gaps: string[] = [];
  if (conformance.status !== 'PASS')
    gaps.push(
      `CONFORMANCE_FAIL:${conformance.checks
        .filter((c) => c.status !== 'PASS')
        .map((c) => c.check_id)
        .join(',')}`,
    );
  if (report.ingress.admit === 0) gaps.push('INGRESS_NOTHING_ADMITTED');
  if (report.ingress.publish_ambiguous > 0)
    gaps.push(`PUBLISH_AMBIGUOUS:${report.ingress.publish_ambiguous}`);
  if (report.ingress.sent !== report.ingress.received)
    gaps.push(`INGRESS_SENT_NOT_RECEIVED:${report.ingress.sent}/${report.ingress.received}`);
  const byName = new Map(report.components.map((c) => [c.component, c]));
  for (const name of GREEN_REQUIRED) {
    const c = byName.get(name);
    if (!c) gaps.push(`COMPONENT_MISSING:${name}`);
    else if (c.health !== 'GREEN') gaps.push(`HEALTH:${name}=${c.health}`);
  }
  if (report.archive.summary.seen === 0) gaps.push('ARCHIVE_NOTHING_SEEN');
  const al = byName.get('action-layer')?.counts ?? {};
  if ((al.intake ?? -1) !== (al.outcomes ?? -2))
    gaps.push(`ACTION_LAYER_INTAKE_NOT_OUTCOMES:${al.intake ?? 'none'}/${al.outcomes ?? 'none'}`);
  const lineage = byName.get('decision-log')?.counts.lineage_unresolved_total;
  if (lineage === undefined || lineage > 0) gaps.push(`LINEAGE_UNRESOLVED:${lineage ?? 'unknown'}`);
  if (report.rtdl.decision < report.rtdl.outcome)
    gaps.push(`DECISIONS_BELOW_OUTCOMES:${report.rtdl.decision}/${report.rtdl.outcome}`);
  // The reference escalates every decision, so its gates ask for triggers and cases > 0. Ours escalates what a person
  // should look at (docs/case-labels.md): a run whose decisions are all ALLOW rightly has no case. So: every expected
  // trigger seen, and cases and accepted labels whenever there was an escalation.
  const s = report.case_labels.summary;
  if (s.triggers_seen < s.triggers_expected)
    gaps.push(`CASE_TRIGGERS_MISSING:${s.triggers_expected - s.triggers_seen}`);
  if (s.triggers_expected > 0 && s.cases_created === 0) gaps.push('NO_CASE_CREATED');
  if (s.triggers_expected > 0 && s.labels_accepted === 0) gaps.push('NO_LABEL_ACCEPTED');
  return gaps;
}
