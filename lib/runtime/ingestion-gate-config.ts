import { z } from 'zod';
import producerPolicyJson from '../../config/ingestion-gate/producer-policy.json' with { type: 'json' };
import type { PlatformError } from '../errors/platform-error.ts';
import { ProducerPolicy } from '../ingestion-gate/producer-policy.ts';
import { parseApiKeys } from './api-key-config.ts';
import { parseConfig } from './config.ts';

/**
 * Settings of the Ingestion Gate functions, parsed once at cold start. API keys come from `IG_API_KEYS`
 * (`principal=key` entries, comma-separated; the local stage sets the parity keys) or, on AWS, from the SSM
 * SecureString named by `IG_API_KEYS_SSM_PARAMETER` (same format); never from git. What each principal may push is
 * the producer policy in `config/ingestion-gate/producer-policy.json`.
 */
const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

export const IngestionGateEnvironment = z
  .object({
    IG_API_KEYS: z.string().default(''),
    IG_API_KEYS_SSM_PARAMETER: z.string().default(''),
    IG_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    IG_MAX_BATCH_BYTES: z.coerce.number().int().min(1024).max(6_000_000).default(5_242_880),
    IG_MAX_BATCH_ITEMS: z.coerce.number().int().min(1).max(500).default(500),
    IG_PUSH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(0),
    IG_POLICY_REVISION: z.string().min(1).default('local-parity-v0'),
    IG_SERVICE_RELEASE_ID: z.string().min(1).default('dev-local'),
    IG_ENVIRONMENT: z.string().min(1).default('local_parity'),
    IG_HEALTH_PROBE_INTERVAL_SECONDS: z.coerce.number().min(0).default(30),
    IG_BUS_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(3),
    IG_DENY_ON_AMBER: flag,
    IG_CLAIM_MS: z.coerce.number().int().min(100).default(30_000),
    IG_IN_FLIGHT_WAIT_MS: z.coerce.number().int().min(0).default(2_000),
  })
  .refine((e) => e.IG_API_KEYS.trim() !== '' || e.IG_API_KEYS_SSM_PARAMETER.trim() !== '', {
    message: 'set IG_API_KEYS or IG_API_KEYS_SSM_PARAMETER (the gate refuses to run without keys)',
    path: ['IG_API_KEYS'],
  })
  .superRefine((e, ctx) => {
    try {
      parseApiKeys(e.IG_API_KEYS, undefined, 'IG_API_KEYS');
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['IG_API_KEYS'], message: (error as PlatformError).message });
    }
  });
export type IngestionGateEnvironment = z.infer<typeof IngestionGateEnvironment>;

export function ingestionGateEnvironment(
  source: Record<string, unknown> = process.env,
): IngestionGateEnvironment {
  return parseConfig(IngestionGateEnvironment, source, 'ingestion gate environment');
}

/** The producer policy of `config/ingestion-gate/producer-policy.json`, parsed (a bad file fails the cold start). */
export function producerPolicy(source: Record<string, unknown> = producerPolicyJson): ProducerPolicy {
  return parseConfig(ProducerPolicy, source, 'config/ingestion-gate/producer-policy.json');
}
