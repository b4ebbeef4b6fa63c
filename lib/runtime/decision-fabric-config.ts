import { z } from 'zod';
import bundleJson from '../../config/decision-fabric/rules-bundle.json' with { type: 'json' };
import { RulesBundle } from '../decision-fabric/bundle.ts';
import { parseConfig } from './config.ts';

/**
 * The Decision Fabric's rules bundle (`config/decision-fabric/rules-bundle.json`), parsed once: a bad file fails the
 * cold start naming the field.
 */

const WHAT = 'config/decision-fabric/rules-bundle.json';
let parsed: RulesBundle | undefined;

/** The rules bundle; `source` replaces the file (tests), and is then parsed on every call. */
export function loadRulesBundle(source?: Record<string, unknown>): RulesBundle {
  if (source !== undefined) return parseConfig(RulesBundle, source, WHAT);
  parsed ??= parseConfig(RulesBundle, bundleJson, WHAT);
  return parsed;
}

export interface DecisionFabricEnvironment {
  /** IG's base URL (the batch route is appended). */
  igUrl: string;
  /** The fabric's IG API key, or the SSM parameter holding it (AWS). */
  igApiKey: string | undefined;
  igApiKeySsmParameter: string | undefined;
  igTimeoutMs: number;
  /** The longest a batch waits for its context (downstream.md §3.2: 2000 ms). */
  joinWaitMs: number;
  /** Between two looks at the context while waiting. */
  pollMs: number;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const millis = (fallback: number, max: number) =>
  optionalText
    .transform((v) => (v === undefined ? fallback : Number(v)))
    .pipe(z.number().int().min(0).max(max));

/** The fabric's settings from the environment, parsed once at cold start. */
export function decisionFabricEnvironment(
  source: Record<string, unknown> = process.env,
): DecisionFabricEnvironment {
  const parsed = parseConfig(
    z
      .object({
        IG_URL: optionalText.pipe(z.url()),
        DECISION_FABRIC_IG_API_KEY: optionalText,
        DECISION_FABRIC_IG_API_KEY_SSM_PARAMETER: optionalText,
        DECISION_FABRIC_IG_TIMEOUT_MS: millis(10_000, 120_000),
        DECISION_FABRIC_JOIN_WAIT_MS: millis(2_000, 60_000),
        DECISION_FABRIC_POLL_MS: millis(50, 5_000).pipe(z.number().min(10)),
      })
      .refine(
        (e) =>
          e.DECISION_FABRIC_IG_API_KEY !== undefined ||
          e.DECISION_FABRIC_IG_API_KEY_SSM_PARAMETER !== undefined,
        {
          path: ['DECISION_FABRIC_IG_API_KEY'],
          message: 'set DECISION_FABRIC_IG_API_KEY or DECISION_FABRIC_IG_API_KEY_SSM_PARAMETER',
        },
      ),
    source,
    'decision fabric environment',
  );
  return {
    igUrl: parsed.IG_URL,
    igApiKey: parsed.DECISION_FABRIC_IG_API_KEY,
    igApiKeySsmParameter: parsed.DECISION_FABRIC_IG_API_KEY_SSM_PARAMETER,
    igTimeoutMs: parsed.DECISION_FABRIC_IG_TIMEOUT_MS,
    joinWaitMs: parsed.DECISION_FABRIC_JOIN_WAIT_MS,
    pollMs: parsed.DECISION_FABRIC_POLL_MS,
  };
}
