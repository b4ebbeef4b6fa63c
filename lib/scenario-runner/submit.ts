import { pythonIsoformat } from '../contracts/python-format.ts';
import {
  type Catalogue,
  ENGINE_CATALOGUE,
  ENGINE_GATE_MAP,
  type GateMap,
} from '../oracle-store/interface-pack.ts';
import type { ObjectReader } from '../oracle-store/object-store.ts';
import { RunLease, registerRun } from './authority.ts';
import { checkRunReceipt, runEngineAttempt } from './engine-attempt.ts';
import { collectEvidence, type EvidenceResult } from './evidence.ts';
import { buildOraclePackRef } from './oracle-pack-ref.ts';
import { compilePlan, RunPlan, samePlanIntent } from './plan.ts';
import type { ScenarioRunnerPorts } from './ports.ts';
import { publishReady, readFactsView } from './ready-publication.ts';
import { type RunReasonCode, type RunState, ScenarioRunnerError, TERMINAL_STATES } from './reason-codes.ts';
import { buildRunFactsView } from './run-facts.ts';
import { RunLedger, type RunStatus } from './run-ledger.ts';
import { type CanonicalRun, canonicalRun } from './run-request.ts';
import type { ScenarioRunnerSettings } from './settings.ts';

/**
 * Submit a run (control-ingress.md §3.3): validate, register the equivalence key, take the lease, plan,
 * reuse or invoke, collect evidence, commit READY or a terminal state, publish READY — and release the lease
 * at the end whatever happened. A re-submit of an equivalent request returns the run's status: a finished run
 * as it is, an unfinished one resumed from its stored plan.
 */

/** §3.3 response; `disposition` says how this submission was handled. */
export interface SubmitResponse {
  run_id: string;
  state: RunState;
  status_ref: string;
  record_ref: string;
  /** READY only. */
  facts_view_ref?: string;
  message: string;
  reason_code?: string;
  /** LEADER: this call drove the run; LEASE_BUSY: another runner is; EXISTING: finished before; UNAUTHORIZED. */
  disposition: 'LEADER' | 'LEASE_BUSY' | 'EXISTING' | 'UNAUTHORIZED';
}

export interface SubmitOptions {
  /** Test seams; default: the checked-in interface pack. */
  catalogue?: Catalogue;
  gateMap?: GateMap;
}

export const LEASE_BUSY_MESSAGE = 'Lease held by another runner; returning current status.';

export async function submitRun(
  input: unknown,
  ports: ScenarioRunnerPorts,
  settings: ScenarioRunnerSettings,
  options: SubmitOptions = {},
): Promise<SubmitResponse> {
  const run = canonicalRun(input);
  const { wiring } = settings;
  const ledger = new RunLedger(ports.artifacts, ports.clock, wiring.platform_run_id, run.run_id);
  const respond = (
    status: RunStatus | undefined,
    message: string,
    disposition: SubmitResponse['disposition'],
  ) => response(ledger, status, message, disposition);

  if (wiring.auth_mode !== 'disabled' && !wiring.allowed_invokers.includes(run.request.invoker ?? '')) {
    await ledger.record('AUTH_DENIED', { invoker: run.request.invoker ?? null });
    return {
      ...respond(undefined, 'Unauthorized.', 'UNAUTHORIZED'),
      state: 'FAILED',
      reason_code: 'AUTH_DENIED',
    };
  }
  await registerRun(ports.authority, run, ports.clock.now());

  const before = await ledger.readStatus();
  if (before && (await isFinished(ledger, before)))
    return respond(before, `Run already ${before.state}; returning current status.`, 'EXISTING');

  const lease = await RunLease.acquire(
    ports.authority,
    ports.clock,
    run.run_id,
    wiring.lease_owner,
    wiring.lease_ttl_seconds,
  );
  if (!lease) return respond(await ledger.readStatus(), LEASE_BUSY_MESSAGE, 'LEASE_BUSY');
  try {
    // Another runner may have finished the run between the status read above and this lease: not a leader then.
    const current = await ledger.readStatus();
    if (current && (await isFinished(ledger, current)))
      return respond(current, `Run already ${current.state}; returning current status.`, 'EXISTING');
    const message = await driveRun({ run, ports, settings, ledger, lease, options }, current);
    return respond(await ledger.readStatus(), message, 'LEADER');
  } finally {
    await lease.release();
  }
}

/** Terminal, and for READY also published (else a re-submit finishes the publication). */
async function isFinished(ledger: RunLedger, status: RunStatus): Promise<boolean> {
  if (!TERMINAL_STATES.has(status.state)) return false;
  if (status.state !== 'READY') return true;
  return (await ledger.readEvents()).some((e) => e.event_kind === 'READY_PUBLISHED');
}

function response(
  ledger: RunLedger,
  status: RunStatus | undefined,
  message: string,
  disposition: SubmitResponse['disposition'],
): SubmitResponse {
  return {
    run_id: ledger.runId,
    state: status?.state ?? 'OPEN',
    status_ref: ledger.paths.status,
    record_ref: ledger.paths.record,
    ...(status?.state === 'READY' ? { facts_view_ref: ledger.paths.factsView } : {}),
    message,
    ...(status?.reason_code === undefined ? {} : { reason_code: status.reason_code }),
    disposition,
  };
}

interface RunContext {
  run: CanonicalRun;
  ports: ScenarioRunnerPorts;
  settings: ScenarioRunnerSettings;
  ledger: RunLedger;
  lease: RunLease;
  options: SubmitOptions;
}

/** Drives an unfinished run (`current` its status, if any) under the lease; returns the response message. */
async function driveRun(ctx: RunContext, current: RunStatus | undefined): Promise<string> {
  const { run, ports, settings, ledger, lease } = ctx;
  if (current?.state === 'READY') {
    const facts = await readFactsView(ledger);
    const plan = await readPlan(ledger);
    const published = await publishReady(ports, ledger, lease, facts, plan?.plan_hash ?? facts.bundle_hash);
    return published.published ? 'READY published' : 'READY committed; publish failed.';
  }

  // 1. Anchor.
  await lease.ensure();
  await ledger.record('RUN_ACCEPTED', { intent_fingerprint: run.intent_fingerprint });
  if (!current) await ledger.writeStatus('OPEN');

  // 2. Plan (resumed from the stored one when this is a re-submit).
  const catalogue = ctx.options.catalogue ?? ENGINE_CATALOGUE;
  const gateMap = ctx.options.gateMap ?? ENGINE_GATE_MAP;
  const compiled = compilePlan({
    runId: run.run_id,
    outputIds: run.request.output_ids,
    requestedStrategy: run.request.requested_strategy,
    policy: settings.policy,
    now: ports.clock.now(),
    catalogue,
    gateMap,
  });
  if (!compiled.ok) {
    await commitTerminal(ctx, {
      status: 'FAIL',
      reason: compiled.reason,
      missing: [],
      detail: compiled.detail,
    });
    return 'Run failed.';
  }
  const plan = await commitPlan(ctx, compiled.plan);
  if ((await ledger.readStatus())?.state === 'OPEN') await ledger.writeStatus('PLANNED');

  // 3–4. Reuse or invoke.
  const engineRoot = settings.wiring.oracle_engine_run_root ?? run.request.engine_run_root;
  const source = plan.strategy === 'FORCE_INVOKE' ? 'invoke' : 'reuse';
  const world = await openWorld(ctx, plan, engineRoot, source);
  if (!world.ok) {
    await commitTerminal(ctx, { status: 'FAIL', reason: world.reason, missing: [], detail: world.detail });
    return source === 'invoke' ? 'Engine attempt failed.' : 'Reuse evidence failed.';
  }

  // 5. Evidence.
  const evidence = await collectEvidence({
    world: world.store,
    engineRunRoot: world.root,
    plan,
    tokens: { ...run.intent, seed: run.request.seed, run_id: world.engineRunId },
    policy: settings.policy,
    ledger,
    now: ports.clock.now(),
    catalogue,
    gateMap,
  });
  if (evidence.status === 'WAITING') {
    await lease.ensure();
    await ledger.record('EVIDENCE_WAITING', { missing: evidence.missing });
    await ledger.writeStatus('WAITING_EVIDENCE', { reason_code: 'EVIDENCE_WAITING' });
    return 'Evidence incomplete; waiting.';
  }
  if (evidence.status !== 'COMPLETE') {
    await commitTerminal(ctx, evidence);
    return source === 'reuse' ? 'Reuse evidence failed.' : 'Evidence failed or conflicted.';
  }

  // 6–7. READY.
  const packRef = await buildOraclePackRef({
    world: world.store,
    engineRunRoot: world.root,
    worldKey: { ...run.intent, seed: run.request.seed },
    ...(settings.wiring.oracle_stream_view_root === undefined
      ? {}
      : { streamViewRoot: settings.wiring.oracle_stream_view_root }),
  });
  if (!packRef.ok) {
    await commitTerminal(ctx, {
      status: 'FAIL',
      reason: packRef.reason,
      missing: [],
      detail: packRef.detail,
    });
    return 'Run failed.';
  }
  const facts = buildRunFactsView({
    run,
    plan,
    settings,
    paths: ledger.paths,
    evidence,
    oraclePackRef: packRef.ref,
  });
  await lease.ensure();
  const written = await ledger.writeOnce(ledger.paths.factsView, facts);
  if (written.outcome === 'different') {
    await commitTerminal(ctx, {
      status: 'FAIL',
      reason: 'FACTS_VIEW_DRIFT',
      missing: [],
      detail: `${ledger.paths.factsView} holds another facts view`,
    });
    return 'Run failed.';
  }
  await ledger.writeStatus('READY', { facts_view_ref: ledger.paths.factsView });
  await ledger.record('READY_COMMITTED', { bundle_hash: evidence.bundle_hash });
  await ledger.record('GOV_BUNDLE_HASH', { bundle_hash: evidence.bundle_hash });
  await ledger.record('GOV_RUN_IDENTITY_SOURCES', {
    run_equivalence_key: run.request.run_equivalence_key,
    intent_fingerprint: run.intent_fingerprint,
    platform_run_id: settings.wiring.platform_run_id,
    engine_run_root: world.root,
  });
  const published = await publishReady(ports, ledger, lease, facts, plan.plan_hash);
  return published.published ? 'READY committed' : 'READY committed; publish failed.';
}

async function readPlan(ledger: RunLedger): Promise<RunPlan | undefined> {
  const stored = await ledger.readJson(ledger.paths.plan);
  if (stored === undefined) return undefined;
  const parsed = RunPlan.safeParse(stored);
  if (!parsed.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', ledger.paths.plan);
  return parsed.data;
}

/** Writes the plan once; a stored plan for the same intent is resumed, any other is PLAN_DRIFT. */
async function commitPlan(ctx: RunContext, fresh: RunPlan): Promise<RunPlan> {
  const { ledger, lease } = ctx;
  await lease.ensure();
  let plan = await readPlan(ctx.ledger);
  if (plan === undefined) {
    const written = await ledger.writeOnce(ledger.paths.plan, fresh);
    plan = written.outcome === 'created' ? fresh : await readPlan(ledger);
  }
  if (plan === undefined || !samePlanIntent(plan, fresh))
    throw new ScenarioRunnerError(
      'PLAN_DRIFT',
      `${ledger.paths.plan} holds a plan for other outputs, strategy or policy (stored ${plan?.plan_hash}, this ${fresh.plan_hash})`,
    );
  await ledger.record('PLAN_COMMITTED', { plan_hash: plan.plan_hash });
  await ledger.record('GOV_POLICY_REV', { policy_rev: plan.policy_rev });
  await ledger.record('GOV_PLAN_HASH', { plan_hash: plan.plan_hash });
  return plan;
}

type WorldOpening =
  | { ok: true; store: ObjectReader; root: string; engineRunId: string }
  | { ok: false; reason: RunReasonCode; detail: string };

/** §3.3 steps 3–4: the engine world to collect evidence from, reused or freshly produced. */
async function openWorld(
  ctx: RunContext,
  plan: RunPlan,
  engineRoot: string | undefined,
  source: 'reuse' | 'invoke',
): Promise<WorldOpening> {
  if (source === 'invoke') {
    const attempt = await runEngineAttempt({ ...ctx, plan, engineRunRoot: engineRoot });
    return attempt.ok
      ? { ok: true, store: attempt.world, root: attempt.engineRunRoot, engineRunId: attempt.receipt.run_id }
      : attempt;
  }
  const store = engineRoot === undefined ? undefined : await ctx.ports.world.open(engineRoot);
  if (engineRoot === undefined || store === undefined)
    return { ok: false, reason: 'ENGINE_ROOT_MISSING', detail: engineRoot ?? 'no engine_run_root' };
  // Reuse checks the world key too (not the run_id): evidence from another world can never complete.
  const receipt = await checkRunReceipt(store, { ...ctx.run.intent, seed: ctx.run.request.seed });
  if (!receipt.ok) return receipt;
  return { ok: true, store, root: engineRoot, engineRunId: receipt.receipt.run_id };
}

/** §3.3 step 6: CONFLICT → QUARANTINED + `sr/quarantine/{id}.json`; anything else → FAILED. */
async function commitTerminal(
  ctx: RunContext,
  outcome: Exclude<EvidenceResult, { status: 'COMPLETE' | 'WAITING' }>,
): Promise<void> {
  const { ledger, lease, ports } = ctx;
  await lease.ensure();
  const details = { reason: outcome.reason, missing: outcome.missing };
  if (outcome.status === 'CONFLICT') {
    await ledger.record('EVIDENCE_CONFLICT', details);
    await ledger.writeStatus('QUARANTINED', { reason_code: outcome.reason });
    await ledger.put(ledger.paths.quarantine, {
      run_id: ledger.runId,
      reason: outcome.reason,
      missing: outcome.missing,
      detail: outcome.detail,
      record_ref: ledger.paths.record,
      status_ref: ledger.paths.status,
      ts_utc: pythonIsoformat(ports.clock.now()),
    });
    return;
  }
  await ledger.record('EVIDENCE_FAIL', details);
  await ledger.writeStatus('FAILED', { reason_code: outcome.reason });
}
