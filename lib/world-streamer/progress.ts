import type { WorldStreamerSettings } from './settings.ts';

/** Narrative and progress lines (control-ingress.md §4.8), formatted as the reference logs them. */

const field = (value: unknown) => (value === null || value === undefined ? 'None' : String(value));

export function streamStartLine(p: {
  runId: string;
  outputId: string;
  maxEvents: number;
  speedup: number;
}): string {
  const max = p.maxEvents > 0 ? String(p.maxEvents) : 'all';
  return `WSP stream start run_id=${p.runId} output_id=${p.outputId} max_events=${max} speedup=${p.speedup.toFixed(2)}`;
}

export function streamStopLine(p: { runId: string; outputId: string; emitted: number }): string {
  return `WSP stream stop run_id=${p.runId} output_id=${p.outputId} emitted=${p.emitted} reason=max_events`;
}

export function streamCompleteLine(p: { runId: string; outputId: string; emitted: number }): string {
  return `WSP stream complete run_id=${p.runId} output_id=${p.outputId} emitted=${p.emitted}`;
}

export function streamFailedLine(p: {
  runId: string;
  outputId: string;
  reason: string;
  detail?: string;
}): string {
  return `WSP stream failed run_id=${p.runId} output_id=${p.outputId} reason=${p.reason}${
    p.detail ? ` detail=${p.detail}` : ''
  }`;
}

export interface ProgressPoint {
  outputId: string;
  emitted: number;
  lastFile: string | null;
  row: number | null;
  ts: string | null;
}

export function progressLine(p: ProgressPoint): string {
  return `WSP stream_view progress output_id=${p.outputId} emitted=${p.emitted} last_file=${field(p.lastFile)} row=${field(p.row)} ts=${field(p.ts)}`;
}

export interface ProgressMark {
  emitted: number;
  atMs: number;
}

/** §4.8 a progress line is due every `progressEvery` events or every `progressSeconds`. */
export function progressDue(
  last: ProgressMark,
  emitted: number,
  nowMs: number,
  settings: Pick<WorldStreamerSettings, 'progressEvery' | 'progressSeconds'>,
): boolean {
  if (emitted <= last.emitted) return false;
  return (
    emitted - last.emitted >= settings.progressEvery || nowMs - last.atMs >= settings.progressSeconds * 1000
  );
}
