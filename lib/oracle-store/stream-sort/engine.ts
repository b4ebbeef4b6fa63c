import type { ViewStats } from './receipt.ts';
import type { RowGroupStat, SortWindow } from './window-plan.ts';

/** Port: the columnar engine (DuckDB in lib/adapters/duckdb) over local Parquet files. */
export interface StreamSortEngine {
  columns(paths: string[]): Promise<string[]>;
  /** Row-group statistics on the time key; undefined when some row group has none (plan one window). */
  rowGroups(
    files: Array<{ key: string; path: string }>,
    timeKey: string,
  ): Promise<RowGroupStat[] | undefined>;
  /** Sorts the window's rows into outPath; returns the rows written. */
  sortWindow(input: SortWindowInput): Promise<number>;
  /** Order-invariant stats of the rows (of the window's rows, when a window is given). */
  stats(paths: string[], timeKey: string | undefined, window?: SortWindowInput['window']): Promise<ViewStats>;
  /** Rows in the files, from the Parquet footers (no scan). */
  rowCount(paths: string[]): Promise<number>;
  close(): void;
}

export interface SortWindowInput {
  /** Local files in source-URI order (their names sort in that order). */
  paths: string[];
  keys: string[];
  timeKey: string | undefined;
  window: Pick<SortWindow, 'startMicros' | 'endMicros' | 'last'> | undefined;
  outPath: string;
}

/** Port: local scratch space (Lambda /tmp) holding staged sources and the parts being written. */
export interface SortWorkspace {
  /**
   * Fetches the objects to local files named so that their lexical order is `ordinals` order. Copies already
   * staged are reused unless `fresh` (objects that may have been rewritten, like a retried window's part).
   */
  stage(files: Array<{ key: string; ordinal: number }>, options?: { fresh?: boolean }): Promise<string[]>;
  /** A fresh local path for an output file. */
  scratchPath(name: string): string;
  upload(localPath: string, key: string): Promise<void>;
}
