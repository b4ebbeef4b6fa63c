import { z } from 'zod';
import policyJson from '../../config/degrade-ladder/policy.json' with { type: 'json' };
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import { DegradePolicy } from '../degrade-ladder/policy.ts';
import { parseConfig } from './config.ts';

/**
 * The Degrade Ladder's policy (`config/degrade-ladder/policy.json`), versioned by its `revision` and parsed once: a
 * bad file fails the cold start naming the field.
 */

const WHAT = 'config/degrade-ladder/policy.json';
let parsed: DegradePolicy | undefined;

/** The policy; `source` replaces the file (tests), and is then parsed on every call. */
export function loadDegradePolicy(source?: Record<string, unknown>): DegradePolicy {
  if (source !== undefined) return parseConfig(DegradePolicy, source, WHAT);
  parsed ??= parseConfig(DegradePolicy, policyJson, WHAT);
  return parsed;
}

export interface DegradeLadderSettings {
  /** The run whose signals the ladder reads; undefined: the active run (Postgres), looked up per tick. */
  requiredPlatformRunId: string | undefined;
  /**
   * The most events a consumer may trail IG's admissions of the run by before `eb_consumer_lag` is ERROR
   * (`DEGRADE_LADDER_MAX_CONSUMER_LAG_EVENTS`, default 20000: the projectors drain a backlog, they are not stalled).
   */
  maxConsumerLagEvents: number;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** The ladder's settings from the environment, parsed once at cold start. */
export function degradeLadderSettings(source: Record<string, unknown> = process.env): DegradeLadderSettings {
  const parsed = parseConfig(
    z.object({
      DEGRADE_LADDER_REQUIRED_PLATFORM_RUN_ID: optionalText.pipe(PlatformRunIdPattern.optional()),
      DEGRADE_LADDER_MAX_CONSUMER_LAG_EVENTS: optionalText
        .transform((v) => (v === undefined ? 20_000 : Number(v)))
        .pipe(z.number().int().min(0)),
    }),
    source,
    'degrade ladder settings',
  );
  return {
    requiredPlatformRunId: parsed.DEGRADE_LADDER_REQUIRED_PLATFORM_RUN_ID,
    maxConsumerLagEvents: parsed.DEGRADE_LADDER_MAX_CONSUMER_LAG_EVENTS,
  };
}
