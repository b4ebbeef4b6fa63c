import type { CaseApiDependencies } from '../case-management/http-api.ts';
import type { CaseManagementPorts, LabelWriter } from '../case-management/ports.ts';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import type { PlatformError } from '../errors/platform-error.ts';
import { authenticate } from '../ingestion-gate/auth.ts';
import { writeLabelAssertion, writeLabelAssertions } from '../label-store/writer.ts';
import type { CaseApiEnvironment, CaseManagementEnvironment } from '../runtime/case-management-config.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { BusEdgeOptions, BusRecord } from '../runtime/edge/bus-handler.ts';
import { apiKeysLoader } from './api-keys.ts';
import { caseReads } from './case-management-reads.ts';
import { postgresCaseStore } from './case-management-stores.ts';
import { postgresLabelStore } from './label-store-stores.ts';
import { platformDependencies } from './platform-dependencies.ts';
import type { Pool } from './postgres/pool.ts';
import { NO_ACTIVE_RUN, s3DocumentWriter } from './projector-dependencies.ts';
import { postgresRunRegistry } from './run-registry.ts';
import { putObjectOnce, s3Uri } from './s3-objects.ts';

/**
 * What the case-management functions reach, wired once at cold start. The worker: its Postgres store, the label
 * store's writer in process on the same pool (its Postgres store and `writeLabelAssertion(s)`: case management's
 * core only knows the LabelWriter port), the run in scope per batch (configured, else the active run, else none:
 * every trigger is then skipped), poison records set aside in the platform bucket, and the report's documents. The
 * read API: the keys (env or SSM, compared in constant time as IG does) and the reads alone.
 */

/** The label store's writer, in process (one claim and one settle per batch through `writeMany`). */
export function inProcessLabelWriter(pool: Pool): LabelWriter {
  const store = postgresLabelStore(pool);
  return {
    write: (input) => writeLabelAssertion(store, input),
    writeMany: (inputs) => writeLabelAssertions(store, inputs),
  };
}

export function caseManagementDependencies(env: PlatformEnvironment, cm: CaseManagementEnvironment) {
  const deps = platformDependencies(env);
  const clock = { now: () => new Date() };
  const portsOn = (pool: Pool): CaseManagementPorts => ({
    store: postgresCaseStore(pool),
    labels: inProcessLabelWriter(pool),
    clock,
  });
  const setAside = async (record: BusRecord, error: PlatformError): Promise<string> => {
    const run = PlatformRunIdPattern.safeParse(
      (record.envelope as { platform_run_id?: unknown } | undefined)?.platform_run_id,
    );
    const key = `${run.success ? run.data : '_no_platform_run'}/case_mgmt/poison/topic=${record.topic}/partition=${record.partition}/offset=${record.offset}.json`;
    const body = canonicalJson({
      component: 'case-management',
      reason_code: error.code,
      detail: error.detail ?? null,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      offset_kind: record.offset_kind,
      published_at_utc: record.published_at_utc,
      data: record.data,
    });
    await putObjectOnce(deps.s3, env.PLATFORM_BUCKET, key, `${body}\n`);
    return s3Uri(env.PLATFORM_BUCKET, key);
  };
  return {
    ...deps,
    /** The batch's run (the run-scope gate) and the ports. */
    async portsFor(): Promise<{ platformRunId: string; ports: CaseManagementPorts }> {
      const pool = await deps.pool();
      const platformRunId =
        cm.requiredPlatformRunId ?? (await postgresRunRegistry(pool).activeRun()) ?? NO_ACTIVE_RUN;
      return { platformRunId, ports: portsOn(pool) };
    },
    /** The ports of a task that names its run. */
    portsForTask: async () => portsOn(await deps.pool()),
    documents: s3DocumentWriter(deps.s3, env.PLATFORM_BUCKET),
    busOptions: (service: string): BusEdgeOptions => ({
      service,
      streamPrefix: env.BUS_STREAM_PREFIX,
      onPoison: async (record, error, { logger }) => {
        logger.warn('case topic record set aside', {
          key: await setAside(record, error),
          reason: error.code,
        });
      },
    }),
  };
}

/** The read API's dependencies: its keys (a bare key is the `case_reader`'s) and the case reads. */
export function caseApiDependencies(env: PlatformEnvironment, api: CaseApiEnvironment): CaseApiDependencies {
  const deps = platformDependencies(env);
  const keys = apiKeysLoader(deps.endpoints, api.apiKeys, api.apiKeysSsmParameter, 'case_reader');
  return {
    async principalOf(key) {
      return authenticate({ 'x-ig-api-key': key }, await keys())?.principal;
    },
    reads: async () => caseReads(await deps.pool()),
  };
}
