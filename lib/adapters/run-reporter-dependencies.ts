import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { ACTION_LAYER_POLICY_V0 } from '../action-layer/authz.ts';
import type { CaseStore } from '../case-management/ports.ts';
import { canonicalJson } from '../contracts/canonical-json.ts';
import type { PlatformGovernanceEvent } from '../contracts/governance.ts';
import { sha256Hex } from '../contracts/identity.ts';
import {
  CASE_STREAM,
  EVENT_CLASS_BY_TYPE,
  PARTITION_PROFILES,
  REQUIRED_PINS,
} from '../contracts/partitioning.ts';
import type { Provenance } from '../contracts/wire-primitives.ts';
import { SCHEMA_POLICY } from '../ingestion-gate/schema-policy.ts';
import type { ConformanceInputs } from '../run-reporter/conformance.ts';
import { reportGeneratedEvent, runEndedEvent } from '../run-reporter/governance.ts';
import type { RefResolution, RunReporterPorts } from '../run-reporter/ports.ts';
import type { LifecycleHistoryEvent } from '../run-reporter/timeline.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { loadRulesBundle } from '../runtime/decision-fabric-config.ts';
import { loadDegradePolicy } from '../runtime/degrade-ladder-config.ts';
import { producerPolicy } from '../runtime/ingestion-gate-config.ts';
import { loadFeaturePolicy } from '../runtime/online-features-config.ts';
import { stageCatalogue } from '../runtime/stage-catalogue.ts';
import { sfnClient } from './aws-clients.ts';
import { s3GovernanceEventSink } from './governance-sink.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import { loadRunReportAssets } from './run-report-assets.ts';
import { type ReportCaseReads, runReportSources } from './run-reporter-sources.ts';
import { statusOf } from './s3-objects.ts';

/**
 * The run reporter's ports: the sources (phase evidence, Postgres), the platform bucket (documents replaced by the
 * single writer; refs resolved with HeadObject), a Postgres advisory lock per run as the single writer, the governance
 * sink, the conformance inputs (the stage catalogue and the policies every stage deploys), the page's chart library,
 * and the lifecycle execution's history (Step Functions).
 */

const LOCK_NAMESPACE = 'run_reporter';

function conformanceInputs(provenance: Provenance): ConformanceInputs {
  const topics = [
    ...new Set([...Object.values(PARTITION_PROFILES).map((p) => p.stream), CASE_STREAM]),
  ].sort();
  const policy = producerPolicy();
  const sampleCtx = {
    platformRunId: 'platform_20000101T000000Z',
    scenarioRunId: undefined,
    provenance,
    at: new Date(0),
  };
  return {
    stages: stageCatalogue().stages.map((s) => ({
      stage: s.stage,
      streamPrefix: s.streamPrefix,
      secrets: s.secrets,
    })),
    topics,
    contractDigests: {
      partitioning_profiles: sha256Hex(canonicalJson(PARTITION_PROFILES)),
      schema_policy: sha256Hex(canonicalJson(SCHEMA_POLICY)),
      class_map: sha256Hex(canonicalJson({ classes: EVENT_CLASS_BY_TYPE, required_pins: REQUIRED_PINS })),
    },
    policies: [
      { name: policy.policy_id, revision: policy.revision },
      { name: 'decision_fabric.rules_bundle', revision: loadRulesBundle().bundle_version },
      { name: 'degrade_ladder.policy', revision: loadDegradePolicy().revision },
      { name: 'online_features.feature_policy', revision: loadFeaturePolicy().revision },
      { name: ACTION_LAYER_POLICY_V0.policy_id, revision: ACTION_LAYER_POLICY_V0.revision },
    ],
    producerPrincipals: Object.keys(policy.principals),
    governanceSamples: [
      reportGeneratedEvent(sampleCtx, 's3://bucket/sample', '0'.repeat(64)),
      runEndedEvent(sampleCtx, 'CLOSED', 's3://bucket/sample'),
    ],
  };
}

const historyEvent = (e: HistoryEvent): LifecycleHistoryEvent => {
  const entered = e.stateEnteredEventDetails?.name;
  const exited = e.stateExitedEventDetails?.name;
  return {
    timestamp: e.timestamp ?? new Date(0),
    ...((entered ?? exited) ? { stateName: (entered ?? exited) as string } : {}),
    kind: entered ? 'entered' : exited ? 'exited' : 'other',
  };
};

export function runReporterPorts(
  env: PlatformEnvironment,
  deps: PlatformDependencies,
  cases: ReportCaseReads,
  provenance: Provenance,
): RunReporterPorts {
  const bucket = env.PLATFORM_BUCKET;
  const sources = runReportSources(deps.s3, bucket, deps.pool, cases);
  const sfn = sfnClient(deps.endpoints);
  const sink = s3GovernanceEventSink<PlatformGovernanceEvent>(deps.s3, bucket);
  return {
    sources: {
      blocks: sources.blocks,
      planeCounts: sources.planeCounts,
      async history(executionArn) {
        if (!executionArn) return [];
        const events: LifecycleHistoryEvent[] = [];
        let nextToken: string | undefined;
        do {
          const page = await sfn.send(
            new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
          );
          events.push(...(page.events ?? []).map(historyEvent));
          nextToken = page.nextToken;
        } while (nextToken);
        return events;
      },
      provenance: () => provenance,
    },
    objects: {
      async put(key, body, contentType) {
        await deps.s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
        );
        return `s3://${bucket}/${key}`;
      },
      async resolve(ref): Promise<RefResolution> {
        const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(ref);
        if (!m?.[1] || !m[2]) return 'REF_INVALID';
        try {
          await deps.s3.send(new HeadObjectCommand({ Bucket: m[1], Key: m[2] }));
          return 'RESOLVED';
        } catch (error) {
          const status = statusOf(error);
          if (status === 404) return 'REF_NOT_FOUND';
          if (status === 403) return 'REF_ACCESS_DENIED';
          throw error;
        }
      },
    },
    async singleWriter(platformRunId, work) {
      const pool = await deps.pool();
      const client = await pool.connect();
      try {
        const got = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked',
          [LOCK_NAMESPACE, platformRunId],
        );
        if (!got.rows[0]?.locked) return undefined;
        try {
          return await work();
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [
            LOCK_NAMESPACE,
            platformRunId,
          ]);
        }
      } finally {
        client.release();
      }
    },
    governance: { emit: (event) => sink.emit(event) },
    conformanceInputs: () => conformanceInputs(provenance),
    pageAssets: async () => loadRunReportAssets(),
    now: () => new Date(),
  };
}

/** The report's top cases: of the run's latest 200, the 5 with the most triggers, each with its timeline. */
export function caseReportReads(store: CaseStore): ReportCaseReads {
  return {
    async topCases(platformRunId, limit) {
      const page = await store.listCases({
        platform_run_id: platformRunId,
        limit: 200,
        before_sequence: undefined,
      });
      const top = [...page.cases]
        .sort((a, b) => b.trigger_count - a.trigger_count || (a.created_at_utc < b.created_at_utc ? 1 : -1))
        .slice(0, limit);
      const views = await Promise.all(top.map((c) => store.caseView(c.case_id)));
      return top.map((c, i) => ({
        case_id: c.case_id,
        subject_event_id: c.case_subject_key.event_id,
        trigger_count: c.trigger_count,
        opened_at_utc: c.created_at_utc,
        label_status: c.label_status,
        timeline: (views[i]?.timeline ?? []).map((t) => ({
          type: t.timeline_event_type,
          at_utc: t.recorded_at_utc,
          source_ref_id: t.source_ref_id,
        })),
      }));
    },
  };
}
