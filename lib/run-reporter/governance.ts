import { PlatformGovernanceEvent } from '../contracts/governance.ts';
import { governanceEventId } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import type { Provenance } from '../contracts/wire-primitives.ts';

/**
 * The run reporter's governance events (downstream.md §5 "Governance"): RUN_REPORT_GENERATED once per report content,
 * EVIDENCE_REF_RESOLVED per evidence ref it resolved (≤ 50), RUN_ENDED when the run closes. Ids by the §5 recipe with a
 * dedupe key, so a re-run emits the same events (the sink writes each object once).
 */

export const RUN_REPORTER_COMPONENT = 'run_reporter';
export const RUN_REPORTER_ACTOR_ID = 'SYSTEM::run_reporter';
/** The most evidence refs resolved (and announced) per report (downstream.md §5). */
export const MAX_RESOLVED_REFS = 50;

export interface GovernanceContext {
  platformRunId: string;
  scenarioRunId: string | undefined;
  provenance: Provenance;
  at: Date;
}

function event(
  family: 'RUN_REPORT_GENERATED' | 'EVIDENCE_REF_RESOLVED' | 'RUN_ENDED',
  ctx: GovernanceContext,
  dedupeKey: string,
  details: Record<string, unknown>,
): PlatformGovernanceEvent {
  return PlatformGovernanceEvent.parse({
    event_id: governanceEventId({
      eventFamily: family,
      platformRunId: ctx.platformRunId,
      scenarioRunId: ctx.scenarioRunId ?? '',
      sourceComponent: RUN_REPORTER_COMPONENT,
      dedupeKey,
      details,
    }),
    event_family: family,
    ts_utc: pythonIsoformat(ctx.at),
    actor: {
      actor_id: RUN_REPORTER_ACTOR_ID,
      source_type: 'SYSTEM',
      source_component: RUN_REPORTER_COMPONENT,
    },
    pins: {
      platform_run_id: ctx.platformRunId,
      ...(ctx.scenarioRunId ? { scenario_run_id: ctx.scenarioRunId } : {}),
    },
    provenance: ctx.provenance,
    details,
  });
}

export const reportGeneratedEvent = (ctx: GovernanceContext, reportRef: string, reportDigest: string) =>
  event('RUN_REPORT_GENERATED', ctx, `run_report:${reportDigest}`, {
    report_ref: reportRef,
    report_digest: reportDigest,
  });

export const evidenceResolvedEvent = (ctx: GovernanceContext, name: string, ref: string, status: string) =>
  event('EVIDENCE_REF_RESOLVED', ctx, `evidence_ref:${ref}`, { name, ref, resolution: status });

export const runEndedEvent = (ctx: GovernanceContext, status: string, reportRef: string) =>
  event('RUN_ENDED', ctx, `run_ended:${ctx.platformRunId}`, { status, report_ref: reportRef });
