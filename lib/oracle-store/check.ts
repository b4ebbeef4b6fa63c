import type { z } from 'zod';
import { compareCodePoints, sortedJson } from '../contracts/canonical-json.ts';
import type { CheckRequest as CheckTaskRequest } from '../contracts/oracle-pipeline.ts';
import { type GateResult, gatePaths, requiredGateSet, verifyGates } from './gates.ts';
import {
  type Catalogue,
  type CatalogueOutput,
  DEFAULT_CHECK_OUTPUT_IDS,
  ENGINE_CATALOGUE,
  ENGINE_GATE_MAP,
  type GateMap,
  outputPathTemplate,
} from './interface-pack.ts';
import type { ObjectReader } from './object-store.ts';
import {
  LEGACY_PACK_SEAL_KEY,
  PACK_MANIFEST_KEY,
  PACK_SEAL_KEY,
  PackManifest,
  RUN_RECEIPT_KEY,
  RunReceipt,
  readJsonBytes,
} from './pack-contracts.ts';
import type { CheckReasonCode, CheckStatus, IssueSeverity } from './reason-codes.ts';
import { globObjects, renderTemplate, type TemplateTokens, templateTokens } from './templates.ts';

/**
 * The Oracle Store checker (control-ingress.md §2.2) over an engine run root. Beyond the reference, which only
 * tests that each `_passed.flag` exists, it verifies every required gate's digest by its hash law.
 */

export interface CheckRequest {
  /** When absent, found by scanning the outputs' `scenario_id=*` directories (exactly one must exist). */
  scenarioId?: string;
  /** A missing seal is an ERROR instead of a WARN. */
  strictSeal: boolean;
  /** Default: DEFAULT_CHECK_OUTPUT_IDS (the parity fraud stream: three context outputs + the traffic). */
  outputIds?: readonly string[];
  /** Test seams; default: the checked-in interface pack. */
  catalogue?: Catalogue;
  gateMap?: GateMap;
}

export interface CheckIssue {
  code: CheckReasonCode;
  severity: IssueSeverity;
  detail?: string;
}

export interface CheckReport {
  status: CheckStatus;
  /** Distinct codes, first occurrence order. */
  reason_codes: CheckReasonCode[];
  issues: CheckIssue[];
  /** `CODE` or `CODE:detail`, for ERROR issues. */
  errors: string[];
  warnings: string[];
  details: CheckDetails;
}

export interface CheckDetails {
  engine_run_root: string;
  /** The seed is an exact decimal string so the report stays plain JSON. */
  world_key: {
    manifest_fingerprint: string;
    parameter_hash: string;
    seed: string;
    scenario_id: string | null;
  } | null;
  output_ids: string[];
  gates_missing: { gate_id: string; path: string }[];
  outputs_missing: { output_id: string; path: string }[];
  pack_manifests: { path: string; valid: boolean; oracle_pack_id: string | null }[];
  /** Sorted required gate set of the known outputs, and each one's hash-law result. */
  required_gates: string[];
  gate_results: GateResult[];
}

class ReportBuilder {
  readonly issues: CheckIssue[] = [];

  add(code: CheckReasonCode, severity: IssueSeverity, detail?: string): void {
    this.issues.push(detail === undefined ? { code, severity } : { code, severity, detail });
  }

  build(details: CheckDetails): CheckReport {
    const render = (i: CheckIssue) => (i.detail === undefined ? i.code : `${i.code}:${i.detail}`);
    const errors = this.issues.filter((i) => i.severity === 'ERROR').map(render);
    const warnings = this.issues.filter((i) => i.severity === 'WARN').map(render);
    return {
      status: errors.length > 0 ? 'FAIL' : warnings.length > 0 ? 'WARN' : 'OK',
      reason_codes: [...new Set(this.issues.map((i) => i.code))],
      issues: this.issues,
      errors,
      warnings,
      details,
    };
  }
}

export async function checkPack(store: ObjectReader, request: CheckRequest): Promise<CheckReport> {
  const catalogue = request.catalogue ?? ENGINE_CATALOGUE;
  const gateMap = request.gateMap ?? ENGINE_GATE_MAP;
  const outputIds = [...(request.outputIds ?? DEFAULT_CHECK_OUTPUT_IDS)];
  const report = new ReportBuilder();
  const details: CheckDetails = {
    engine_run_root: store.root,
    world_key: null,
    output_ids: outputIds,
    gates_missing: [],
    outputs_missing: [],
    pack_manifests: [],
    required_gates: [],
    gate_results: [],
  };

  const receipt = await readRunReceipt(store, report);
  if (!receipt) return report.build(details);

  const outputs: CatalogueOutput[] = [];
  for (const id of outputIds) {
    const output = catalogue.byId.get(id);
    if (output) outputs.push(output);
    else report.add('OUTPUT_UNKNOWN', 'ERROR', id);
  }

  const scenarioId = request.scenarioId || (await scanScenarioId(store, outputs, receipt, report));
  details.world_key = {
    manifest_fingerprint: receipt.manifest_fingerprint,
    parameter_hash: receipt.parameter_hash,
    seed: receipt.seed.toString(),
    scenario_id: scenarioId ?? null,
  };

  await checkGates(store, gateMap, catalogue, outputs, receipt.manifest_fingerprint, report, details);
  const tokens: TemplateTokens = {
    manifest_fingerprint: receipt.manifest_fingerprint,
    parameter_hash: receipt.parameter_hash,
    seed: receipt.seed,
    run_id: receipt.run_id,
    scenario_id: scenarioId,
  };
  await checkOutputs(store, outputs, tokens, scenarioId !== undefined, report, details);
  await checkPackFiles(store, request.strictSeal, report, details);
  return report.build(details);
}

async function readRunReceipt(store: ObjectReader, report: ReportBuilder): Promise<RunReceipt | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(RUN_RECEIPT_KEY);
  } catch (error) {
    report.add('RUN_RECEIPT_UNREADABLE', 'ERROR', error instanceof Error ? error.message : String(error));
    return undefined;
  }
  if (bytes === undefined) {
    report.add('RUN_RECEIPT_UNREADABLE', 'ERROR', `${RUN_RECEIPT_KEY} absent`);
    return undefined;
  }
  const json = readJsonBytes(bytes);
  if (!json.ok) {
    report.add('RUN_RECEIPT_UNREADABLE', 'ERROR', json.error);
    return undefined;
  }
  const parsed = RunReceipt.safeParse(json.value);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    report.add('RUN_RECEIPT_INVALID', 'ERROR', fields.join(','));
    return undefined;
  }
  return parsed.data;
}

/**
 * The scenario of the world: the distinct `scenario_id=<value>` directories found where the requested outputs'
 * templates put `{scenario_id}`. None → SCENARIO_ID_MISSING; more than one → SCENARIO_ID_AMBIGUOUS.
 * Outputs whose templates do not use `{scenario_id}` need none, and then none is reported missing.
 */
async function scanScenarioId(
  store: ObjectReader,
  outputs: readonly CatalogueOutput[],
  receipt: RunReceipt,
  report: ReportBuilder,
): Promise<string | undefined> {
  const found = new Set<string>();
  let needed = false;
  for (const output of outputs) {
    const template = outputPathTemplate(output);
    const at = template?.indexOf('{scenario_id}') ?? -1;
    if (!template || at < 0) continue;
    needed = true;
    const { path: prefix, missing } = renderTemplate(template.slice(0, at), {
      manifest_fingerprint: receipt.manifest_fingerprint,
      parameter_hash: receipt.parameter_hash,
      seed: receipt.seed,
      run_id: receipt.run_id,
    });
    if (missing.length > 0 || /[*?[]/.test(prefix)) continue;
    for (const object of await store.list(prefix)) {
      const value = object.key.slice(prefix.length).split('/')[0];
      if (value && object.key.length > prefix.length + value.length) found.add(value);
    }
  }
  if (!needed) return undefined;
  const candidates = [...found].sort(compareCodePoints);
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) report.add('SCENARIO_ID_MISSING', 'ERROR', 'no scenario_id=* directory found');
  else report.add('SCENARIO_ID_AMBIGUOUS', 'ERROR', sortedJson(candidates));
  return undefined;
}

/**
 * Every gate in the map must have its `_passed.flag` (the reference's check, GATE_RECEIPT_MISSING).
 * The required gates of the requested outputs are verified by their hash law too.
 */
async function checkGates(
  store: ObjectReader,
  gateMap: GateMap,
  catalogue: Catalogue,
  outputs: readonly CatalogueOutput[],
  manifestFingerprint: string,
  report: ReportBuilder,
  details: CheckDetails,
): Promise<void> {
  const tokens = { manifest_fingerprint: manifestFingerprint };
  const flagAbsent = new Set<string>();
  for (const gate of [...gateMap.gates].sort((a, b) => compareCodePoints(a.gate_id, b.gate_id))) {
    const rendered = gatePaths(gate, tokens);
    const path = 'paths' in rendered ? rendered.paths.passed_flag : gate.passed_flag_path_template;
    if ('paths' in rendered && (await store.get(path)) !== undefined) continue;
    flagAbsent.add(gate.gate_id);
    details.gates_missing.push({ gate_id: gate.gate_id, path });
  }
  if (details.gates_missing.length > 0)
    report.add('GATE_RECEIPT_MISSING', 'ERROR', sortedJson(details.gates_missing));

  details.required_gates = requiredGateSet(
    outputs.map((o) => o.output_id),
    { gateMap, catalogue },
  );
  details.gate_results = await verifyGates(store, details.required_gates, tokens, gateMap);
  for (const result of details.gate_results) {
    if (result.status === 'PASS' || flagAbsent.has(result.gate_id)) continue;
    if (result.status === 'FAIL') {
      report.add(
        'GATE_DIGEST_MISMATCH',
        'ERROR',
        sortedJson({ gate_id: result.gate_id, expected: result.expected, actual: result.actual }),
      );
    } else if (result.status === 'MISSING') {
      report.add(
        'GATE_BUNDLE_INCOMPLETE',
        'ERROR',
        sortedJson({ gate_id: result.gate_id, missing: result.missing }),
      );
    } else {
      report.add(
        'GATE_FLAG_UNPARSEABLE',
        'ERROR',
        sortedJson({ gate_id: result.gate_id, reason: result.detail }),
      );
    }
  }
}

async function checkOutputs(
  store: ObjectReader,
  outputs: readonly CatalogueOutput[],
  tokens: TemplateTokens,
  scenarioKnown: boolean,
  report: ReportBuilder,
  details: CheckDetails,
): Promise<void> {
  for (const output of outputs) {
    const template = outputPathTemplate(output);
    if (!template) {
      report.add('OUTPUT_TEMPLATE_MISSING', 'ERROR', output.output_id);
      continue;
    }
    // An unresolved scenario was reported already; its outputs cannot be located, so say nothing more.
    if (!scenarioKnown && templateTokens(template).includes('scenario_id')) continue;
    const { path, missing } = renderTemplate(template, tokens);
    if (missing.length > 0) {
      report.add('TEMPLATE_TOKEN_MISSING', 'ERROR', `${output.output_id}:${missing.join(',')}`);
      continue;
    }
    if ((await globObjects(store, path)).length === 0) {
      details.outputs_missing.push({ output_id: output.output_id, path });
      report.add('OUTPUT_MISSING', 'ERROR', output.output_id);
    }
  }
}

async function checkPackFiles(
  store: ObjectReader,
  strictSeal: boolean,
  report: ReportBuilder,
  details: CheckDetails,
): Promise<void> {
  const manifestBytes = await store.get(PACK_MANIFEST_KEY);
  if (manifestBytes === undefined) {
    report.add('PACK_MANIFEST_MISSING', 'WARN', PACK_MANIFEST_KEY);
  } else {
    const json = readJsonBytes(manifestBytes);
    const parsed = json.ok ? PackManifest.safeParse(json.value) : undefined;
    details.pack_manifests.push({
      path: PACK_MANIFEST_KEY,
      valid: parsed?.success === true,
      oracle_pack_id: parsed?.success ? parsed.data.oracle_pack_id : null,
    });
    if (!json.ok) report.add('PACK_MANIFEST_INVALID', 'ERROR', `not JSON: ${json.error}`);
    else if (parsed && !parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
      report.add('PACK_MANIFEST_INVALID', 'ERROR', fields.join(','));
    }
  }
  const sealed =
    (await store.get(PACK_SEAL_KEY)) !== undefined || (await store.get(LEGACY_PACK_SEAL_KEY)) !== undefined;
  if (!sealed) report.add('PACK_NOT_SEALED', strictSeal ? 'ERROR' : 'WARN', store.root);
}

/** The oracle-check task: its outputs ("default" or absent: the context and traffic ones), the report, a summary. */
export async function checkRequestedPack(store: ObjectReader, request: z.output<typeof CheckTaskRequest>) {
  const given = request.output_ids;
  const outputIds = Array.isArray(given) ? given : [...DEFAULT_CHECK_OUTPUT_IDS];
  const report = await checkPack(store, {
    scenarioId: request.scenario_id,
    strictSeal: request.strict_seal,
    outputIds,
  });
  return {
    status: report.status,
    reason_codes: report.reason_codes,
    errors: report.errors,
    warnings: report.warnings,
    output_ids: outputIds,
    summary: `${report.status}: ${report.errors.concat(report.warnings).join('; ') || 'no issues'}`,
  };
}
