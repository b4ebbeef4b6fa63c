import { readyMessageId } from '../contracts/identity.ts';
import {
  type EngineOutputLocator,
  type GateReceipt,
  type InstanceProofReceipt,
  type OraclePackRef,
  ReadySignal,
  RunFactsView,
} from '../contracts/ready.ts';
import { jsonInteger } from './evidence.ts';
import type { RunPlan } from './plan.ts';
import { ScenarioRunnerError } from './reason-codes.ts';
import type { RunPaths } from './run-ledger.ts';
import type { CanonicalRun } from './run-request.ts';
import type { ScenarioRunnerSettings } from './settings.ts';

/** The run facts view and the READY payload (control-ingress.md §3.6), validated by lib/contracts/ready.ts. */

export interface FactsInput {
  run: CanonicalRun;
  plan: RunPlan;
  settings: ScenarioRunnerSettings;
  paths: RunPaths;
  evidence: {
    locators: EngineOutputLocator[];
    gate_receipts: GateReceipt[];
    instance_receipts: InstanceProofReceipt[];
    bundle_hash: string;
  };
  oraclePackRef: OraclePackRef;
}

function provenanceOf(settings: ScenarioRunnerSettings) {
  const { wiring, policy } = settings;
  return {
    service_release_id: wiring.service_release_id,
    environment: wiring.environment,
    ...(wiring.config_revision === undefined ? {} : { config_revision: wiring.config_revision }),
    run_config_digest: policy.content_digest,
  };
}

export function buildRunFactsView(input: FactsInput): RunFactsView {
  const { run, plan, settings, paths, evidence } = input;
  const prid = settings.wiring.platform_run_id;
  const traffic = new Set(settings.policy.traffic_output_ids);
  const view = {
    run_id: run.run_id,
    platform_run_id: prid,
    scenario_run_id: run.run_id,
    pins: {
      manifest_fingerprint: run.intent.manifest_fingerprint,
      parameter_hash: run.intent.parameter_hash,
      seed: jsonInteger(run.request.seed),
      scenario_id: run.scenario_id,
      run_id: run.run_id,
      platform_run_id: prid,
      scenario_run_id: run.run_id,
    },
    locators: evidence.locators,
    output_roles: Object.fromEntries(
      plan.intended_outputs.map((id) => [id, traffic.has(id) ? 'business_traffic' : 'non_traffic']),
    ),
    intended_outputs: plan.intended_outputs,
    gate_receipts: evidence.gate_receipts,
    ...(evidence.instance_receipts.length > 0 ? { instance_receipts: evidence.instance_receipts } : {}),
    policy_rev: plan.policy_rev,
    bundle_hash: evidence.bundle_hash,
    run_config_digest: settings.policy.content_digest,
    service_release_id: settings.wiring.service_release_id,
    environment: settings.wiring.environment,
    provenance: provenanceOf(settings),
    plan_ref: paths.plan,
    record_ref: paths.record,
    status_ref: paths.status,
    oracle_pack_ref: input.oraclePackRef,
  };
  const parsed = RunFactsView.safeParse(view);
  if (!parsed.success)
    throw new ScenarioRunnerError(
      'RUN_ARTIFACT_INVALID',
      `run facts view: ${parsed.error.issues.map((i) => i.path.join('.')).join(',')}`,
    );
  return parsed.data;
}

/** §3.6 READY: `message_id = sha256("ready|{platform_run_id}|{scenario_run_id}|{bundle_hash}")`. */
export function buildReadySignal(
  facts: RunFactsView,
  factsViewRef: string,
  planHash: string,
  emittedAtUtc: string,
): ReadySignal {
  const ready = {
    run_id: facts.run_id,
    platform_run_id: facts.platform_run_id,
    scenario_run_id: facts.scenario_run_id,
    facts_view_ref: factsViewRef,
    bundle_hash: facts.bundle_hash,
    message_id: readyMessageId(facts.platform_run_id, facts.scenario_run_id, facts.bundle_hash),
    run_config_digest: facts.run_config_digest,
    manifest_fingerprint: facts.pins.manifest_fingerprint,
    parameter_hash: facts.pins.parameter_hash,
    scenario_id: facts.pins.scenario_id,
    plan_hash: planHash,
    service_release_id: facts.service_release_id,
    environment: facts.environment,
    provenance: facts.provenance,
    emitted_at_utc: emittedAtUtc,
    ...(facts.oracle_pack_ref === undefined ? {} : { oracle_pack_ref: facts.oracle_pack_ref }),
  };
  const parsed = ReadySignal.safeParse(ready);
  if (!parsed.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', 'READY payload');
  return parsed.data;
}
