import type { Posture } from '../degrade-ladder/ladder.ts';
import type { DegradePolicy } from '../degrade-ladder/policy.ts';
import { PostureSeqRegression } from '../degrade-ladder/ports.ts';
import { DEGRADE_LADDER_STREAM_BASE, degradeTick, type TickResult } from '../degrade-ladder/tick.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import type { DegradeLadderSettings } from '../runtime/degrade-ladder-config.ts';
import { graphHealthThresholds, type ProjectorConfig } from '../runtime/rtdl-config.ts';
import { degradeSignalSource, publishPostureOutbox } from './degrade-ladder-signals.ts';
import { postgresPostureStore } from './degrade-ladder-stores.ts';
import { projectorDependencies } from './projector-dependencies.ts';

/**
 * What the degrade-ladder function reaches, wired once at cold start: the run in scope (the configured one, else the
 * active run, read per tick), its posture store and signal source, and the outbox's publishing to the platform
 * bucket. `tick()` runs one tick; a concurrent tick that committed the same seq first (a manual invoke beside the
 * schedule) makes this one `superseded`, which is no error: the other's posture stands.
 */

export interface LadderTickSummary {
  platform_run_id: string;
  mode: Posture['mode'] | null;
  posture_seq: number | null;
  transition: TickResult['transition'] | 'SUPERSEDED';
  health: TickResult['health'] | null;
  reason: string | null;
  published: number;
}

export function degradeLadderDependencies(
  env: PlatformEnvironment,
  settings: DegradeLadderSettings,
  projectors: ProjectorConfig,
  policy: DegradePolicy,
  /** The decision fabric's registry snapshot: its rules bundle's ref (undefined: none). */
  registry: { snapshot_id: string } | undefined,
) {
  const deps = projectorDependencies(env, {
    ...projectors,
    requiredPlatformRunId: settings.requiredPlatformRunId,
  });
  return {
    async tick(): Promise<LadderTickSummary> {
      const pool = await deps.pool();
      const scope = await deps.runScope(DEGRADE_LADDER_STREAM_BASE);
      const store = postgresPostureStore(pool, scope.streamId);
      const signals = degradeSignalSource(deps, {
        platformRunId: scope.platformRunId,
        graphThresholds: graphHealthThresholds(projectors),
        featureThresholds: {
          amberWatermarkAgeSeconds: projectors.watermarkAgeSeconds.amber,
          redWatermarkAgeSeconds: projectors.watermarkAgeSeconds.red,
        },
        maxConsumerLagEvents: settings.maxConsumerLagEvents,
        maxUnpublishedSeconds: policy.signals.required_max_age_seconds,
        postureStore: store,
        registrySnapshot: async () => registry,
      });
      const tick = await degradeTick({ store, signals, now: () => new Date() }, policy).catch(
        (error: unknown) => {
          if (error instanceof PostureSeqRegression) return undefined;
          throw error;
        },
      );
      const outbox = await publishPostureOutbox(pool, deps.s3, env.PLATFORM_BUCKET, scope.platformRunId);
      return {
        platform_run_id: scope.platformRunId,
        mode: tick?.posture.mode ?? null,
        posture_seq: tick?.posture.posture_seq ?? null,
        transition: tick?.transition ?? 'SUPERSEDED',
        health: tick?.health ?? null,
        reason: tick?.posture.reason ?? null,
        published: outbox.published,
      };
    },
  };
}
