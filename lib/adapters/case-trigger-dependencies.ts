import type { CaseTriggerPorts } from '../case-trigger/ports.ts';
import { caseTriggerStreamId } from '../contracts/case-trigger.ts';
import type { CaseTriggerEnvironment } from '../runtime/case-trigger-config.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { BusEdgeOptions } from '../runtime/edge/bus-handler.ts';
import { postgresCaseTriggerStore } from './case-trigger-stores.ts';
import { ingestionGateBatchPublisher } from './ingestion-gate-publisher.ts';
import { configuredSecret, ssmSecrets } from './parameters.ts';
import { platformDependencies } from './platform-dependencies.ts';
import { NO_ACTIVE_RUN } from './projector-dependencies.ts';
import { postgresRunRegistry } from './run-registry.ts';

/**
 * What the case-trigger function reaches, wired once at cold start: Postgres (its store, and the active run when no run
 * is configured — read per batch, so a newly pinned run is picked up at once; none pinned: every record is out of
 * scope, counted under `case_trigger.v0::_no_active_run`) and IG's batch route with the trigger's own API key. No
 * record is ever set aside: the core never throws for a record, so a thrown error fails the whole batch and the
 * mapping retries it (its bisect and on-failure destination bound that).
 */

export function caseTriggerDependencies(env: PlatformEnvironment, ct: CaseTriggerEnvironment) {
  const deps = platformDependencies(env);
  const publisher = ingestionGateBatchPublisher({
    url: ct.igUrl,
    apiKey: configuredSecret(ssmSecrets(deps.endpoints), {
      plain: ct.igApiKey,
      parameter: ct.igApiKeySsmParameter,
      what: 'CASE_TRIGGER_IG_API_KEY_SSM_PARAMETER',
    }),
    timeoutMs: ct.igTimeoutMs,
    maxAttempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 5_000,
  });
  return {
    ...deps,
    async portsFor(): Promise<{ platformRunId: string; ports: CaseTriggerPorts }> {
      const pool = await deps.pool();
      const platformRunId =
        ct.requiredPlatformRunId ?? (await postgresRunRegistry(pool).activeRun()) ?? NO_ACTIVE_RUN;
      return {
        platformRunId,
        ports: {
          store: postgresCaseTriggerStore(pool, caseTriggerStreamId(platformRunId)),
          publisher,
          clock: { now: () => new Date() },
        },
      };
    },
    /** The bus edge's options: topics without the stage prefix. */
    busOptions: (service: string): BusEdgeOptions => ({ service, streamPrefix: env.BUS_STREAM_PREFIX }),
  };
}
