import { z } from 'zod';
import { compareCodePoints } from '../contracts/canonical-json.ts';
import { planHash } from '../contracts/identity.ts';
import { pydanticJsonDatetime } from '../contracts/python-format.ts';
import { Hex32, Hex64, SrPolicyRev } from '../contracts/wire-primitives.ts';
import { requiredGateSet } from '../oracle-store/gates.ts';
import type { Catalogue, GateMap } from '../oracle-store/interface-pack.ts';
import type { RunReasonCode } from './reason-codes.ts';
import { STRATEGIES, type Strategy } from './run-request.ts';
import { policyRevOf, type SrPolicy } from './settings.ts';

/** The run plan and its hash (control-ingress.md §3.3 step 2–3), written once at `sr/run_plan/{id}.json`. */

export const RunPlan = z.strictObject({
  run_id: Hex32,
  plan_hash: Hex64,
  policy_rev: SrPolicyRev,
  strategy: z.enum(STRATEGIES),
  intended_outputs: z.array(z.string().min(1)),
  required_gates: z.array(z.string().min(1)),
  evidence_deadline_utc: z.string().min(1),
  attempt_limit: z.number().int().min(1),
  created_at_utc: z.string().min(1),
});
export type RunPlan = z.infer<typeof RunPlan>;

/** §3.3 step 3: reuse not ALLOWed → FORCE_INVOKE; else the requested strategy; else AUTO. */
export function selectStrategy(policy: SrPolicy, requested: Strategy | undefined): Strategy {
  if (policy.reuse_policy.toUpperCase() !== 'ALLOW') return 'FORCE_INVOKE';
  return requested ?? 'AUTO';
}

export type PlanCompilation =
  | { ok: true; plan: RunPlan }
  | { ok: false; reason: Extract<RunReasonCode, 'UNKNOWN_OUTPUT_ID' | 'UNKNOWN_GATE_ID'>; detail: string };

export interface PlanInput {
  runId: string;
  /** Requested outputs, or undefined for the policy's traffic outputs. */
  outputIds: readonly string[] | undefined;
  requestedStrategy: Strategy | undefined;
  policy: SrPolicy;
  now: Date;
  catalogue: Catalogue;
  gateMap: GateMap;
}

/**
 * Intended outputs (sorted), required gates (§1.4, sorted), deadline = now + evidence_wait_seconds;
 * an output not in the catalogue or a required gate not in the gate map refuses the plan.
 */
export function compilePlan(input: PlanInput): PlanCompilation {
  const outputIds = [...new Set(input.outputIds ?? input.policy.traffic_output_ids)].sort(compareCodePoints);
  const unknownOutputs = outputIds.filter((id) => !input.catalogue.byId.has(id));
  if (unknownOutputs.length > 0)
    return { ok: false, reason: 'UNKNOWN_OUTPUT_ID', detail: unknownOutputs.join(',') };
  const requiredGates = requiredGateSet(outputIds, { gateMap: input.gateMap, catalogue: input.catalogue });
  const unknownGates = requiredGates.filter((id) => !input.gateMap.byId.has(id));
  if (unknownGates.length > 0)
    return { ok: false, reason: 'UNKNOWN_GATE_ID', detail: unknownGates.join(',') };
  const basis = {
    run_id: input.runId,
    policy_rev: policyRevOf(input.policy),
    strategy: selectStrategy(input.policy, input.requestedStrategy),
    intended_outputs: outputIds,
    required_gates: requiredGates,
    evidence_deadline_utc: pydanticJsonDatetime(
      new Date(input.now.getTime() + input.policy.evidence_wait_seconds * 1000),
    ),
    attempt_limit: input.policy.attempt_limit,
    created_at_utc: pydanticJsonDatetime(input.now),
  };
  return { ok: true, plan: { ...basis, plan_hash: planHash(basis) } };
}

/**
 * Whether a stored plan is the plan of this submission, its times aside: a re-submit of an unfinished run
 * resumes the stored plan; anything else that differs is PLAN_DRIFT.
 */
export function samePlanIntent(stored: RunPlan, fresh: RunPlan): boolean {
  const key = (p: RunPlan) =>
    JSON.stringify([
      p.run_id,
      p.policy_rev,
      p.strategy,
      p.intended_outputs,
      p.required_gates,
      p.attempt_limit,
    ]);
  return key(stored) === key(fresh);
}
