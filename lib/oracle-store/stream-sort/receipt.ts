import { canonicalJson } from '../../contracts/canonical-json.ts';
import { sha256Hex } from '../../contracts/identity.ts';
import { PlatformError } from '../../errors/platform-error.ts';

/** Stream view identity, receipt, manifest and the idempotency rules of control-ingress.md §2.3. */

export interface ViewStats {
  row_count: number;
  /** Σ h(row) as an exact decimal (h = the portable row hash, see docs/oracle-store.md). */
  hash_sum: string;
  /** Σ (h(row) mod 1000000007). */
  hash_sum2: string;
  min_ts_utc: string | null;
  max_ts_utc: string | null;
}

export interface StreamSortReceipt {
  stream_view_id: string;
  engine_run_root: string;
  stream_view_root: string;
  output_id: string;
  output_ids: string[];
  sort_keys: string[];
  partition_granularity: 'flat';
  source_locator_digest: string;
  raw_stats: ViewStats;
  sorted_stats: ViewStats;
  parts: string[];
  row_hash: 'md5_lower64_of_sorted_json_v1';
  created_utc: string;
  status: 'OK';
}

export interface StreamViewManifest {
  stream_view_id: string;
  engine_run_root: string;
  stream_view_root: string;
  engine_run_id: string;
  scenario_id: string;
  output_id: string;
  world_key: {
    manifest_fingerprint: string;
    parameter_hash: string;
    seed: string | number | bigint;
    scenario_id: string;
  };
  output_ids: string[];
  sort_keys: string[];
  partition_granularity: 'flat';
  created_utc: string;
}

export type StreamSortErrorCode =
  | 'STREAM_RECEIPT_MISSING'
  | 'STREAM_RECEIPT_MISMATCH'
  | 'STREAM_VIEW_PARTIAL_EXISTS'
  | 'STREAM_SORT_VALIDATION_FAILED'
  | 'STREAM_SORT_OUTPUT_EMPTY'
  | 'OUTPUT_PATHS_EMPTY';

export class StreamSortError extends PlatformError<StreamSortErrorCode> {
  constructor(code: StreamSortErrorCode, detail: string) {
    super(code, `${code}: ${detail}`);
  }
}

export function streamViewId(
  engineRunRoot: string,
  scenarioId: string,
  outputId: string,
  sortKeys: string[],
): string {
  return sha256Hex(
    canonicalJson({
      engine_run_root: engineRunRoot,
      scenario_id: scenarioId,
      output_id: outputId,
      sort_keys: sortKeys,
      partition_granularity: 'flat',
    }),
  );
}

export function sourceLocatorDigest(sourceUris: string[]): string {
  return sha256Hex([...sourceUris].sort().join('\n'));
}

export const viewPrefix = (outputId: string) => `stream_view/ts_utc/output_id=${outputId}/`;
export const RECEIPT_FILE = '_stream_sort_receipt.json';
export const MANIFEST_FILE = '_stream_view_manifest.json';
export const partName = (index: number) => `part-${String(index).padStart(6, '0')}.parquet`;

export interface ExistingView {
  manifestPresent: boolean;
  receipt: StreamSortReceipt | undefined;
  partsPresent: boolean;
}

export interface ExpectedView {
  streamViewId: string;
  outputId: string;
  sourceLocatorDigest: string;
}

/** What to do about what is already in the view's prefix: run, or skip a valid view; anything else fails. */
export function decideIdempotency(existing: ExistingView, expected: ExpectedView): 'run' | 'skip' {
  if (existing.manifestPresent && !existing.receipt)
    throw new StreamSortError('STREAM_RECEIPT_MISSING', `${expected.outputId}: manifest without receipt`);
  if (existing.receipt) {
    const r = existing.receipt;
    const same =
      r.status === 'OK' &&
      r.source_locator_digest === expected.sourceLocatorDigest &&
      r.output_id === expected.outputId &&
      r.stream_view_id === expected.streamViewId &&
      r.partition_granularity === 'flat';
    if (same) return 'skip';
    throw new StreamSortError(
      'STREAM_RECEIPT_MISMATCH',
      `${expected.outputId}: the existing receipt is for other sources or keys; it is never overwritten`,
    );
  }
  if (existing.partsPresent) {
    throw new StreamSortError(
      'STREAM_VIEW_PARTIAL_EXISTS',
      `${expected.outputId}: parquet parts without a receipt; delete ${viewPrefix(expected.outputId)} and rerun`,
    );
  }
  return 'run';
}

/** "No dupes, no drops": the sorted view must hold exactly the source rows. */
/** Stats of disjoint row sets added up (counts and hash sums add; min of mins, max of maxes). */
export function combineStats(parts: ViewStats[]): ViewStats {
  const pick = (values: Array<string | null>, better: (a: string, b: string) => boolean) =>
    values.reduce<string | null>(
      (acc, v) => (v === null ? acc : acc === null || better(v, acc) ? v : acc),
      null,
    );
  return {
    row_count: parts.reduce((n, p) => n + p.row_count, 0),
    hash_sum: String(parts.reduce((n, p) => n + BigInt(p.hash_sum), 0n)),
    hash_sum2: String(parts.reduce((n, p) => n + BigInt(p.hash_sum2), 0n)),
    min_ts_utc: pick(
      parts.map((p) => p.min_ts_utc),
      (a, b) => a < b,
    ),
    max_ts_utc: pick(
      parts.map((p) => p.max_ts_utc),
      (a, b) => a > b,
    ),
  };
}

export function assertSameRows(outputId: string, raw: ViewStats, sorted: ViewStats): void {
  const fields: Array<keyof ViewStats> = ['row_count', 'hash_sum', 'hash_sum2', 'min_ts_utc', 'max_ts_utc'];
  const differing = fields.filter((f) => raw[f] !== sorted[f]);
  if (differing.length > 0) {
    throw new StreamSortError(
      'STREAM_SORT_VALIDATION_FAILED',
      `${outputId}: ${differing.map((f) => `${f} source=${raw[f]} view=${sorted[f]}`).join(', ')}`,
    );
  }
}
