import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ARCHIVE_WRITER_STREAM_BASE } from '../archive-writer/reports.ts';
import { CONTEXT_STORE_STREAM_BASE } from '../contracts/context-store.ts';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import { IDENTITY_GRAPH_STREAM_BASE } from '../contracts/identity-graph.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../contracts/online-features.ts';
import { parseEvidenceRef } from '../contracts/receipts.ts';
import type {
  AdmittedPartition,
  CaughtUpEvidencePorts,
  CaughtUpPorts,
  Projector,
  ProjectorProgress,
} from '../run-lifecycle/rtdl-caught-up.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { s3PhaseEvidenceStore } from './phase-evidence-store.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';
import { statusOf } from './s3-objects.ts';

/**
 * P8 ports: what IG admitted for the run (ig_admissions: one row per admitted event, its eb_ref once published) and
 * each projector's progress, read from the projectors' own tables — checkpoints in the run's scope, and the run's
 * distinct events each recorded per topic (its dedupe rows, plus events that only have a failure row).
 */

interface ProjectorTables {
  base: string;
  checkpoints: string;
  /** SELECT topic, count(DISTINCT event_id) … for ($1 stream id, $2 platform run id). */
  accounted: string;
}

const TABLES: Record<Projector, ProjectorTables> = {
  'archive-writer': {
    base: ARCHIVE_WRITER_STREAM_BASE,
    checkpoints: 'archive_writer_checkpoints',
    accounted: `SELECT topic, count(DISTINCT event_id) AS n FROM archive_writer_offsets
                WHERE stream_id = $1 AND platform_run_id = $2 GROUP BY topic`,
  },
  'identity-graph': {
    base: IDENTITY_GRAPH_STREAM_BASE,
    checkpoints: 'ieg_checkpoints',
    accounted: `SELECT topic, count(DISTINCT event_id) AS n FROM (
                  SELECT first_topic AS topic, event_id FROM ieg_dedupe WHERE stream_id = $1 AND platform_run_id = $2
                  UNION SELECT topic, event_id FROM ieg_apply_failures
                  WHERE stream_id = $1 AND platform_run_id = $2 AND event_id IS NOT NULL) e GROUP BY topic`,
  },
  'context-store': {
    base: CONTEXT_STORE_STREAM_BASE,
    checkpoints: 'csfb_join_checkpoints',
    accounted: `SELECT topic, count(DISTINCT event_id) AS n FROM (
                  SELECT first_topic AS topic, event_id FROM csfb_intake_dedupe
                  WHERE stream_id = $1 AND platform_run_id = $2
                  UNION SELECT topic, event_id FROM csfb_join_apply_failures
                  WHERE stream_id = $1 AND platform_run_id = $2 AND event_id IS NOT NULL) e GROUP BY topic`,
  },
  'online-features': {
    base: ONLINE_FEATURES_STREAM_BASE,
    checkpoints: 'ofp_checkpoints',
    accounted: `SELECT first_topic AS topic, count(DISTINCT event_id) AS n FROM ofp_semantic_dedupe
                WHERE stream_id = $1 AND platform_run_id = $2 GROUP BY first_topic`,
  },
};

export function caughtUpPorts(deps: PlatformDependencies): CaughtUpPorts {
  return {
    async admitted(platformRunId): Promise<AdmittedPartition[]> {
      const res = await (await deps.pool()).query<{
        topic: string;
        partition: number;
        events: string;
        max_offset: string;
      }>(
        `SELECT eb_ref->>'topic' AS topic, (eb_ref->>'partition')::int AS partition,
                count(*)::text AS events, max((eb_ref->>'offset')::numeric)::text AS max_offset
         FROM ig_admissions WHERE platform_run_id = $1 AND state = 'ADMITTED' AND eb_ref IS NOT NULL
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [platformRunId],
      );
      return res.rows.map((r) => ({ ...r, events: Number(r.events) }));
    },
    async progress(projector, platformRunId): Promise<ProjectorProgress> {
      const tables = TABLES[projector];
      const streamId = consumerCheckpointScope(tables.base, platformRunId);
      const pool = await deps.pool();
      const [checkpoints, accounted] = await Promise.all([
        pool.query<{ topic: string; partition: number; next_offset: string }>(
          `SELECT topic, partition_id AS partition, next_offset FROM ${tables.checkpoints} WHERE stream_id = $1`,
          [streamId],
        ),
        pool.query<{ topic: string; n: string }>(tables.accounted, [streamId, platformRunId]),
      ]);
      return {
        checkpoints: checkpoints.rows,
        accounted: Object.fromEntries(accounted.rows.map((r) => [r.topic, Number(r.n)])),
      };
    },
    now: () => new Date(),
  };
}

export function caughtUpEvidencePorts(
  env: PlatformEnvironment,
  deps: PlatformDependencies,
): CaughtUpEvidencePorts {
  return {
    async exists(ref) {
      const { bucket, key } = parseEvidenceRef(ref);
      try {
        await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw error;
      }
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
  };
}
