import { createHash } from 'node:crypto';
import { compareCodePoints } from '../contracts/canonical-json.ts';
import { bundleHash } from '../contracts/identity.ts';
import { parseAwareDateTime } from '../contracts/python-format.ts';
import { EngineOutputLocator, GateReceipt, type InstanceProofReceipt } from '../contracts/ready.ts';
import { type GateResult, verifyGates } from '../oracle-store/gates.ts';
import { type Catalogue, type GateMap, outputPathTemplate } from '../oracle-store/interface-pack.ts';
import type { ObjectReader } from '../oracle-store/object-store.ts';
import { globObjects, renderTemplate, templateTokens } from '../oracle-store/templates.ts';
import { ensureInstanceReceipt, isInstanceScope } from './instance-receipts.ts';
import type { RunPlan } from './plan.ts';
import type { RunReasonCode } from './reason-codes.ts';
import type { RunLedger } from './run-ledger.ts';
import { epochMicros } from './run-request.ts';
import type { SrPolicy } from './settings.ts';

/**
 * Evidence collection (control-ingress.md §3.3 step 5): output locators with content digests, every required
 * gate verified by its hash law (lib/oracle-store/gates.ts), instance receipts, then the verdict:
 * conflict → CONFLICT; anything missing → WAITING before the deadline, FAIL after; a FAIL receipt → GATE_FAIL;
 * else COMPLETE with the bundle hash.
 */

/** The world tokens outputs are rendered with: the request's world key and the engine's run_id. */
export interface WorldTokens {
  manifest_fingerprint: string;
  parameter_hash: string;
  seed: bigint | number;
  scenario_id: string;
  /** The engine run's id from run_receipt.json (equal to the SR run id when SR invoked the engine). */
  run_id: string;
}

export type EvidenceResult =
  | {
      status: 'COMPLETE';
      locators: EngineOutputLocator[];
      gate_receipts: GateReceipt[];
      instance_receipts: InstanceProofReceipt[];
      bundle_hash: string;
    }
  | { status: 'WAITING'; reason: 'EVIDENCE_WAITING'; missing: string[] }
  | { status: 'FAIL'; reason: RunReasonCode; missing: string[]; detail: string }
  | { status: 'CONFLICT'; reason: 'EVIDENCE_CONFLICT'; missing: string[]; detail: string };

export interface EvidenceInput {
  world: ObjectReader;
  /** The root as addressed by the request/wiring; locator and receipt paths are `<root>/<key>`. */
  engineRunRoot: string;
  plan: RunPlan;
  tokens: WorldTokens;
  policy: SrPolicy;
  ledger: RunLedger;
  now: Date;
  catalogue: Catalogue;
  gateMap: GateMap;
}

/** A uint64 as JSON writes it here: a number when exact, else a bigint. */
export function jsonInteger(value: bigint | number): bigint | number {
  const big = BigInt(value);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

const address = (root: string, key: string) => `${root.replace(/\/+$/, '')}/${key.replace(/\/+$/, '')}`;

export async function collectEvidence(input: EvidenceInput): Promise<EvidenceResult> {
  const { world, engineRunRoot, plan, tokens, policy } = input;
  const missing: string[] = [];

  // Locators (§1.4 engine_output_locator): rendered template, glob kept; an unvalued token globs.
  const located: { locator: EngineOutputLocator; outputId: string }[] = [];
  for (const outputId of plan.intended_outputs) {
    const output = input.catalogue.byId.get(outputId);
    const template = output ? outputPathTemplate(output) : undefined;
    if (!output || !template) {
      missing.push(outputId);
      continue;
    }
    const values = { ...tokens, seed: BigInt(tokens.seed) };
    const wildcards = Object.fromEntries(
      templateTokens(template)
        .filter((t) => !(t in values))
        .map((t) => [t, '*']),
    );
    const { path } = renderTemplate(template, { ...wildcards, ...values });
    const keys = (await globObjects(world, path)).map((o) => o.key).sort(compareCodePoints);
    if (keys.length === 0) {
      missing.push(outputId);
      continue;
    }
    const digest = await contentDigest(world, keys);
    const pins: Record<string, unknown> = {};
    const partitionValues: Record<string, unknown> = { ...tokens, seed: jsonInteger(tokens.seed) };
    for (const partition of output.partitions.length > 0 ? output.partitions : ['manifest_fingerprint']) {
      if (partitionValues[partition] !== undefined) pins[partition] = partitionValues[partition];
    }
    const parsed = EngineOutputLocator.safeParse({
      output_id: outputId,
      path: address(engineRunRoot, path),
      ...pins,
      ...(digest === undefined ? {} : { content_digest: { algo: 'sha256', hex: digest } }),
    });
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(',');
      return { status: 'FAIL', reason: 'LOCATOR_SCHEMA_INVALID', missing, detail: `${outputId}: ${fields}` };
    }
    located.push({ locator: parsed.data, outputId });
  }

  // Gates (§1.4 SR's verification law).
  const results = await verifyGates(
    world,
    plan.required_gates,
    { manifest_fingerprint: tokens.manifest_fingerprint },
    input.gateMap,
  );
  const gateReceipts: GateReceipt[] = [];
  const conflicts: string[] = [];
  for (const result of results) {
    if (result.status === 'MISSING') {
      missing.push(result.gate_id);
      continue;
    }
    if (result.status === 'CONFLICT') {
      conflicts.push(result.detail);
      continue;
    }
    const receipt = GateReceipt.safeParse(gateReceipt(result, engineRunRoot, tokens.manifest_fingerprint));
    if (!receipt.success)
      return { status: 'FAIL', reason: 'RECEIPT_SCHEMA_INVALID', missing, detail: result.gate_id };
    gateReceipts.push(receipt.data);
    if (result.status === 'FAIL' && policy.gate_digest_mismatch === 'QUARANTINE')
      conflicts.push(result.detail);
  }
  if (conflicts.length > 0)
    return { status: 'CONFLICT', reason: 'EVIDENCE_CONFLICT', missing, detail: conflicts.join('; ') };

  // Instance receipts (§3.5) for instance-scoped outputs.
  const instanceReceipts: InstanceProofReceipt[] = [];
  for (const { locator, outputId } of located) {
    const output = input.catalogue.byId.get(outputId);
    if (!output || !isInstanceScope(output.scope)) continue;
    const outcome = await ensureInstanceReceipt(input.ledger, output, locator, {
      ...tokens,
      seed: jsonInteger(tokens.seed),
    });
    if (!outcome.ok) return { status: 'FAIL', reason: outcome.reason, missing, detail: outcome.detail };
    instanceReceipts.push(outcome.receipt);
  }

  if (missing.length > 0) {
    const deadline = epochMicros(parseAwareDateTime(plan.evidence_deadline_utc));
    const now = BigInt(input.now.getTime()) * 1000n;
    return now < deadline
      ? { status: 'WAITING', reason: 'EVIDENCE_WAITING', missing }
      : {
          status: 'FAIL',
          reason: 'EVIDENCE_MISSING_DEADLINE',
          missing,
          detail: `still missing at ${plan.evidence_deadline_utc}`,
        };
  }
  const failed = gateReceipts.filter((r) => r.status === 'FAIL').map((r) => r.gate_id);
  if (failed.length > 0) return { status: 'FAIL', reason: 'GATE_FAIL', missing, detail: failed.join(',') };

  const locators = located.map((l) => l.locator);
  return {
    status: 'COMPLETE',
    locators,
    gate_receipts: gateReceipts,
    instance_receipts: instanceReceipts,
    bundle_hash: bundleHash({
      locators,
      gate_receipts: gateReceipts,
      instance_receipts: instanceReceipts,
      policy_rev: plan.policy_rev,
    }),
  };
}

/**
 * §3.3 step 5 `content_digest`: sha256 over the concatenated bytes of every matched object, by key; undefined
 * when a listed object can no longer be read (→ INSTANCE_DIGEST_MISSING for instance-scoped outputs).
 */
export async function contentDigest(
  world: ObjectReader,
  keys: readonly string[],
): Promise<string | undefined> {
  const hash = createHash('sha256');
  for (const key of keys) {
    const bytes = await world.get(key);
    if (bytes === undefined) return undefined;
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** §1.4 gate receipt: the digest the hash law gave, paths addressed under the engine run root. */
function gateReceipt(result: GateResult, root: string, manifestFingerprint: string): unknown {
  const paths = result.paths;
  return {
    gate_id: result.gate_id,
    status: result.status === 'PASS' ? 'PASS' : 'FAIL',
    scope: { manifest_fingerprint: manifestFingerprint },
    receipt_kind: 'passed_flag',
    ...(result.actual === undefined ? {} : { digest: { algo: 'sha256', hex: result.actual } }),
    ...(paths === undefined
      ? {}
      : {
          artifacts: {
            validation_bundle_root: address(root, paths.bundle_root),
            ...(paths.index === undefined ? {} : { index_path: address(root, paths.index) }),
            passed_flag_path: address(root, paths.passed_flag),
          },
        }),
  };
}
