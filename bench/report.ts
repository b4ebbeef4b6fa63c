import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * What every benchmark hands back and how it is written: `bench/results/<name>.json` (`<name>.smoke.json` for a
 * smoke run, so a smoke run never overwrites full-size figures) and a table on stdout.
 */

export interface Row {
  name: string;
  value: number;
  unit: string;
  note: string;
}

/** A measure beside the ceiling (or floor) measured in the same run; `ratio` = measure / ceiling. */
export interface Ratio {
  measure: string;
  ceiling: string;
  ratio: number;
  meaning: string;
}

export interface BenchOptions {
  /** Tiny sizes (seconds): proves the benchmark still runs, its figures mean little. */
  smoke: boolean;
  say: (line: string) => void;
}

export interface BenchOutcome {
  rows: Row[];
  ratios: Ratio[];
  /** What the ceiling is and why it was chosen, the targets, the sizes: anything a reader of the JSON needs. */
  notes?: Record<string, unknown>;
  /** Raw figures beyond the rows (per round, per handler…). */
  detail?: Record<string, unknown>;
}

export interface Bench {
  name: string;
  summary: string;
  run(options: BenchOptions): Promise<BenchOutcome>;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function row(name: string, value: number, unit: string, note = ''): Row {
  return { name, value: round2(value), unit, note };
}

export function ratio(measure: Row, ceiling: Row, meaning: string): Ratio {
  return {
    measure: measure.name,
    ceiling: ceiling.name,
    ratio: round2(measure.value / ceiling.value),
    meaning,
  };
}

export function machine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map(round2),
  };
}

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1] as number;
}

/** The median (mean of the middle two for an even count). */
export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  return s.length % 2 ? (s[Math.floor(mid)] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const secondsSince = (t0: number) => (performance.now() - t0) / 1000;

export function resultFile(name: string, smoke: boolean, dir = 'bench/results'): string {
  return path.join(dir, smoke ? `${name}.smoke.json` : `${name}.json`);
}

/** Writes the result file and prints the table; returns the file's path. */
export function writeResult(
  bench: Bench,
  smoke: boolean,
  outcome: BenchOutcome,
  wallSeconds: number,
  say: (line: string) => void,
): string {
  const result = {
    name: bench.name,
    when: new Date().toISOString(),
    machine: machine(),
    smoke,
    wallSeconds: round2(wallSeconds),
    rows: outcome.rows,
    ratios: outcome.ratios,
    ...(outcome.notes ? { notes: outcome.notes } : {}),
    ...(outcome.detail ? { detail: outcome.detail } : {}),
  };
  const file = resultFile(bench.name, smoke);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  say('');
  for (const line of table(outcome.rows, ['name', 'value', 'unit', 'note'])) say(line);
  if (outcome.ratios.length > 0) {
    say('');
    for (const line of table(outcome.ratios, ['measure', 'ceiling', 'ratio', 'meaning'])) say(line);
  }
  say(`bench ${bench.name}: ${smoke ? 'smoke run, ' : ''}${round2(wallSeconds)} s; results in ${file}`);
  return file;
}

/** A plain-text table (console.table quotes strings and cannot be captured line by line). */
export function table<T extends object>(items: T[], columns: Array<keyof T & string>): string[] {
  const cells = items.map((item) =>
    columns.map((c) => {
      const v = item[c];
      return typeof v === 'number'
        ? v.toLocaleString('en-US', { maximumFractionDigits: 2 })
        : String(v ?? '');
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}
