import { z } from 'zod';
import type { ContextHealthThresholds } from '../context-store/observability.ts';
import { PlatformRunIdPattern, type Provenance } from '../contracts/wire-primitives.ts';
import type { GraphHealthThresholds } from '../identity-graph/health.ts';
import { parseConfig } from './config.ts';

/**
 * Settings of the four RTDL projectors (downstream.md §1–§2), parsed once at cold start. Each component reads its
 * own keys, named in full: `<COMPONENT>_REQUIRED_PLATFORM_RUN_ID` (the run-scope gate; empty means "the active
 * run", looked up in Postgres per batch), `<COMPONENT>_SERVICE_RELEASE_ID` → `SERVICE_RELEASE_ID` → `dev-local`,
 * `PLATFORM_ENVIRONMENT` → `unknown` (the provenance block), and the health thresholds of the parity pack
 * (watermarks are event time, so synthetic history looks old: AMBER/RED 5e8/8e8 s; checkpoint age 86400/172800 s).
 */

export const RTDL_COMPONENTS = [
  'archive-writer',
  'identity-graph',
  'context-store',
  'online-features',
  'decision-fabric',
  'action-layer',
  'decision-log',
] as const;
export type RtdlComponent = (typeof RTDL_COMPONENTS)[number];

const text = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const seconds = (fallback: number) =>
  text
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .pipe(z.number().int().min(1).optional())
    .transform((v) => v ?? fallback);

const envKeyOf = (component: RtdlComponent) => component.toUpperCase().replaceAll('-', '_');

export interface ProjectorConfig {
  component: RtdlComponent;
  /** The run every record must belong to; undefined: the active run (Postgres), looked up per batch. */
  requiredPlatformRunId: string | undefined;
  provenance: Provenance;
  watermarkAgeSeconds: { amber: number; red: number };
  checkpointAgeSeconds: { amber: number; red: number };
}

export function projectorConfig(
  component: RtdlComponent,
  source: Record<string, unknown> = process.env,
): ProjectorConfig {
  const key = envKeyOf(component);
  const schema = z.object({
    [`${key}_REQUIRED_PLATFORM_RUN_ID`]: text.pipe(PlatformRunIdPattern.optional()),
    [`${key}_SERVICE_RELEASE_ID`]: text.pipe(z.string().max(256).optional()),
    SERVICE_RELEASE_ID: text.pipe(z.string().max(256).optional()),
    PLATFORM_ENVIRONMENT: text.pipe(z.string().max(64).optional()),
    RTDL_WATERMARK_AMBER_SECONDS: seconds(500_000_000),
    RTDL_WATERMARK_RED_SECONDS: seconds(800_000_000),
    RTDL_CHECKPOINT_AMBER_SECONDS: seconds(86_400),
    RTDL_CHECKPOINT_RED_SECONDS: seconds(172_800),
  });
  const env = parseConfig(schema, source, `${component} environment`) as Record<string, unknown>;
  return {
    component,
    requiredPlatformRunId: env[`${key}_REQUIRED_PLATFORM_RUN_ID`] as string | undefined,
    provenance: {
      service_release_id:
        (env[`${key}_SERVICE_RELEASE_ID`] as string | undefined) ??
        (env.SERVICE_RELEASE_ID as string | undefined) ??
        'dev-local',
      environment: (env.PLATFORM_ENVIRONMENT as string | undefined) ?? 'unknown',
    },
    watermarkAgeSeconds: {
      amber: env.RTDL_WATERMARK_AMBER_SECONDS as number,
      red: env.RTDL_WATERMARK_RED_SECONDS as number,
    },
    checkpointAgeSeconds: {
      amber: env.RTDL_CHECKPOINT_AMBER_SECONDS as number,
      red: env.RTDL_CHECKPOINT_RED_SECONDS as number,
    },
  };
}

/** The identity graph's thresholds: the parity pack's ages, §2.2's failure counts (1 AMBER, 100 RED). */
export function graphHealthThresholds(config: ProjectorConfig): GraphHealthThresholds {
  return {
    amberWatermarkAgeSeconds: config.watermarkAgeSeconds.amber,
    redWatermarkAgeSeconds: config.watermarkAgeSeconds.red,
    amberCheckpointAgeSeconds: config.checkpointAgeSeconds.amber,
    redCheckpointAgeSeconds: config.checkpointAgeSeconds.red,
    amberApplyFailures: 1,
    redApplyFailures: 100,
  };
}

/** The context store's thresholds: the parity pack's ages, §2.4's counts. */
export function contextHealthThresholds(config: ProjectorConfig): ContextHealthThresholds {
  return {
    amberWatermarkAgeSeconds: config.watermarkAgeSeconds.amber,
    redWatermarkAgeSeconds: config.watermarkAgeSeconds.red,
    amberCheckpointAgeSeconds: config.checkpointAgeSeconds.amber,
    redCheckpointAgeSeconds: config.checkpointAgeSeconds.red,
    amberJoinMisses: 1,
    redJoinMisses: 10,
    amberBindingConflicts: 1,
    redBindingConflicts: 5,
    amberApplyFailures: 1,
    redApplyFailures: 10,
  };
}

/** P8 RTDL_CAUGHT_UP: how long the gate waits for the projectors before it fails (RTDL_CAUGHT_UP_TIMEOUT_SECONDS). */
export function caughtUpTimeoutSeconds(source: Record<string, unknown> = process.env): number {
  return parseConfig(
    z.object({ RTDL_CAUGHT_UP_TIMEOUT_SECONDS: seconds(900) }),
    source,
    'run-lifecycle environment',
  ).RTDL_CAUGHT_UP_TIMEOUT_SECONDS;
}
