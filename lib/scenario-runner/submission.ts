import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { Hex64, Uint64 } from '../contracts/wire-primitives.ts';
import { RUN_RECEIPT_KEY, RunReceipt, readJsonBytes } from '../oracle-store/pack-contracts.ts';
import type { OracleWorldReader, ScenarioRunnerPorts } from './ports.ts';
import { ScenarioRunnerError } from './reason-codes.ts';
import type { RunRequest } from './run-request.ts';
import type { ScenarioRunnerSettings } from './settings.ts';
import { type SubmitResponse, submitRun } from './submit.ts';

/**
 * A submission to the Scenario Runner, as the HTTP API (`POST /v1/runs`) and the run lifecycle's Lambda task
 * both send it: the RunRequest (control-ingress.md §3.1) plus the `platform_run_id` the run's artifacts go under.
 * The world key (`manifest_fingerprint`, `parameter_hash`, `seed`) may be left out as a whole; it is then read
 * from `<engine_run_root>/run_receipt.json`, its only source (§1.2), so the lifecycle needs nothing but the
 * engine run root and the scenario. A `seed` may also be a decimal string (Step Functions JSON loses bigints).
 */

const Seed = z.union([
  Uint64,
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,19})$/, 'expected a uint64 as a decimal string')
    .transform((s) => BigInt(s)),
]);

/** Everything but the world key is passed to the core's closed RunRequest schema as it came. */
export const RunSubmission = z
  .looseObject({
    platform_run_id: PlatformRunId,
    manifest_fingerprint: Hex64.optional(),
    parameter_hash: Hex64.optional(),
    seed: Seed.optional(),
    engine_run_root: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    const given = [s.manifest_fingerprint, s.parameter_hash, s.seed].filter((v) => v !== undefined).length;
    if (given !== 0 && given !== 3)
      ctx.addIssue({
        code: 'custom',
        path: ['manifest_fingerprint'],
        message:
          'give manifest_fingerprint, parameter_hash and seed together, or none (read from run_receipt.json)',
      });
  });
export type RunSubmission = z.infer<typeof RunSubmission>;

/** What a submission is answered with: the core's response and the platform run it was made under. */
export type SubmissionResponse = SubmitResponse & { platform_run_id: string };

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Parses a submission; refuses RUN_REQUEST_INVALID naming every bad field. */
export function parseSubmission(input: unknown): RunSubmission {
  const parsed = RunSubmission.safeParse(input);
  if (!parsed.success) throw new ScenarioRunnerError('RUN_REQUEST_INVALID', issues(parsed.error));
  return parsed.data;
}

/**
 * The RunRequest of a submission, its world key read from the engine run's receipt when not given. The root
 * read is the wiring's override when set (§3.3), else the request's.
 */
export async function resolveRunRequest(
  submission: RunSubmission,
  world: OracleWorldReader,
  overrideRoot: string | undefined,
): Promise<Record<string, unknown>> {
  const { platform_run_id: _platformRunId, ...request } = submission;
  if (request.manifest_fingerprint !== undefined) return request;
  const root = overrideRoot ?? request.engine_run_root;
  if (root === undefined)
    throw new ScenarioRunnerError(
      'RUN_REQUEST_INVALID',
      'manifest_fingerprint, parameter_hash and seed are required when no engine_run_root is given',
    );
  const store = await world.open(root);
  const bytes = await store?.get(RUN_RECEIPT_KEY);
  const json = bytes === undefined ? undefined : readJsonBytes(bytes);
  const receipt = json?.ok ? RunReceipt.safeParse(json.value) : undefined;
  if (!receipt?.success)
    throw new ScenarioRunnerError(
      'RUN_REQUEST_INVALID',
      `no world key given and ${root}/${RUN_RECEIPT_KEY} is ${bytes === undefined ? 'missing' : 'not a valid run receipt'}`,
    );
  return {
    ...request,
    manifest_fingerprint: receipt.data.manifest_fingerprint,
    parameter_hash: receipt.data.parameter_hash,
    seed: receipt.data.seed,
  } satisfies Partial<RunRequest>;
}

/** Parse, resolve, submit (§3.3). Refusals throw ScenarioRunnerError with their code. */
export async function submitSubmission(
  input: unknown,
  ports: ScenarioRunnerPorts,
  settingsFor: (platformRunId: string) => ScenarioRunnerSettings,
): Promise<SubmissionResponse> {
  const submission = parseSubmission(input);
  const settings = settingsFor(submission.platform_run_id);
  const request = await resolveRunRequest(submission, ports.world, settings.wiring.oracle_engine_run_root);
  const response = await submitRun(request, ports, settings);
  return { ...response, platform_run_id: submission.platform_run_id };
}
