/**
 * Plans the windows of a stream sort from Parquet row-group statistics: contiguous, non-overlapping ranges of
 * the sort time such that the data a window reads is expected to fit a worker's memory budget. Each row
 * group's bytes are spread evenly over its [min, max] time range; the range is cut where the running estimate
 * would pass the budget. Windows are half-open [start, end) except the last, which is closed.
 */

export interface RowGroupStat {
  /** Source object key (relative to the engine run root). */
  file: string;
  rowGroup: number;
  rows: number;
  /** Uncompressed bytes of the row group (all columns). */
  bytes: number;
  /** Sort time of the first and last rows, epoch microseconds. */
  minMicros: bigint;
  maxMicros: bigint;
}

export interface SortWindow {
  index: number;
  startMicros: bigint;
  /** Exclusive, except for the last window (inclusive). */
  endMicros: bigint;
  last: boolean;
  /** Files with at least one row group overlapping the window, in key order. */
  files: string[];
  estimatedRows: number;
  estimatedBytes: number;
}

export interface PlanOptions {
  /** Budget for the data one window holds in memory, in bytes. */
  budgetBytes: number;
  /** How much larger in memory than its uncompressed Parquet size a window is taken to be. */
  expansion?: number;
  /** Resolution of the estimate: the time range is divided into this many slices. */
  slices?: number;
}

export function planWindows(groups: RowGroupStat[], options: PlanOptions): SortWindow[] {
  if (groups.length === 0) return [];
  const expansion = options.expansion ?? 2;
  const slices = BigInt(Math.max(1, options.slices ?? 2048));
  const min = groups.reduce((m, g) => (g.minMicros < m ? g.minMicros : m), groups[0]?.minMicros ?? 0n);
  const max = groups.reduce((m, g) => (g.maxMicros > m ? g.maxMicros : m), groups[0]?.maxMicros ?? 0n);
  const span = max - min + 1n;
  const width = span / slices + (span % slices === 0n ? 0n : 1n);
  const sliceCount = Number((span + width - 1n) / width);
  const bytes = new Float64Array(sliceCount);
  const rows = new Float64Array(sliceCount);
  for (const g of groups) {
    const first = Number((g.minMicros - min) / width);
    const last = Number((g.maxMicros - min) / width);
    const n = last - first + 1;
    for (let s = first; s <= last; s++) {
      bytes[s] = (bytes[s] ?? 0) + (g.bytes * expansion) / n;
      rows[s] = (rows[s] ?? 0) + g.rows / n;
    }
  }
  const windows: SortWindow[] = [];
  let startSlice = 0;
  let accBytes = 0;
  let accRows = 0;
  const close = (endSlice: number, last: boolean) => {
    const startMicros = min + BigInt(startSlice) * width;
    const endMicros = last ? max : min + BigInt(endSlice) * width;
    windows.push({
      index: windows.length,
      startMicros,
      endMicros,
      last,
      files: filesOverlapping(groups, startMicros, endMicros, last),
      estimatedRows: Math.round(accRows),
      estimatedBytes: Math.round(accBytes),
    });
    startSlice = endSlice;
    accBytes = 0;
    accRows = 0;
  };
  for (let s = 0; s < sliceCount; s++) {
    const b = bytes[s] ?? 0;
    if (accBytes > 0 && accBytes + b > options.budgetBytes) close(s, false);
    accBytes += b;
    accRows += rows[s] ?? 0;
  }
  close(sliceCount, true);
  return windows;
}

function filesOverlapping(groups: RowGroupStat[], start: bigint, end: bigint, last: boolean): string[] {
  const files = new Set<string>();
  for (const g of groups) {
    const beforeEnd = last ? g.minMicros <= end : g.minMicros < end;
    if (beforeEnd && g.maxMicros >= start) files.add(g.file);
  }
  return [...files].sort();
}
