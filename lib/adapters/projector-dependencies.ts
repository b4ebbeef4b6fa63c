import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { consumerCheckpointScope } from '../contracts/identity.ts';
import { type DocumentWriter, pinnedRunIdOf } from '../contracts/projector-report.ts';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import type { PlatformError } from '../errors/platform-error.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { BusEdgeOptions, BusRecord } from '../runtime/edge/bus-handler.ts';
import type { ProjectorConfig } from '../runtime/rtdl-config.ts';
import { platformDependencies } from './platform-dependencies.ts';
import { postgresRunRegistry } from './run-registry.ts';
import { putObjectOnce, s3Uri } from './s3-objects.ts';

/**
 * What an RTDL projector function reaches: Postgres (its stores, the active run), S3 (its documents), and the run
 * scope of each batch. The scope is the configured `<COMPONENT>_REQUIRED_PLATFORM_RUN_ID`, else the active run
 * (read from Postgres once per batch, so a newly pinned run is picked up at once; no process-local state), else
 * none: then every record is a run-scope mismatch, counted under `<base>::_no_active_run`, and nothing is applied.
 */

export const NO_ACTIVE_RUN = '_no_active_run';

export interface RunScope {
  /** The run records must belong to (NO_ACTIVE_RUN when none is pinned). */
  platformRunId: string;
  /** `<base>::<platform_run_id>`: the projector's checkpoint and metric scope. */
  streamId: string;
}

export function projectorDependencies(env: PlatformEnvironment, config: ProjectorConfig) {
  const deps = platformDependencies(env);
  const runScope = async (streamBase: string, named?: string): Promise<RunScope> => {
    const platformRunId =
      named ??
      config.requiredPlatformRunId ??
      (await postgresRunRegistry(await deps.pool()).activeRun()) ??
      NO_ACTIVE_RUN;
    return { platformRunId, streamId: consumerCheckpointScope(streamBase, platformRunId) };
  };
  const setAside = async (record: BusRecord, error: PlatformError): Promise<string> => {
    const run = PlatformRunIdPattern.safeParse(
      (record.envelope as { platform_run_id?: unknown } | undefined)?.platform_run_id,
    );
    const key = `${run.success ? run.data : '_no_platform_run'}/${config.component}/poison/topic=${record.topic}/partition=${record.partition}/offset=${record.offset}.json`;
    await putObjectOnce(
      deps.s3,
      env.PLATFORM_BUCKET,
      key,
      `${canonicalJson({
        component: config.component,
        reason_code: error.code,
        detail: error.detail ?? null,
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        offset_kind: record.offset_kind,
        published_at_utc: record.published_at_utc,
        data: record.data,
      })}\n`,
    );
    return s3Uri(env.PLATFORM_BUCKET, key);
  };
  return {
    ...deps,
    /** The scope of the batch about to be applied. */
    runScope: (streamBase: string) => runScope(streamBase),
    /** The scope a query asks about: the task's run, else the run its request's pins name, else the batch's. */
    queryScope: (streamBase: string, task: { platform_run_id?: string | undefined; request: unknown }) =>
      runScope(streamBase, task.platform_run_id ?? pinnedRunIdOf(task.request)),
    /** A record no retry can apply, with its bytes and the reason, write-once under its run (else `_no_platform_run`). */
    setAside,
    /** The bus edge's options: topics without the stage prefix, and poison records set aside. */
    busOptions: (service: string): BusEdgeOptions => ({
      service,
      streamPrefix: env.BUS_STREAM_PREFIX,
      onPoison: async (record, error, { logger }) => {
        logger.warn('bus record set aside', { key: await setAside(record, error), reason: error.code });
      },
    }),
    documents: s3DocumentWriter(deps.s3, env.PLATFORM_BUCKET),
  };
}
export type ProjectorDependencies = ReturnType<typeof projectorDependencies>;

/** Documents in the platform bucket, replaced on each write (canonical JSON). */
export function s3DocumentWriter(s3: S3Client, bucket: string): DocumentWriter {
  return {
    async write(key, document) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${canonicalJson(document)}\n`,
          ContentType: 'application/json',
        }),
      );
      return s3Uri(bucket, key);
    },
  };
}
