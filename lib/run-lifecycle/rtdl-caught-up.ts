import { z } from 'zod';
import { compareOffsets } from '../contracts/consumer-checkpoint.ts';
import { PARTITION_PROFILES } from '../contracts/partitioning.ts';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { ProjectorReport } from '../contracts/projector-report.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * P8 RTDL_CAUGHT_UP. Two steps of the run-lifecycle state machine:
 *
 * 1. `checkCaughtUp` (called in a loop with a Wait between): for each projector and each topic it consumes, every
 *    event the Ingestion Gate admitted for the run is applied or accounted for. Proof by position: on each
 *    (topic, partition) IG published to, the projector's checkpoint (the highest offset it applied, skipped or
 *    failed with a row, in the same transaction as that outcome) has reached the highest offset IG published there.
 *    Proof by count: the run's distinct events the projector recorded on the topic (applied, or with a failure row)
 *    equal IG's admitted events there. Both read Postgres, so the gate works the same on AWS. Past the deadline
 *    (RTDL_CAUGHT_UP_TIMEOUT_SECONDS from the first check) it stops waiting and names the lagging projector and topic.
 * 2. `writeCaughtUpEvidence` (after each projector wrote its documents): the identity graph's reconciliation.json
 *    exists, every count reconciles; writes `<run>/lifecycle/P8_RTDL_CAUGHT_UP.json`.
 */

export const PROJECTORS = ['archive-writer', 'identity-graph', 'context-store', 'online-features'] as const;
export type Projector = (typeof PROJECTORS)[number];

const TOPIC = {
  traffic: PARTITION_PROFILES['ig.partitioning.v0.traffic.fraud'].stream,
  arrivalEvents: PARTITION_PROFILES['ig.partitioning.v0.context.arrival_events'].stream,
  arrivalEntities: PARTITION_PROFILES['ig.partitioning.v0.context.arrival_entities'].stream,
  flowAnchor: PARTITION_PROFILES['ig.partitioning.v0.context.flow_anchor.fraud'].stream,
};
const CONTEXT_TOPICS = [TOPIC.arrivalEvents, TOPIC.arrivalEntities, TOPIC.flowAnchor];

/**
 * The topics each projector consumes (its mappings in serverless.yml) that P8 waits on: the ingest topics, which are
 * complete once P7 has committed. The archive writer also archives the decision lane's topics (rtdl, audit), which keep
 * growing while the lane drains: P9 waits on those.
 */
export const PROJECTOR_TOPICS: Record<Projector, readonly string[]> = {
  'archive-writer': [TOPIC.traffic, ...CONTEXT_TOPICS],
  'identity-graph': [TOPIC.traffic, ...CONTEXT_TOPICS],
  'context-store': CONTEXT_TOPICS,
  'online-features': [TOPIC.traffic, TOPIC.flowAnchor],
};

export interface AdmittedPartition {
  topic: string;
  partition: number;
  /** IG's admitted events of the run published on this partition. */
  events: number;
  /** The highest offset among them. */
  max_offset: string;
}

export interface ProjectorProgress {
  /** The projector's checkpoints in the run's scope. */
  checkpoints: { topic: string; partition: number; next_offset: string }[];
  /** The run's distinct events the projector recorded, per topic. */
  accounted: Record<string, number>;
}

export interface CaughtUpPorts {
  admitted(platformRunId: string): Promise<AdmittedPartition[]>;
  progress(projector: Projector, platformRunId: string): Promise<ProjectorProgress>;
  now(): Date;
}

export const CaughtUpRequest = z.object({
  platform_run_id: PlatformRunId,
  /** When the gate started waiting (null on the first check). */
  since: z.iso.datetime().nullish(),
});

export interface TopicCheck {
  projector: Projector;
  topic: string;
  admitted: number;
  accounted: number;
  /** Partitions whose checkpoint has not reached IG's highest offset. */
  partitions_behind: number[];
  caught_up: boolean;
}

const topicsOf = (projector: Projector, admittedTopics: string[]) =>
  PROJECTOR_TOPICS[projector].filter((t) => admittedTopics.includes(t));

export async function checkCaughtUp(request: unknown, ports: CaughtUpPorts, timeoutSeconds: number) {
  const req = CaughtUpRequest.parse(request);
  const now = ports.now();
  const since = req.since ?? now.toISOString();
  const admitted = await ports.admitted(req.platform_run_id);
  const admittedTopics = [...new Set(admitted.map((a) => a.topic))].sort();
  const checks: TopicCheck[] = [];
  for (const projector of PROJECTORS) {
    const progress = await ports.progress(projector, req.platform_run_id);
    for (const topic of topicsOf(projector, admittedTopics)) {
      const onTopic = admitted.filter((a) => a.topic === topic);
      const behind = onTopic
        .filter((a) => {
          const checkpoint = progress.checkpoints.find(
            (c) => c.topic === topic && c.partition === a.partition,
          );
          return !checkpoint || compareOffsets(checkpoint.next_offset, a.max_offset) < 0;
        })
        .map((a) => a.partition);
      const events = onTopic.reduce((sum, a) => sum + a.events, 0);
      const accounted = progress.accounted[topic] ?? 0;
      checks.push({
        projector,
        topic,
        admitted: events,
        accounted,
        partitions_behind: behind,
        caught_up: behind.length === 0 && accounted >= events,
      });
    }
  }
  const lagging = checks.filter((c) => !c.caught_up);
  const waited = (now.getTime() - Date.parse(since)) / 1000;
  const caughtUp = lagging.length === 0;
  const laggingLines = lagging.map(
    (c) =>
      `RTDL_LAGGING:${c.projector}:${c.topic} (accounted ${c.accounted} of ${c.admitted}` +
      `${c.partitions_behind.length > 0 ? `; partitions behind: ${c.partitions_behind.join(',')}` : ''})`,
  );
  return {
    platform_run_id: req.platform_run_id,
    since,
    waited_seconds: Math.round(waited * 10) / 10,
    caught_up: caughtUp,
    timed_out: !caughtUp && waited >= timeoutSeconds,
    admitted_events: admitted.reduce((sum, a) => sum + a.events, 0),
    checks,
    lagging: laggingLines,
    /** The Fail state's cause when the wait ends. */
    lagging_summary: `waited ${Math.round(waited)} s: ${laggingLines.join('; ')}`,
  };
}
export type CaughtUpResult = Awaited<ReturnType<typeof checkCaughtUp>>;

export const CaughtUpEvidenceRequest = z.object({
  platform_run_id: PlatformRunId,
  caught_up: z.looseObject({
    caught_up: z.boolean(),
    waited_seconds: z.number(),
    checks: z.array(
      z.object({
        projector: z.enum(PROJECTORS),
        topic: z.string(),
        admitted: z.number(),
        accounted: z.number(),
        caught_up: z.boolean(),
      }),
    ),
  }),
  reports: z.array(ProjectorReport).length(PROJECTORS.length),
});

export interface CaughtUpEvidencePorts {
  /** Whether an object exists in the platform bucket (an `s3://` ref of it). */
  exists(ref: string): Promise<boolean>;
  evidence: PhaseEvidenceStore;
}

export async function writeCaughtUpEvidence(request: unknown, ports: CaughtUpEvidencePorts) {
  const req = CaughtUpEvidenceRequest.parse(request);
  const problems: string[] = [];
  if (!req.caught_up.caught_up) problems.push('the projectors had not caught up');
  const mismatched = req.caught_up.checks.filter((c) => c.accounted !== c.admitted);
  for (const c of mismatched)
    problems.push(`${c.projector} accounted ${c.accounted} events on ${c.topic}, IG admitted ${c.admitted}`);
  const graph = req.reports.find((r) => r.component === 'identity-graph');
  const reconciliation = graph?.documents.reconciliation;
  if (!reconciliation || !(await ports.exists(reconciliation)))
    problems.push('the identity graph reconciliation.json does not exist');
  const projectors = Object.fromEntries(
    req.reports.map((r) => [
      r.component,
      {
        counts: r.counts,
        health_state: r.health_state,
        health_reasons: r.health_reasons,
        documents: r.documents,
        ...(r.state_digest === undefined ? {} : { state_digest: r.state_digest }),
        topics: req.caught_up.checks
          .filter((c) => c.projector === r.component)
          .map(({ topic, admitted, accounted }) => ({ topic, admitted, accounted })),
      },
    ]),
  );
  const written = await writePhaseEvidence(ports.evidence, req.platform_run_id, 'P8_RTDL_CAUGHT_UP', {
    phase: 'P8',
    gate: 'RTDL_CAUGHT_UP',
    platform_run_id: req.platform_run_id,
    status: problems.length === 0 ? 'PASS' : 'FAIL',
    problems,
    projectors,
  });
  return {
    caught_up: problems.length === 0 && !written.conflict,
    summary:
      problems.length === 0
        ? `every projector applied or accounted for the run's admitted events (waited ${req.caught_up.waited_seconds} s)`
        : problems.join('; '),
    projectors,
    evidence_ref: written.ref,
  };
}
