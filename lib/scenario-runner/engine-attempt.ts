import { EngineInvocation } from '../contracts/engine-invocation.ts';
import { attemptId } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import type { ObjectReader } from '../oracle-store/object-store.ts';
import { RUN_RECEIPT_KEY, RunReceipt, readJsonBytes } from '../oracle-store/pack-contracts.ts';
import type { RunLease } from './authority.ts';
import type { RunPlan } from './plan.ts';
import type { EngineAttemptReport, ScenarioRunnerPorts } from './ports.ts';
import type { RunReasonCode } from './reason-codes.ts';
import type { RunLedger } from './run-ledger.ts';
import type { CanonicalRun } from './run-request.ts';

/**
 * The engine run receipt check (§1.2, §3.3 step 4) and the FORCE_INVOKE attempt (§3.3 step 4):
 * attempt numbering, the attempt limit, engine_invocation.schema, then the receipt of the produced world.
 */

type ReceiptReason = Extract<
  RunReasonCode,
  'ENGINE_RECEIPT_MISSING' | 'ENGINE_RECEIPT_INVALID' | 'ENGINE_RECEIPT_MISMATCH'
>;

export type ReceiptCheck =
  | { ok: true; receipt: RunReceipt }
  | { ok: false; reason: ReceiptReason; detail: string };

/** The world's run_receipt.json must exist, parse, and name the requested mf, ph, seed (and run_id if given). */
export async function checkRunReceipt(
  world: ObjectReader,
  expected: { manifest_fingerprint: string; parameter_hash: string; seed: bigint | number; run_id?: string },
): Promise<ReceiptCheck> {
  const bytes = await world.get(RUN_RECEIPT_KEY);
  if (bytes === undefined)
    return { ok: false, reason: 'ENGINE_RECEIPT_MISSING', detail: `${world.root}/${RUN_RECEIPT_KEY}` };
  const json = readJsonBytes(bytes);
  const parsed = json.ok ? RunReceipt.safeParse(json.value) : undefined;
  if (!parsed?.success) return { ok: false, reason: 'ENGINE_RECEIPT_INVALID', detail: RUN_RECEIPT_KEY };
  const receipt = parsed.data;
  const mismatched = [
    receipt.manifest_fingerprint !== expected.manifest_fingerprint && 'manifest_fingerprint',
    receipt.parameter_hash !== expected.parameter_hash && 'parameter_hash',
    receipt.seed !== BigInt(expected.seed) && 'seed',
    expected.run_id !== undefined && receipt.run_id !== expected.run_id && 'run_id',
  ].filter((f): f is string => typeof f === 'string');
  if (mismatched.length > 0)
    return { ok: false, reason: 'ENGINE_RECEIPT_MISMATCH', detail: mismatched.join(',') };
  return { ok: true, receipt };
}

export type EngineAttemptResult =
  | { ok: true; world: ObjectReader; engineRunRoot: string; receipt: RunReceipt }
  | { ok: false; reason: RunReasonCode; detail: string };

export interface EngineAttemptContext {
  ports: ScenarioRunnerPorts;
  ledger: RunLedger;
  lease: RunLease;
  run: CanonicalRun;
  plan: RunPlan;
  /** The wiring override or the request's root. */
  engineRunRoot: string | undefined;
}

/** §3.3 step 4: one engine attempt; every outcome is recorded as ENGINE_ATTEMPT_FINISHED. */
export async function runEngineAttempt(ctx: EngineAttemptContext): Promise<EngineAttemptResult> {
  const { ports, ledger, run, plan } = ctx;
  await ctx.lease.ensure();
  const prior = (await ledger.readEvents()).filter((e) => e.event_kind === 'ENGINE_ATTEMPT_FINISHED').length;
  const attemptNo = prior + 1;
  const attempt = { attempt_id: attemptId(run.run_id, attemptNo), attempt_no: attemptNo };
  const invoker = run.request.invoker ?? 'sr-local';
  const startedAt = ports.clock.now();
  const invocation = {
    manifest_fingerprint: run.intent.manifest_fingerprint,
    parameter_hash: run.intent.parameter_hash,
    seed: run.request.seed,
    run_id: run.run_id,
    scenario_binding:
      run.scenario_set === null ? { scenario_id: run.scenario_id } : { scenario_set: [...run.scenario_set] },
    ...(ctx.engineRunRoot === undefined ? {} : { engine_run_root: ctx.engineRunRoot }),
    ...(run.request.invoker === undefined ? {} : { invoker: run.request.invoker }),
    ...(run.request.request_id === undefined ? {} : { request_id: run.request.request_id }),
  };
  const finish = async (outcome: 'SUCCEEDED' | 'FAILED', extra: Record<string, unknown>): Promise<void> => {
    const endedAt = ports.clock.now();
    await ctx.lease.ensure();
    await ledger.record('ENGINE_ATTEMPT_FINISHED', {
      run_id: run.run_id,
      ...attempt,
      invoker,
      outcome,
      started_at_utc: pythonIsoformat(startedAt),
      ended_at_utc: pythonIsoformat(endedAt),
      duration_ms: endedAt.getTime() - startedAt.getTime(),
      invocation,
      ...extra,
    });
  };
  const fail = async (reason: RunReasonCode, detail: string): Promise<EngineAttemptResult> => {
    await finish('FAILED', { reason_code: reason });
    return { ok: false, reason, detail };
  };

  if (attemptNo > plan.attempt_limit)
    return fail('ATTEMPT_LIMIT_EXCEEDED', `attempt ${attemptNo} > limit ${plan.attempt_limit}`);
  const valid = EngineInvocation.safeParse(invocation);
  if (!valid.success)
    return fail(
      'ENGINE_INVOCATION_INVALID',
      valid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );

  await ledger.record('ENGINE_ATTEMPT_LAUNCH_REQUESTED', { ...attempt, invoker });
  await ledger.writeStatus('EXECUTING');
  if (!ports.engine) return fail('ENGINE_FAILED', 'no engine invoker configured');
  const report = await ports.engine.invoke(valid.data, attempt);
  const logs = await writeLogs(ledger, run.run_id, attemptNo, report);
  const root = report.engine_run_root ?? ctx.engineRunRoot;
  const logExtra = logs === undefined ? {} : { logs_ref: logs };
  if (report.outcome !== 'SUCCEEDED') {
    // The engine's own code is recorded; the run's reason stays within the SR vocabulary.
    await finish('FAILED', { reason_code: report.reason_code ?? 'ENGINE_FAILED', ...logExtra });
    return { ok: false, reason: 'ENGINE_FAILED', detail: report.reason_code ?? 'the engine attempt failed' };
  }
  const world = root === undefined ? undefined : await ports.world.open(root);
  if (root === undefined || world === undefined)
    return fail('ENGINE_ROOT_MISSING', root ?? 'the engine reported no run root');
  const receipt = await checkRunReceipt(world, { ...run.intent, run_id: run.run_id });
  if (!receipt.ok) {
    await finish('FAILED', { reason_code: receipt.reason, engine_run_root: root, ...logExtra });
    return receipt;
  }
  await finish('SUCCEEDED', {
    engine_run_root: root,
    run_receipt_ref: `${root}/${RUN_RECEIPT_KEY}`,
    ...logExtra,
  });
  return { ok: true, world, engineRunRoot: root, receipt: receipt.receipt };
}

async function writeLogs(
  ledger: RunLedger,
  runId: string,
  attemptNo: number,
  report: EngineAttemptReport,
): Promise<Record<string, string> | undefined> {
  if (!report.stdout && !report.stderr) return undefined;
  const base = `${ledger.platformRunId}/sr/engine_attempt_logs/run_id=${runId}/attempt_no=${attemptNo}`;
  const refs: Record<string, string> = {};
  if (report.stdout) {
    await ledger.putText(`${base}/stdout.log`, report.stdout);
    refs.stdout_ref = `${base}/stdout.log`;
  }
  if (report.stderr) {
    await ledger.putText(`${base}/stderr.log`, report.stderr);
    refs.stderr_ref = `${base}/stderr.log`;
  }
  return refs;
}
