import { fallbackPackKey } from '../contracts/identity.ts';
import { Hex32 } from '../contracts/wire-primitives.ts';
import { gatePaths } from '../oracle-store/gates.ts';
import {
  type Catalogue,
  ENGINE_CATALOGUE,
  ENGINE_GATE_MAP,
  type GateMap,
} from '../oracle-store/interface-pack.ts';
import {
  LEGACY_PACK_SEAL_KEY,
  PACK_MANIFEST_KEY,
  PACK_SEAL_KEY,
  PackManifest,
  ReceiptWorldKey,
  RUN_RECEIPT_KEY,
  readJsonBytes,
} from '../oracle-store/pack-contracts.ts';
import { checkpointScopeFor } from './checkpoint.ts';
import {
  AllowlistUnsupported,
  type EngineRunOpener,
  type EngineRunStore,
  type ProducerAllowlistSource,
} from './ports.ts';
import type { StreamReasonCode } from './reason-codes.ts';
import { segmentNamePrefix } from './segments.ts';
import type { WorldStreamerSettings } from './settings.ts';
import {
  failed,
  type PlannedOutput,
  type RunStreamOverrides,
  type StreamPlan,
  type StreamResult,
  StreamRunInput,
} from './stream-contracts.ts';
import { checkStreamView } from './stream-view-check.ts';

/** The stream checks and the plan of outputs (control-ingress.md §4.2, §4.3), before any push. */

export interface InterfacePack {
  catalogue: Catalogue;
  gateMap: GateMap;
}

const ENGINE_PACK: InterfacePack = { catalogue: ENGINE_CATALOGUE, gateMap: ENGINE_GATE_MAP };

export type OutputSelection =
  | { ok: true; traffic: string[]; context: string[]; ordered: string[] }
  | { ok: false; reason: 'NO_TRAFFIC_OUTPUTS'; detail: string };

/**
 * §4.2 step 5: traffic = the policy list (an override must be a subset); context = the fraud list, or the
 * baseline list when the traffic is baseline-only; any id unknown to the catalogue → NO_TRAFFIC_OUTPUTS;
 * order = context then traffic, de-duplicated.
 */
export function selectOutputs(
  settings: Pick<
    WorldStreamerSettings,
    'trafficOutputIds' | 'trafficOverride' | 'contextOutputIds' | 'contextBaselineOutputIds'
  >,
  catalogue: Catalogue = ENGINE_CATALOGUE,
): OutputSelection {
  const policy = settings.trafficOutputIds;
  const override = settings.trafficOverride;
  if (override && override.length > 0) {
    const outside = override.filter((id) => !policy.includes(id));
    if (outside.length > 0) {
      return { ok: false, reason: 'NO_TRAFFIC_OUTPUTS', detail: `not in policy: ${outside.join(',')}` };
    }
  }
  const traffic = override && override.length > 0 ? [...override] : [...policy];
  if (traffic.length === 0) return { ok: false, reason: 'NO_TRAFFIC_OUTPUTS', detail: 'no traffic outputs' };
  const baselineOnly = traffic.every((id) => id.includes('baseline'));
  const context = [...(baselineOnly ? settings.contextBaselineOutputIds : settings.contextOutputIds)];
  const unknown = [...traffic, ...context].filter((id) => !catalogue.byId.has(id));
  if (unknown.length > 0)
    return { ok: false, reason: 'NO_TRAFFIC_OUTPUTS', detail: `unknown: ${unknown.join(',')}` };
  const ordered = [...new Set([...context, ...traffic])];
  return { ok: true, traffic, context, ordered };
}

/** §4.2 step 7 allowlist entries: one producer id a line, blank lines and `#` comments ignored. */
export function parseAllowlist(text: string): Set<string> {
  return new Set(
    text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

async function producerCheck(
  source: ProducerAllowlistSource,
  producerId: string,
): Promise<StreamReasonCode | undefined> {
  if (!producerId) return 'PRODUCER_ID_MISSING';
  let text: string | undefined;
  try {
    text = await source.read();
  } catch (error) {
    return error instanceof AllowlistUnsupported
      ? 'PRODUCER_ALLOWLIST_UNSUPPORTED'
      : 'PRODUCER_ALLOWLIST_UNREADABLE';
  }
  if (text === undefined) return 'PRODUCER_ALLOWLIST_MISSING';
  const entries = parseAllowlist(text);
  if (entries.size === 0) return 'PRODUCER_ALLOWLIST_EMPTY';
  return entries.has(producerId) ? undefined : 'PRODUCER_NOT_ALLOWED';
}

async function exists(store: EngineRunStore, key: string): Promise<boolean> {
  return (await store.list(key)).some((object) => object.key === key);
}

/** §4.2 step 2 fallback: the one `scenario_id=…` token under `data/`, when there is exactly one. */
async function scanScenarioId(store: EngineRunStore): Promise<string | undefined> {
  const found = new Set<string>();
  for (const object of await store.list('data/')) {
    const match = /(?:^|\/)scenario_id=([^/]+)\//.exec(object.key);
    if (match?.[1]) found.add(match[1]);
  }
  return found.size === 1 ? [...found][0] : undefined;
}

/** §4.2 step 6: the `read_requires_gates` of the outputs whose `_passed.flag` is absent, as `output:gate`. */
async function missingGates(
  store: EngineRunStore,
  outputIds: readonly string[],
  manifestFingerprint: string,
  pack: InterfacePack,
): Promise<string[]> {
  const missing: string[] = [];
  const seen = new Map<string, boolean>();
  for (const outputId of outputIds) {
    for (const gateId of pack.catalogue.byId.get(outputId)?.read_requires_gates ?? []) {
      let present = seen.get(gateId);
      if (present === undefined) {
        const gate = pack.gateMap.byId.get(gateId);
        const rendered = gate ? gatePaths(gate, { manifest_fingerprint: manifestFingerprint }) : undefined;
        present =
          rendered !== undefined && 'paths' in rendered && (await exists(store, rendered.paths.passed_flag));
        seen.set(gateId, present);
      }
      if (!present) missing.push(`${outputId}:${gateId}`);
    }
  }
  return missing;
}

export interface PrepareDeps {
  engineRuns: EngineRunOpener;
  allowlist: ProducerAllowlistSource;
}

export type Prepared = { kind: 'plan'; plan: StreamPlan } | { kind: 'failed'; result: StreamResult };

const stop = (reason: StreamReasonCode, detail?: string): Prepared => ({
  kind: 'failed',
  result: failed(reason, 0, detail),
});

/**
 * §4.2 steps 1–7 and §4.3, in the reference's order, then the plan: world key and pins from run_receipt.json,
 * pack key from the pack manifest, outputs context-then-traffic, each with a valid stream view.
 */
export async function prepareStream(
  deps: PrepareDeps,
  rawInput: unknown,
  settings: WorldStreamerSettings,
  pack: InterfacePack = ENGINE_PACK,
): Promise<Prepared> {
  const input = StreamRunInput.parse(rawInput);
  const root = settings.engineRunRootOverride ?? input.engine_run_root;
  if (!root) return stop('ENGINE_ROOT_MISSING');
  if (!input.platform_run_id) return stop('PLATFORM_RUN_ID_MISSING');
  const store = deps.engineRuns.open(root);

  let receiptBytes: Uint8Array | undefined;
  try {
    receiptBytes = await store.get(RUN_RECEIPT_KEY);
  } catch (error) {
    return stop('RUN_RECEIPT_UNREADABLE', error instanceof Error ? error.message : String(error));
  }
  const receiptJson = receiptBytes === undefined ? undefined : readJsonBytes(receiptBytes);
  if (receiptJson === undefined || !receiptJson.ok) return stop('RUN_RECEIPT_UNREADABLE', root);

  const scenarioId = input.scenario_id || settings.scenarioIdOverride || (await scanScenarioId(store));
  if (!scenarioId) return stop('SCENARIO_ID_MISSING');

  const worldKey = ReceiptWorldKey.safeParse(receiptJson.value);
  const engineRunId = Hex32.safeParse((receiptJson.value as { run_id?: unknown } | null)?.run_id);
  if (!worldKey.success || !engineRunId.success) return stop('WORLD_KEY_MISSING');
  const { manifest_fingerprint: mf, parameter_hash: ph, seed } = worldKey.data;

  let packKey = fallbackPackKey(store.root);
  let engineRelease: string | undefined;
  const manifestBytes = await store.get(PACK_MANIFEST_KEY);
  if (manifestBytes === undefined) {
    if (settings.strictSeal) return stop('PACK_MANIFEST_MISSING');
  } else {
    const read = readJsonBytes(manifestBytes);
    const manifest = read.ok ? PackManifest.safeParse(read.value) : undefined;
    if (!manifest?.success) return stop('PACK_MANIFEST_INVALID');
    const key = manifest.data.world_key;
    if (
      key.manifest_fingerprint !== mf ||
      key.parameter_hash !== ph ||
      key.scenario_id !== scenarioId ||
      BigInt(key.seed) !== BigInt(seed)
    ) {
      return stop('WORLD_KEY_MISMATCH');
    }
    packKey = manifest.data.oracle_pack_id;
    engineRelease = manifest.data.engine_release || undefined;
  }
  if (
    settings.strictSeal &&
    !(await exists(store, PACK_SEAL_KEY)) &&
    !(await exists(store, LEGACY_PACK_SEAL_KEY))
  ) {
    return stop('PACK_NOT_SEALED');
  }

  const selection = selectOutputs(settings, pack.catalogue);
  if (!selection.ok) return stop(selection.reason, selection.detail);

  if (settings.requireGatePass) {
    const missing = await missingGates(store, selection.ordered, mf, pack);
    if (missing.length > 0) return stop('GATE_PASS_MISSING', missing.join(','));
  }

  const producerError = await producerCheck(deps.allowlist, settings.producerId);
  if (producerError) return stop(producerError);

  const outputs: PlannedOutput[] = [];
  for (const outputId of selection.ordered) {
    const view = await checkStreamView(store, scenarioId, outputId);
    if (!view.ok) return stop(view.reason, view.detail);
    outputs.push({
      output_id: outputId,
      role: selection.traffic.includes(outputId) ? 'traffic' : 'context',
      primary_key: [...(pack.catalogue.byId.get(outputId)?.primary_key ?? [])],
    });
  }
  const noKey = outputs.find((o) => o.primary_key.length === 0);
  if (noKey) return stop('PRIMARY_KEY_MISSING', `${noKey.output_id}: no catalogue primary_key`);

  return {
    kind: 'plan',
    plan: {
      message_id: input.message_id,
      run_id: input.run_id,
      session_id: input.session_id,
      engine_run_root: store.root,
      platform_run_id: input.platform_run_id,
      scenario_run_id: input.scenario_run_id,
      scenario_id: scenarioId,
      engine_run_id: engineRunId.data,
      manifest_fingerprint: mf,
      parameter_hash: ph,
      seed: BigInt(seed).toString(),
      pack_key: packKey,
      ...(engineRelease === undefined ? {} : { engine_release: engineRelease }),
      checkpoint_scope_key: checkpointScopeFor(
        packKey,
        input.platform_run_id,
        input.scenario_run_id,
        settings,
      ),
      outputs,
      traffic_output_ids: selection.traffic,
      context_output_ids: selection.context,
      output_concurrency:
        settings.outputConcurrency > 0
          ? Math.min(settings.outputConcurrency, outputs.length)
          : outputs.length,
      chunks_per_segment: settings.chunksPerSegment,
      segment_name_prefix: segmentNamePrefix(input.session_id),
      align_window_seconds: settings.alignWindowSeconds,
    },
  };
}

/** Port: the run's stream settings pinned at P1 (platform_runs.stream_settings); {} for a run pinned without them. */
export interface RunStreamSettingsReader {
  settingsOf(platformRunId: string): Promise<RunStreamOverrides>;
}

/**
 * The plan with the run's own stream settings, when P1 pinned any (they win over the deployment's defaults); the
 * alignment window the session streams with is the run's, else the deployment's.
 */
export async function prepareRunStream(
  deps: PrepareDeps & { runSettings: RunStreamSettingsReader },
  rawInput: unknown,
  settings: WorldStreamerSettings,
): Promise<Prepared> {
  const prepared = await prepareStream(deps, rawInput, settings);
  if (prepared.kind === 'plan') {
    const run = await deps.runSettings.settingsOf(prepared.plan.platform_run_id);
    if (Object.keys(run).length > 0) prepared.plan.stream_settings = run;
    if (run.align_window_seconds !== undefined) prepared.plan.align_window_seconds = run.align_window_seconds;
  }
  return prepared;
}
