import { z } from 'zod';
import { EXECUTION_STATES } from '../contracts/action-layer.ts';
import { parseConfig } from './config.ts';

/**
 * The action layer's settings from the environment, parsed once at cold start: IG's URL and the layer's own API key
 * (producer action_layer: action_outcome only), and the simulated executor's injected faults per action kind
 * (`ACTION_LAYER_SIMULATED_FAULTS`, JSON `{"STEP_UP": ["RETRYABLE_ERROR"], …}`; empty: every attempt commits) — how
 * tests and drills exercise the retry engine on a deployed stack.
 */

export interface ActionLayerEnvironment {
  igUrl: string;
  igApiKey: string | undefined;
  igApiKeySsmParameter: string | undefined;
  igTimeoutMs: number;
  simulatedFaults: Record<string, Exclude<(typeof EXECUTION_STATES)[number], 'COMMITTED'>[]>;
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const Faults = z.record(
  z.string().regex(/^[A-Za-z_]{1,64}$/),
  z.array(z.enum(EXECUTION_STATES).exclude(['COMMITTED'])).max(16),
);

export function actionLayerEnvironment(
  source: Record<string, unknown> = process.env,
): ActionLayerEnvironment {
  const parsed = parseConfig(
    z
      .object({
        IG_URL: optionalText.pipe(z.url()),
        ACTION_LAYER_IG_API_KEY: optionalText,
        ACTION_LAYER_IG_API_KEY_SSM_PARAMETER: optionalText,
        ACTION_LAYER_IG_TIMEOUT_MS: optionalText
          .transform((v) => (v === undefined ? 10_000 : Number(v)))
          .pipe(z.number().int().min(100).max(120_000)),
        ACTION_LAYER_SIMULATED_FAULTS: optionalText
          .transform((v, ctx) => {
            if (v === undefined) return {};
            try {
              return JSON.parse(v) as unknown;
            } catch {
              ctx.addIssue({ code: 'custom', message: 'not JSON' });
              return z.NEVER;
            }
          })
          .pipe(Faults),
      })
      .refine(
        (e) =>
          e.ACTION_LAYER_IG_API_KEY !== undefined || e.ACTION_LAYER_IG_API_KEY_SSM_PARAMETER !== undefined,
        {
          path: ['ACTION_LAYER_IG_API_KEY'],
          message: 'set ACTION_LAYER_IG_API_KEY or ACTION_LAYER_IG_API_KEY_SSM_PARAMETER',
        },
      ),
    source,
    'action layer environment',
  );
  return {
    igUrl: parsed.IG_URL,
    igApiKey: parsed.ACTION_LAYER_IG_API_KEY,
    igApiKeySsmParameter: parsed.ACTION_LAYER_IG_API_KEY_SSM_PARAMETER,
    igTimeoutMs: parsed.ACTION_LAYER_IG_TIMEOUT_MS,
    simulatedFaults: parsed.ACTION_LAYER_SIMULATED_FAULTS,
  };
}
