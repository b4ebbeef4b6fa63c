import { z } from 'zod';
import { intentFingerprint, type RunIntent, scenarioRunId, scenarioSetId } from '../contracts/identity.ts';
import { type AwareDateTime, parseAwareDateTime } from '../contracts/python-format.ts';
import { Hex64, Uint64 } from '../contracts/wire-primitives.ts';
import { ScenarioRunnerError } from './reason-codes.ts';

/** The RunRequest (control-ingress.md §3.1, closed) and the canonical run intent derived from it (§3.2). */

export const STRATEGIES = ['AUTO', 'FORCE_INVOKE', 'FORCE_REUSE'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const ScenarioId = z.string().min(1).max(512);

/** An aware ISO 8601 timestamp (`Z` or `±HH:MM`), at most six fractional digits. */
const AwareTimestamp = z.string().refine((text) => {
  try {
    parseAwareDateTime(text);
    return true;
  } catch {
    return false;
  }
}, 'expected a timezone-aware ISO 8601 timestamp');

/** Microseconds since the epoch of an aware datetime (for ordering only). */
export function epochMicros(t: AwareDateTime): bigint {
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return (BigInt(wall) - BigInt(t.offsetMinutes) * 60_000n) * 1000n + BigInt(t.microsecond);
}

const RunWindow = z
  .strictObject({
    window_start_utc: AwareTimestamp,
    window_end_utc: AwareTimestamp,
    window_tz: z.string().min(1).default('UTC'),
  })
  .refine(
    (w) => {
      try {
        return (
          epochMicros(parseAwareDateTime(w.window_start_utc)) <
          epochMicros(parseAwareDateTime(w.window_end_utc))
        );
      } catch {
        return true; // an unparseable bound is reported by its own field
      }
    },
    { message: 'window_start_utc must be before window_end_utc', path: ['window_end_utc'] },
  );

/** §3.1 `scenario`: exactly one of `scenario_id` or a non-empty `scenario_set`. */
const ScenarioBinding = z.union([
  z.strictObject({ scenario_id: ScenarioId }),
  z.strictObject({ scenario_set: z.array(ScenarioId).min(1) }),
]);

export const RunRequest = z.strictObject({
  run_equivalence_key: z.string().min(1),
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  seed: Uint64,
  scenario: ScenarioBinding,
  window: RunWindow,
  request_id: z.string().min(1).optional(),
  requested_strategy: z.enum(STRATEGIES).optional(),
  /** Default: the policy's `traffic_output_ids`. */
  output_ids: z.array(z.string().min(1)).min(1).optional(),
  engine_run_root: z.string().min(1).optional(),
  notes: z.string().optional(),
  invoker: z.string().min(1).optional(),
});
export type RunRequest = z.infer<typeof RunRequest>;

/** A validated request with the ids it implies. */
export interface CanonicalRun {
  request: RunRequest;
  /** = scenario_run_id (§3.2). */
  run_id: string;
  /** The requested scenario, or `scnset_…` for a set. */
  scenario_id: string;
  scenario_set: readonly string[] | null;
  intent: RunIntent;
  intent_fingerprint: string;
}

/** Parses a RunRequest (JSON read losslessly, so a uint64 seed may be a bigint); refuses RUN_REQUEST_INVALID. */
export function canonicalRun(input: unknown): CanonicalRun {
  const parsed = RunRequest.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ScenarioRunnerError('RUN_REQUEST_INVALID', detail);
  }
  const request = parsed.data;
  const scenarioSet = 'scenario_set' in request.scenario ? request.scenario.scenario_set : null;
  const scenarioId =
    'scenario_id' in request.scenario ? request.scenario.scenario_id : scenarioSetId(scenarioSet ?? []);
  const intent: RunIntent = {
    manifest_fingerprint: request.manifest_fingerprint,
    parameter_hash: request.parameter_hash,
    seed: request.seed,
    scenario_id: scenarioId,
    scenario_set: scenarioSet,
    window_start_utc: request.window.window_start_utc,
    window_end_utc: request.window.window_end_utc,
    window_tz: request.window.window_tz,
  };
  return {
    request,
    run_id: scenarioRunId(request.run_equivalence_key),
    scenario_id: scenarioId,
    scenario_set: scenarioSet,
    intent,
    intent_fingerprint: intentFingerprint(intent),
  };
}
