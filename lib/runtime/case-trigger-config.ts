import { z } from 'zod';
import { ESCALATION_MODES, type EscalationMode } from '../case-trigger/triggers.ts';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import { parseConfig } from './config.ts';

/**
 * The case trigger's settings from the environment, parsed once at cold start: IG's URL and the trigger's own API key
 * (producer case_trigger: case_trigger events only), which decisions escalate (`CASE_TRIGGER_ESCALATE`: `non_allow`,
 * the default — only decisions a person should look at; `every_decision` — the reference's behaviour), and the
 * run-scope gate (`CASE_TRIGGER_REQUIRED_PLATFORM_RUN_ID`; empty: the active run, looked up per batch).
 */

export interface CaseTriggerEnvironment {
  igUrl: string;
  igApiKey: string | undefined;
  igApiKeySsmParameter: string | undefined;
  igTimeoutMs: number;
  escalate: EscalationMode;
  requiredPlatformRunId: string | undefined;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export function caseTriggerEnvironment(
  source: Record<string, unknown> = process.env,
): CaseTriggerEnvironment {
  const parsed = parseConfig(
    z
      .object({
        IG_URL: optionalText.pipe(z.url()),
        CASE_TRIGGER_IG_API_KEY: optionalText,
        CASE_TRIGGER_IG_API_KEY_SSM_PARAMETER: optionalText,
        CASE_TRIGGER_IG_TIMEOUT_MS: optionalText
          .transform((v) => (v === undefined ? 10_000 : Number(v)))
          .pipe(z.number().int().min(100).max(120_000)),
        CASE_TRIGGER_ESCALATE: optionalText.pipe(z.enum(ESCALATION_MODES).default('non_allow')),
        CASE_TRIGGER_REQUIRED_PLATFORM_RUN_ID: optionalText.pipe(PlatformRunIdPattern.optional()),
      })
      .refine(
        (e) =>
          e.CASE_TRIGGER_IG_API_KEY !== undefined || e.CASE_TRIGGER_IG_API_KEY_SSM_PARAMETER !== undefined,
        {
          path: ['CASE_TRIGGER_IG_API_KEY'],
          message: 'set CASE_TRIGGER_IG_API_KEY or CASE_TRIGGER_IG_API_KEY_SSM_PARAMETER',
        },
      ),
    source,
    'case trigger environment',
  );
  return {
    igUrl: parsed.IG_URL,
    igApiKey: parsed.CASE_TRIGGER_IG_API_KEY,
    igApiKeySsmParameter: parsed.CASE_TRIGGER_IG_API_KEY_SSM_PARAMETER,
    igTimeoutMs: parsed.CASE_TRIGGER_IG_TIMEOUT_MS,
    escalate: parsed.CASE_TRIGGER_ESCALATE,
    requiredPlatformRunId: parsed.CASE_TRIGGER_REQUIRED_PLATFORM_RUN_ID,
  };
}
