import { z } from 'zod';
import { Hex64 } from '../contracts/wire-primitives.ts';
import { SR_TRAFFIC_OUTPUT_IDS } from '../oracle-store/interface-pack.ts';
import { ScenarioRunnerSettings } from '../scenario-runner/settings.ts';
import { parseConfig } from './config.ts';

/**
 * Settings of the Scenario Runner functions, parsed once at cold start (control-ingress.md §3, §7). Policy and
 * wiring default to the parity profile (`sr/policy_v0.yaml` + `sr/wiring_local_kinesis.yaml`); the
 * `platform_run_id` is not configuration: it comes with each submission (HTTP body or lifecycle input).
 * API keys come from `SR_API_KEYS` (comma-separated; the local stage sets the parity key) or, on AWS, from the
 * SSM SecureString named by `SR_API_KEYS_SSM_PARAMETER`; never from git.
 */

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const csv = (fallback: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === ''
        ? [...fallback]
        : v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    );

/** The parity policy's content digest (`sr/policy_v0.yaml`, §7). */
export const PARITY_POLICY_CONTENT_DIGEST =
  'c7f6da0172c57228940231844b9a6c4457aa809fc7929ff72ca5512197d0c412';

export const ScenarioRunnerEnvironment = z
  .object({
    SR_API_KEYS: z.string().default(''),
    SR_API_KEYS_SSM_PARAMETER: z.string().default(''),
    /** Largest accepted HTTP body; a RunRequest is small. */
    SR_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(65_536),
    SR_CONTROL_BUS_STREAM: z.string().min(1).default('sr-control-bus'),
    // policy
    SR_POLICY_ID: z.string().min(1).default('sr_policy'),
    SR_POLICY_REVISION: z.string().min(1).default('v0-local'),
    SR_POLICY_CONTENT_DIGEST: Hex64.default(PARITY_POLICY_CONTENT_DIGEST),
    SR_REUSE_POLICY: z.string().min(1).default('ALLOW'),
    SR_EVIDENCE_WAIT_SECONDS: z.coerce.number().int().min(0).default(600),
    SR_ATTEMPT_LIMIT: z.coerce.number().int().min(1).default(1),
    SR_TRAFFIC_OUTPUT_IDS: csv(SR_TRAFFIC_OUTPUT_IDS).pipe(z.array(z.string().min(1)).min(1)),
    SR_GATE_DIGEST_MISMATCH: z.enum(['QUARANTINE', 'FAIL']).default('QUARANTINE'),
    // wiring
    SR_ENVIRONMENT: z.string().min(1).max(64).default('local_parity'),
    SCENARIO_RUNNER_SERVICE_RELEASE_ID: optionalText,
    SR_SERVICE_RELEASE_ID: optionalText,
    SERVICE_RELEASE_ID: optionalText,
    SR_CONFIG_REVISION: optionalText,
    SR_ORACLE_ENGINE_RUN_ROOT: optionalText,
    SR_ORACLE_STREAM_VIEW_ROOT: optionalText,
    SR_LEASE_OWNER: z.string().min(1).default('sr-local'),
    SR_LEASE_TTL_SECONDS: z.coerce.number().int().positive().default(300),
    SR_AUTH_MODE: z.enum(['disabled', 'allowlist']).default('disabled'),
    SR_ALLOWED_INVOKERS: csv([]),
  })
  .refine((e) => e.SR_API_KEYS.trim() !== '' || e.SR_API_KEYS_SSM_PARAMETER.trim() !== '', {
    message: 'set SR_API_KEYS or SR_API_KEYS_SSM_PARAMETER (the runner refuses to serve HTTP without keys)',
    path: ['SR_API_KEYS'],
  });
export type ScenarioRunnerEnvironment = z.infer<typeof ScenarioRunnerEnvironment>;

export function scenarioRunnerEnvironment(
  source: Record<string, unknown> = process.env,
): ScenarioRunnerEnvironment {
  return parseConfig(ScenarioRunnerEnvironment, source, 'scenario runner environment');
}

/** The core's settings for one submission: the configured policy and wiring, under `platformRunId`. */
export function scenarioRunnerSettings(
  env: ScenarioRunnerEnvironment,
  platformRunId: string,
): ScenarioRunnerSettings {
  const releaseId =
    env.SCENARIO_RUNNER_SERVICE_RELEASE_ID ?? env.SR_SERVICE_RELEASE_ID ?? env.SERVICE_RELEASE_ID;
  return parseConfig(
    ScenarioRunnerSettings,
    {
      policy: {
        policy_id: env.SR_POLICY_ID,
        revision: env.SR_POLICY_REVISION,
        content_digest: env.SR_POLICY_CONTENT_DIGEST,
        reuse_policy: env.SR_REUSE_POLICY,
        evidence_wait_seconds: env.SR_EVIDENCE_WAIT_SECONDS,
        attempt_limit: env.SR_ATTEMPT_LIMIT,
        traffic_output_ids: env.SR_TRAFFIC_OUTPUT_IDS,
        gate_digest_mismatch: env.SR_GATE_DIGEST_MISMATCH,
      },
      wiring: {
        platform_run_id: platformRunId,
        environment: env.SR_ENVIRONMENT,
        ...(releaseId === undefined ? {} : { service_release_id: releaseId }),
        ...(env.SR_CONFIG_REVISION === undefined ? {} : { config_revision: env.SR_CONFIG_REVISION }),
        ...(env.SR_ORACLE_ENGINE_RUN_ROOT === undefined
          ? {}
          : { oracle_engine_run_root: env.SR_ORACLE_ENGINE_RUN_ROOT }),
        ...(env.SR_ORACLE_STREAM_VIEW_ROOT === undefined
          ? {}
          : { oracle_stream_view_root: env.SR_ORACLE_STREAM_VIEW_ROOT }),
        lease_owner: env.SR_LEASE_OWNER,
        lease_ttl_seconds: env.SR_LEASE_TTL_SECONDS,
        auth_mode: env.SR_AUTH_MODE,
        allowed_invokers: env.SR_ALLOWED_INVOKERS,
      },
    },
    'scenario runner settings',
  );
}
