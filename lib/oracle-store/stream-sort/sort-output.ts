import type { z } from 'zod';
import { canonicalJson } from '../../contracts/canonical-json.ts';
import type { FinalizeRequest, PreparedSort, SerializedWindow } from '../../contracts/oracle-pipeline.ts';
import type { ObjectReader, ObjectStore, WriteOnceStore } from '../object-store.ts';
import { readWorldKey } from '../seal.ts';
import type { SortWorkspace, StreamSortEngine } from './engine.ts';
import {
  assertSameRows,
  combineStats,
  decideIdempotency,
  MANIFEST_FILE,
  partName,
  RECEIPT_FILE,
  StreamSortError,
  type StreamSortReceipt,
  type StreamViewManifest,
  sourceLocatorDigest,
  streamViewId,
  type ViewStats,
  viewPrefix,
} from './receipt.ts';
import { sortKeysFor } from './sort-keys.ts';
import { planWindows, type SortWindow } from './window-plan.ts';

/**
 * One output's stream sort in three steps, each runnable in its own Lambda (the oracle-pipeline state machine
 * runs `sortWindow` as a Map over the planned windows): prepare (idempotency, keys, window plan), sort each
 * window into `part-NNNNNN.parquet`, finalize (validate, then receipt, then manifest).
 */

export interface OutputSortRequest {
  outputId: string;
  scenarioId: string;
  /** Source part keys (the catalogue template rendered and globbed), any order. */
  sourceKeys: string[];
  /** Memory budget of one window worker, bytes. */
  budgetBytes: number;
  configuredKeys?: string[];
}

export type { PreparedSort, SerializedWindow };

const toJson = (w: SortWindow): SerializedWindow => ({
  ...w,
  startMicros: String(w.startMicros),
  endMicros: String(w.endMicros),
  bounded: true,
});
const ordinalsOf = (sorted: string[]) => new Map(sorted.map((k, i) => [k, i]));

export async function prepareOutputSort(
  store: ObjectReader,
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  req: OutputSortRequest,
): Promise<PreparedSort> {
  const sourceKeys = [...req.sourceKeys].sort();
  if (sourceKeys.length === 0) throw new StreamSortError('OUTPUT_PATHS_EMPTY', req.outputId);
  const prefix = viewPrefix(req.outputId);
  const existing = await store.list(prefix);
  const receiptBytes = await store.get(prefix + RECEIPT_FILE);
  const receipt = receiptBytes
    ? (JSON.parse(Buffer.from(receiptBytes).toString('utf8')) as StreamSortReceipt)
    : undefined;

  const paths = await workspace.stage(sourceKeys.map((key, ordinal) => ({ key, ordinal })));
  const columns = await engine.columns(paths);
  const keys = sortKeysFor(req.outputId, columns, req.configuredKeys);
  const id = streamViewId(store.root, req.scenarioId, req.outputId, keys.recorded);
  const decision = decideIdempotency(
    {
      manifestPresent: existing.some((o) => o.key === prefix + MANIFEST_FILE),
      receipt,
      partsPresent: existing.some((o) => o.key.endsWith('.parquet')),
    },
    {
      streamViewId: id,
      outputId: req.outputId,
      sourceLocatorDigest: sourceLocatorDigest(sourceKeys.map((k) => `${store.root}/${k}`)),
    },
  );
  let windows: SerializedWindow[] = [];
  let sourceRows: number | undefined;
  if (decision === 'run') {
    sourceRows = await engine.rowCount(paths);
    const groups = keys.timeKey
      ? await engine.rowGroups(
          sourceKeys.map((key, i) => ({ key, path: paths[i] ?? '' })),
          keys.timeKey,
        )
      : undefined;
    windows = groups
      ? planWindows(groups, { budgetBytes: req.budgetBytes }).map(toJson)
      : [
          {
            index: 0,
            startMicros: '0',
            endMicros: '0',
            last: true,
            files: sourceKeys,
            estimatedRows: 0,
            estimatedBytes: 0,
            bounded: false,
          },
        ];
  }
  return {
    outputId: req.outputId,
    decision,
    streamViewId: id,
    sortKeys: keys.keys,
    recordedKeys: keys.recorded,
    timeKey: keys.timeKey,
    sourceKeys,
    windows,
    ...(sourceRows === undefined ? {} : { sourceRows }),
  };
}

export async function sortWindow(
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  prepared: PreparedSort,
  window: SerializedWindow,
): Promise<{ part: string | undefined; rows: number }> {
  const ordinals = ordinalsOf(prepared.sourceKeys);
  const paths = await workspace.stage(window.files.map((key) => ({ key, ordinal: ordinals.get(key) ?? 0 })));
  const outPath = workspace.scratchPath(partName(window.index));
  const rows = await engine.sortWindow({
    paths,
    keys: prepared.sortKeys,
    timeKey: prepared.timeKey,
    window: window.bounded
      ? { startMicros: BigInt(window.startMicros), endMicros: BigInt(window.endMicros), last: window.last }
      : undefined,
    outPath,
  });
  if (rows === 0) return { part: undefined, rows };
  const key = viewPrefix(prepared.outputId) + partName(window.index);
  await workspace.upload(outPath, key);
  return { part: key, rows };
}

/** One window's share of the validation: stats of its source rows and of the part it wrote. */
export interface WindowStats {
  index: number;
  part: string | undefined;
  source: ViewStats;
  view: ViewStats | undefined;
}

/**
 * Validation by window (the state machine runs it as a Map, so it scales with the workers): the window's source
 * rows, read with the same filter as its sort, and its part, read back from the store.
 */
export async function windowStats(
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  prepared: PreparedSort,
  window: SerializedWindow,
): Promise<WindowStats> {
  const ordinals = ordinalsOf(prepared.sourceKeys);
  const paths = await workspace.stage(window.files.map((key) => ({ key, ordinal: ordinals.get(key) ?? 0 })));
  const source = await engine.stats(
    paths,
    prepared.timeKey,
    window.bounded
      ? { startMicros: BigInt(window.startMicros), endMicros: BigInt(window.endMicros), last: window.last }
      : undefined,
  );
  if (source.row_count === 0) return { index: window.index, part: undefined, source, view: undefined };
  const part = viewPrefix(prepared.outputId) + partName(window.index);
  const staged = await workspace.stage([{ key: part, ordinal: 1_000_000 + window.index }], { fresh: true });
  return { index: window.index, part, source, view: await engine.stats(staged, prepared.timeKey) };
}

/** Source and view stats from the windows' shares; every row of the sources must be in exactly one window. */
function combineWindowStats(
  prepared: PreparedSort,
  parts: string[],
  windows: WindowStats[],
): { raw: ViewStats; sorted: ViewStats } {
  const fail = (detail: string) => {
    throw new StreamSortError('STREAM_SORT_VALIDATION_FAILED', `${prepared.outputId}: ${detail}`);
  };
  const planned = prepared.windows.map((w) => w.index).sort((a, b) => a - b);
  const reported = windows.map((w) => w.index).sort((a, b) => a - b);
  if (planned.join() !== reported.join())
    fail(`stats of windows [${reported.join(', ')}] for the planned [${planned.join(', ')}]`);
  const expectedParts = windows.flatMap((w) => (w.part ? [w.part] : [])).sort();
  if (expectedParts.join() !== parts.join())
    fail(`parts in the view [${parts.join(', ')}] are not the windows' [${expectedParts.join(', ')}]`);
  const raw = combineStats(windows.map((w) => w.source));
  if (prepared.sourceRows !== undefined && raw.row_count !== prepared.sourceRows)
    fail(`the windows hold ${raw.row_count} of the ${prepared.sourceRows} source rows`);
  return { raw, sorted: combineStats(windows.flatMap((w) => (w.view ? [w.view] : []))) };
}

export interface FinalizeContext {
  engineRunId: string;
  worldKey: StreamViewManifest['world_key'];
  scenarioId: string;
  now: Date;
}

export async function finalizeOutputSort(
  store: WriteOnceStore,
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  prepared: PreparedSort,
  ctx: FinalizeContext,
  /** The windows' validation shares; without them the whole source and view are read here. */
  windows?: WindowStats[],
): Promise<StreamSortReceipt> {
  const prefix = viewPrefix(prepared.outputId);
  if (prepared.decision === 'skip') {
    const bytes = await store.get(prefix + RECEIPT_FILE);
    if (!bytes) throw new StreamSortError('STREAM_RECEIPT_MISSING', prepared.outputId);
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as StreamSortReceipt;
  }
  const parts = (await store.list(prefix))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.parquet'))
    .sort();
  if (parts.length === 0) throw new StreamSortError('STREAM_SORT_OUTPUT_EMPTY', prepared.outputId);
  const { raw, sorted } = windows
    ? combineWindowStats(prepared, parts, windows)
    : await wholeStats(engine, workspace, prepared, parts);
  assertSameRows(prepared.outputId, raw, sorted);
  const created = ctx.now.toISOString();
  const receipt: StreamSortReceipt = {
    stream_view_id: prepared.streamViewId,
    engine_run_root: store.root,
    stream_view_root: `${store.root}/${prefix.replace(/\/$/, '')}`,
    output_id: prepared.outputId,
    output_ids: [prepared.outputId],
    sort_keys: prepared.recordedKeys,
    partition_granularity: 'flat',
    source_locator_digest: sourceLocatorDigest(prepared.sourceKeys.map((k) => `${store.root}/${k}`)),
    raw_stats: raw,
    sorted_stats: sorted,
    parts: parts.map((p) => p.slice(prefix.length)),
    row_hash: 'md5_lower64_of_sorted_json_v1',
    created_utc: created,
    status: 'OK',
  };
  if (!(await store.putIfAbsent(prefix + RECEIPT_FILE, `${canonicalJson(receipt)}\n`))) {
    throw new StreamSortError(
      'STREAM_RECEIPT_MISMATCH',
      `${prepared.outputId}: a receipt appeared meanwhile; it is never overwritten`,
    );
  }
  const manifest: StreamViewManifest = {
    stream_view_id: prepared.streamViewId,
    engine_run_root: store.root,
    stream_view_root: receipt.stream_view_root,
    engine_run_id: ctx.engineRunId,
    scenario_id: ctx.scenarioId,
    output_id: prepared.outputId,
    world_key: ctx.worldKey,
    output_ids: [prepared.outputId],
    sort_keys: prepared.recordedKeys,
    partition_granularity: 'flat',
    created_utc: created,
  };
  await store.putIfAbsent(prefix + MANIFEST_FILE, `${canonicalJson(manifest)}\n`);
  return receipt;
}

async function wholeStats(
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  prepared: PreparedSort,
  parts: string[],
): Promise<{ raw: ViewStats; sorted: ViewStats }> {
  const sources = await workspace.stage(prepared.sourceKeys.map((key, ordinal) => ({ key, ordinal })));
  const staged = await workspace.stage(
    parts.map((key, ordinal) => ({ key, ordinal: 1_000_000 + ordinal })),
    { fresh: true },
  );
  return {
    raw: await engine.stats(sources, prepared.timeKey),
    sorted: await engine.stats(staged, prepared.timeKey),
  };
}

/** All three steps in one process (CLI, tests); the state machine runs them as separate Lambdas. */
export async function sortOutput(
  store: ObjectStore,
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  req: OutputSortRequest,
  ctx: FinalizeContext,
) {
  const prepared = await prepareOutputSort(store, engine, workspace, req);
  const windows = [];
  if (prepared.decision === 'run')
    for (const w of prepared.windows) windows.push(await sortWindow(engine, workspace, prepared, w));
  const receipt = await finalizeOutputSort(store, engine, workspace, prepared, ctx);
  return { prepared, windows, receipt };
}

/** Recomputes a committed view's stats from its parts; a part changed after the receipt fails the check. */
export async function verifyStreamView(
  store: ObjectReader,
  engine: StreamSortEngine,
  workspace: SortWorkspace,
  outputId: string,
  timeKey: string | undefined,
): Promise<StreamSortReceipt> {
  const prefix = viewPrefix(outputId);
  const bytes = await store.get(prefix + RECEIPT_FILE);
  if (!bytes) throw new StreamSortError('STREAM_RECEIPT_MISSING', outputId);
  const receipt = JSON.parse(Buffer.from(bytes).toString('utf8')) as StreamSortReceipt;
  const parts = (await store.list(prefix))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.parquet'))
    .sort();
  const listed = receipt.parts.map((p) => prefix + p);
  if (parts.join('\n') !== listed.join('\n'))
    throw new StreamSortError('STREAM_RECEIPT_MISMATCH', `${outputId}: parts differ from the receipt's`);
  const staged = await workspace.stage(parts.map((key, ordinal) => ({ key, ordinal: 2_000_000 + ordinal })));
  const now = await engine.stats(staged, timeKey);
  const differing = (Object.keys(now) as Array<keyof typeof now>).filter(
    (k) => now[k] !== receipt.sorted_stats[k],
  );
  if (differing.length > 0)
    throw new StreamSortError(
      'STREAM_RECEIPT_MISMATCH',
      `${outputId}: view no longer matches its receipt (${differing.join(', ')})`,
    );
  return receipt;
}

/**
 * The oracle-stream-finalize task: the world key from the run receipt, the finalize (run by `withEngine`, which
 * opens the sort engine and its workspace), and its answer.
 */
export async function finalizeRequestedSort(
  store: WriteOnceStore,
  request: z.output<typeof FinalizeRequest>,
  now: Date,
  withEngine: (
    work: (engine: StreamSortEngine, workspace: SortWorkspace) => Promise<StreamSortReceipt>,
  ) => Promise<StreamSortReceipt>,
) {
  const { engine_run_prefix: prefix, scenario_id: scenarioId, prepared, window_stats: windows } = request;
  const worldKey = await readWorldKey(store, scenarioId);
  const ctx = { engineRunId: prefix.split('/').at(-1) ?? prefix, worldKey, scenarioId, now };
  const receipt = await withEngine((engine, workspace) =>
    finalizeOutputSort(
      store,
      engine,
      workspace,
      prepared,
      ctx,
      windows?.map((w) => ({ index: w.index, part: w.part, source: w.source, view: w.view })),
    ),
  );
  return {
    output_id: receipt.output_id,
    stream_view_id: receipt.stream_view_id,
    decision: prepared.decision,
    rows: receipt.sorted_stats.row_count,
    parts: receipt.parts.length,
    min_ts_utc: receipt.sorted_stats.min_ts_utc,
    max_ts_utc: receipt.sorted_stats.max_ts_utc,
  };
}
