import { z } from 'zod';
import {
  DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
  type DecisionLogHealthThresholds,
} from '../decision-log/observability.ts';
import { parseConfig } from './config.ts';
import type { ProjectorConfig } from './rtdl-config.ts';

/**
 * The decision log's settings from the environment, parsed once at cold start: IG's URL and the log's own API key
 * (producer decision_log: its audit events only), and its health thresholds — §3.4's, with the checkpoint ages of the
 * parity pack (RTDL_CHECKPOINT_AMBER/RED_SECONDS, as the projectors).
 */

export interface DecisionLogEnvironment {
  igUrl: string;
  igApiKey: string | undefined;
  igApiKeySsmParameter: string | undefined;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export function decisionLogEnvironment(
  source: Record<string, unknown> = process.env,
): DecisionLogEnvironment {
  const parsed = parseConfig(
    z
      .object({
        IG_URL: optionalText.pipe(z.url()),
        DECISION_LOG_IG_API_KEY: optionalText,
        DECISION_LOG_IG_API_KEY_SSM_PARAMETER: optionalText,
      })
      .refine(
        (e) =>
          e.DECISION_LOG_IG_API_KEY !== undefined || e.DECISION_LOG_IG_API_KEY_SSM_PARAMETER !== undefined,
        {
          path: ['DECISION_LOG_IG_API_KEY'],
          message: 'set DECISION_LOG_IG_API_KEY or DECISION_LOG_IG_API_KEY_SSM_PARAMETER',
        },
      ),
    source,
    'decision log environment',
  );
  return {
    igUrl: parsed.IG_URL,
    igApiKey: parsed.DECISION_LOG_IG_API_KEY,
    igApiKeySsmParameter: parsed.DECISION_LOG_IG_API_KEY_SSM_PARAMETER,
  };
}

export function decisionLogHealthThresholds(config: ProjectorConfig): DecisionLogHealthThresholds {
  return {
    ...DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
    amberCheckpointAgeSeconds: config.checkpointAgeSeconds.amber,
    redCheckpointAgeSeconds: config.checkpointAgeSeconds.red,
  };
}
