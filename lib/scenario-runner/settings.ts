import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { Hex64 } from '../contracts/wire-primitives.ts';
import { SR_TRAFFIC_OUTPUT_IDS } from '../oracle-store/interface-pack.ts';

/**
 * SR policy (`sr/policy_v0.yaml`) and wiring (control-ingress.md §3.2, §3.3, §3.6, §7), parsed once by the
 * handler at cold start. Only what the core uses; endpoints and DSNs belong to the adapters.
 */

export const SrPolicy = z.strictObject({
  policy_id: z.string().min(1),
  revision: z.string().min(1),
  content_digest: Hex64,
  /** Anything but ALLOW forces FORCE_INVOKE (§3.3 step 3). */
  reuse_policy: z.string().default('ALLOW'),
  evidence_wait_seconds: z.number().int().min(0).default(600),
  attempt_limit: z.number().int().min(1).default(1),
  traffic_output_ids: z
    .array(z.string().min(1))
    .min(1)
    .default([...SR_TRAFFIC_OUTPUT_IDS]),
  /**
   * What a gate whose flag digest differs from its hash law does: QUARANTINE (§1.4 step 4: a FAIL receipt and
   * a conflict → QUARANTINED `EVIDENCE_CONFLICT`) or FAIL (a FAIL receipt only → FAILED `GATE_FAIL`).
   */
  gate_digest_mismatch: z.enum(['QUARANTINE', 'FAIL']).default('QUARANTINE'),
});
export type SrPolicy = z.infer<typeof SrPolicy>;

export const SrWiring = z.strictObject({
  /** The run the SR artifacts go under: `<platform_run_id>/sr/…`. */
  platform_run_id: PlatformRunId,
  /** The wiring `profile_id` (e.g. local_parity); the facts view's `environment`. */
  environment: z.string().min(1).max(64),
  service_release_id: z.string().min(1).max(256).default('dev-local'),
  config_revision: z.string().min(1).max(128).optional(),
  /** When set, overrides the request's `engine_run_root` (§3.3). */
  oracle_engine_run_root: z.string().min(1).optional(),
  /** The stream-view base for `oracle_pack_ref`; default `<engine_run_root>/stream_view/ts_utc`. */
  oracle_stream_view_root: z.string().min(1).optional(),
  lease_owner: z.string().min(1).default('sr-local'),
  lease_ttl_seconds: z.number().int().positive().default(300),
  /** §3.3 auth: `disabled` in parity; `allowlist` needs `invoker` ∈ `allowed_invokers`. */
  auth_mode: z.enum(['disabled', 'allowlist']).default('disabled'),
  allowed_invokers: z.array(z.string().min(1)).default([]),
});
export type SrWiring = z.infer<typeof SrWiring>;

export const ScenarioRunnerSettings = z.strictObject({ policy: SrPolicy, wiring: SrWiring });
export type ScenarioRunnerSettings = z.infer<typeof ScenarioRunnerSettings>;

export const policyRevOf = (policy: SrPolicy) => ({
  policy_id: policy.policy_id,
  revision: policy.revision,
  content_digest: policy.content_digest,
});
