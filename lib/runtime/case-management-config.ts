import { z } from 'zod';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import { parseConfig } from './config.ts';

/**
 * Case management's settings from the environment, parsed once at cold start. The worker (bus + tasks):
 * `CASE_MANAGEMENT_REQUIRED_PLATFORM_RUN_ID` (the run-scope gate; empty: the active run, read from Postgres per
 * batch), `CASE_MANAGEMENT_RETRY_BATCH` (how many pending labels one retry task writes). The read API: its keys, from
 * `CASE_API_KEYS` (`principal=key` entries; the local stage's parity key) or, on AWS, the SSM SecureString named by
 * `CASE_API_KEYS_SSM_PARAMETER`; never from git.
 */

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export interface CaseManagementEnvironment {
  requiredPlatformRunId: string | undefined;
  retryBatch: number;
}

export function caseManagementEnvironment(
  source: Record<string, unknown> = process.env,
): CaseManagementEnvironment {
  const parsed = parseConfig(
    z.object({
      CASE_MANAGEMENT_REQUIRED_PLATFORM_RUN_ID: optionalText.pipe(PlatformRunIdPattern.optional()),
      CASE_MANAGEMENT_RETRY_BATCH: optionalText
        .transform((v) => (v === undefined ? 500 : Number(v)))
        .pipe(z.number().int().min(1).max(5_000)),
    }),
    source,
    'case management environment',
  );
  return {
    requiredPlatformRunId: parsed.CASE_MANAGEMENT_REQUIRED_PLATFORM_RUN_ID,
    retryBatch: parsed.CASE_MANAGEMENT_RETRY_BATCH,
  };
}

export interface CaseApiEnvironment {
  apiKeys: string;
  apiKeysSsmParameter: string | undefined;
}

export function caseApiEnvironment(source: Record<string, unknown> = process.env): CaseApiEnvironment {
  const parsed = parseConfig(
    z
      .object({ CASE_API_KEYS: optionalText, CASE_API_KEYS_SSM_PARAMETER: optionalText })
      .refine((e) => e.CASE_API_KEYS !== undefined || e.CASE_API_KEYS_SSM_PARAMETER !== undefined, {
        path: ['CASE_API_KEYS'],
        message:
          'set CASE_API_KEYS or CASE_API_KEYS_SSM_PARAMETER (the case API refuses to serve without keys)',
      }),
    source,
    'case API environment',
  );
  return { apiKeys: parsed.CASE_API_KEYS ?? '', apiKeysSsmParameter: parsed.CASE_API_KEYS_SSM_PARAMETER };
}
