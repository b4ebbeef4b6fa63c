import { z } from 'zod';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { sha256Hex } from '../contracts/identity.ts';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { PlatformRunReport, RUN_REPORT_SCHEMA } from '../contracts/run-report.ts';
import { closeoutGaps } from './closeout.ts';
import { environmentConformance } from './conformance.ts';
import {
  evidenceResolvedEvent,
  type GovernanceContext,
  MAX_RESOLVED_REFS,
  reportGeneratedEvent,
  runEndedEvent,
} from './governance.ts';
import { renderRunReportHtml } from './html.ts';
import type { RunReporterPorts } from './ports.ts';
import { phaseTimeline, rateSeries } from './timeline.ts';

/**
 * P11 OBS_GOV_CLOSED's work (issue 15): under the run's single-writer lock, the run report
 * (`<run>/obs/platform_run_report.json` and its page `.html`), the environment conformance
 * (`<run>/obs/environment_conformance.json`), the evidence refs resolved (≤ 50, each announced), and the governance
 * events RUN_REPORT_GENERATED and — when the closeout gates hold — RUN_ENDED. Safe to re-run: the documents are
 * replaced by the same writer, the governance events are written once by id.
 */

export const RunReportRequest = z.object({
  platform_run_id: PlatformRunId,
  /** The lifecycle execution, whose history gives the phase timeline. */
  execution_arn: z.string().min(1).max(2048).optional(),
  /** Phases the caller knows have passed though the history has not shown a later one yet (e.g. P10 before P11). */
  phases_passed: z
    .array(z.string().regex(/^P\d{1,2}$/))
    .max(13)
    .default([]),
});

export const reportKey = (run: string, name: string) => `${run}/obs/${name}`;

/** `s3://bucket/<run>/…` refs of this run only; anything else is REF_SCOPE_MISMATCH / REF_INVALID. */
function scopeOf(ref: string, run: string): 'IN_SCOPE' | 'REF_SCOPE_MISMATCH' | 'REF_INVALID' {
  const m = /^s3:\/\/[^/]+\/(.+)$/.exec(ref);
  if (!m?.[1]) return 'REF_INVALID';
  return m[1].startsWith(`${run}/`) ? 'IN_SCOPE' : 'REF_SCOPE_MISMATCH';
}

export async function generateRunReport(request: unknown, ports: RunReporterPorts) {
  const req = RunReportRequest.parse(request);
  const run = req.platform_run_id;
  const outcome = await ports.singleWriter(run, async () => {
    const [blocks, counts, history] = await Promise.all([
      ports.sources.blocks(run),
      ports.sources.planeCounts(run),
      ports.sources.history(req.execution_arn),
    ]);
    const at = ports.now();
    const resolution = { attempted: 0, resolved: 0, denied: 0 };
    const resolved: { name: string; ref: string; status: string }[] = [];
    for (const e of blocks.evidence_refs.slice(0, MAX_RESOLVED_REFS)) {
      resolution.attempted += 1;
      const scope = scopeOf(e.ref, run);
      const status = scope === 'IN_SCOPE' ? await ports.objects.resolve(e.ref) : scope;
      if (status === 'RESOLVED') resolution.resolved += 1;
      else resolution.denied += 1;
      resolved.push({ ...e, status });
    }
    const report = PlatformRunReport.parse({
      schema: RUN_REPORT_SCHEMA,
      generated_at_utc: at.toISOString(),
      platform_run_id: run,
      ...blocks,
      phases: phaseTimeline(history, new Set(req.phases_passed)),
      rates: rateSeries(counts),
      basis: { provenance: ports.sources.provenance(), evidence_ref_resolution: resolution },
    });
    const conformance = environmentConformance(ports.conformanceInputs());
    const gaps = closeoutGaps(report, conformance);
    const reportJson = `${canonicalJson(report)}\n`;
    const reportRef = await ports.objects.put(
      reportKey(run, 'platform_run_report.json'),
      reportJson,
      'application/json',
    );
    const html = renderRunReportHtml(report, await ports.pageAssets());
    const htmlRef = await ports.objects.put(
      reportKey(run, 'platform_run_report.html'),
      html,
      'text/html; charset=utf-8',
    );
    const conformanceRef = await ports.objects.put(
      reportKey(run, 'environment_conformance.json'),
      `${canonicalJson({ platform_run_id: run, generated_at_utc: at.toISOString(), ...conformance })}\n`,
      'application/json',
    );
    // The digest leaves out the clock, so a re-run of an unchanged run announces the same report once.
    const digest = sha256Hex(canonicalJson({ ...report, generated_at_utc: null }));
    const ctx: GovernanceContext = {
      platformRunId: run,
      scenarioRunId: report.scenario_run_ids[0],
      provenance: report.basis.provenance,
      at,
    };
    const events = [
      reportGeneratedEvent(ctx, reportRef, digest),
      ...resolved.map((r) => evidenceResolvedEvent(ctx, r.name, r.ref, r.status)),
      ...(gaps.length === 0 ? [runEndedEvent(ctx, 'CLOSED', reportRef)] : []),
    ];
    let governanceWritten = 0;
    for (const e of events) if (await ports.governance.emit(e)) governanceWritten += 1;
    return {
      report,
      refs: { report: reportRef, html: htmlRef, conformance: conformanceRef },
      conformance: conformance.status,
      gaps,
      governance: { events: events.length, written: governanceWritten },
    };
  });
  if (!outcome)
    return { platform_run_id: run, written: false, closed: false, reason: 'REPORT_WRITER_BUSY', gaps: [] };
  const r = outcome.report;
  return {
    platform_run_id: run,
    written: true,
    closed: outcome.gaps.length === 0,
    gaps: outcome.gaps,
    conformance: outcome.conformance,
    refs: outcome.refs,
    governance: outcome.governance,
    summary: outcome.gaps.length === 0 ? 'every closeout gate holds' : outcome.gaps.join('; '),
    headline: {
      admitted: r.ingress.admit,
      decisions: r.rtdl.decision,
      cases: r.case_labels.summary.cases_created,
      labels_accepted: r.case_labels.summary.labels_accepted,
      precision: r.decision_quality?.precision ?? null,
      recall_fraud: r.decision_quality?.recall_fraud ?? null,
    },
  };
}
