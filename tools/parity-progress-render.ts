import { createLogUpdate } from 'log-update';
import type { OutputView, PhaseView, ProgressEvent, ProgressMode, ProgressModel } from './parity-progress.ts';

/** `npm run parity`'s progress renderers (parity-progress.ts): a live frame on a terminal, plain lines, JSON lines, quiet. */

export interface Writer {
  write(text: string): unknown;
}

export interface ProgressRenderer {
  /** What the model answered. */
  show(events: readonly ProgressEvent[]): void;
  /** A line of human text (the steps, the local cloud's own lines). */
  log(line: string): void;
  /** The final result: the human summary's lines and its JSON form. */
  result(lines: readonly string[], summary: Record<string, unknown>): void;
  /** The run broke (the message is printed as the CLI's error line too). */
  fail(message: string): void;
  stop(): void;
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

const rate = (r: number | null) => (r === null ? '-' : r < 10 ? r.toFixed(1) : String(Math.round(r)));
const count = (o: { emitted: number; total: number | null }) =>
  o.total === null
    ? `${o.emitted}`
    : `${o.emitted}/${o.total} (${o.total === 0 ? 100 : Math.floor((Math.min(o.emitted, o.total) * 100) / o.total)}%)`;

/** Without a terminal: a line per phase transition, per non-transient note and per tenth of each output. */
export function plainRenderer(
  out: Writer,
  options: { now?: () => number; unknownTotalEveryMs?: number } = {},
): ProgressRenderer {
  const now = options.now ?? Date.now;
  const every = options.unknownTotalEveryMs ?? 30_000;
  const lastUnknown = new Map<string, number>();
  const line = (text: string) => out.write(`${text}\n`);
  return {
    show(events) {
      for (const e of events) {
        if (e.type === 'phase')
          line(
            e.state === 'entered'
              ? `  → ${e.phase} ${e.gate}`
              : `  ${e.state === 'left' ? '✓' : '✗'} ${e.phase} ${e.gate} ${e.state === 'left' ? 'done' : 'FAILED'} in ${(e.seconds ?? 0).toFixed(1)} s`,
          );
        else if (e.type === 'note') {
          if (!e.transient) line(`      ${e.message}`);
        } else {
          // A new tenth, a failure; unknown totals have no tenths: a line at most every `every` ms (the end is a tenth).
          const due = e.total === null && now() - (lastUnknown.get(e.output_id) ?? -Infinity) >= every;
          if (e.decile === undefined && e.status !== 'failed' && !due) continue;
          if (e.total === null) lastUnknown.set(e.output_id, now());
          const tail =
            e.status === 'done'
              ? 'done'
              : e.status === 'failed'
                ? 'FAILED'
                : `ETA ${e.eta_s === null ? '-' : duration(e.eta_s)}`;
          line(`      streamed ${e.output_id}: ${count(e)}, ${rate(e.rate_per_s)} events/s, ${tail}`);
        }
      }
    },
    log: line,
    result(lines) {
      for (const l of lines) line(l);
    },
    fail() {},
    stop() {},
  };
}

/** `--quiet`: the result's lines only (errors go to stderr as always). */
export function quietRenderer(out: Writer): ProgressRenderer {
  return {
    show() {},
    log() {},
    result(lines) {
      for (const l of lines) out.write(`${l}\n`);
    },
    fail() {},
    stop() {},
  };
}

/** `--json`: one JSON object per line on `out` (phase, output, result); human text to `err`. */
export function jsonRenderer(out: Writer, err: Writer): ProgressRenderer {
  const emit = (o: Record<string, unknown>) =>
    out.write(`${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`);
  const time = (ms: number) => new Date(ms).toISOString();
  const round = (n: number | null, digits: number) => (n === null ? null : Number(n.toFixed(digits)));
  return {
    show(events) {
      for (const e of events) {
        if (e.type === 'phase')
          emit({
            type: 'phase',
            phase: e.phase,
            gate: e.gate,
            state: e.state,
            time: time(e.at),
            ...(e.seconds === undefined ? {} : { seconds: round(e.seconds, 3) }),
          });
        else if (e.type === 'output')
          emit({
            type: 'output',
            output_id: e.output_id,
            emitted: e.emitted,
            total: e.total,
            status: e.status,
            rate_per_s: round(e.rate_per_s, 2),
            eta_s: round(e.eta_s, 1),
            time: time(e.at),
          });
        else err.write(`      ${e.message}\n`);
      }
    },
    log: (line) => err.write(`${line}\n`),
    result(_lines, summary) {
      emit({ type: 'result', ...summary });
    },
    fail(message) {
      emit({ type: 'result', status: 'ERROR', error: message });
    },
    stop() {},
  };
}

export interface TtyStream extends Writer {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The live frame: a line per phase reached and one per streamed output (count, bar, rate, ETA). */
export function frameLines(
  snapshot: { phases: readonly PhaseView[]; outputs: readonly OutputView[] },
  now: number,
  size: { columns: number; rows: number },
): string[] {
  const spin = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? '-';
  const phaseLine = (p: PhaseView) => {
    const mark = p.state === 'active' ? spin : p.state === 'done' ? '✓' : '✗';
    const seconds = ((p.endedAt ?? now) - p.startedAt) / 1000;
    return `${mark} ${`${p.phase} ${p.gate}`.padEnd(28)} ${duration(seconds).padStart(10)}${p.note ? `  ${p.note}` : ''}`;
  };
  const width = Math.max(10, ...snapshot.outputs.map((o) => o.output_id.length));
  const outputLine = (o: OutputView) => {
    const share = o.total === null ? null : o.total === 0 ? 1 : Math.min(1, o.emitted / o.total);
    // No total: no bar (blank, so that the columns stay aligned).
    const bar = share === null ? ' '.repeat(21) : `${'█'.repeat(Math.round(share * 20)).padEnd(20, '░')} `;
    const left =
      o.status === 'done'
        ? 'done'
        : o.status === 'failed'
          ? 'FAILED'
          : o.eta_s === null
            ? 'ETA -'
            : `ETA ${duration(Math.max(0, o.eta_s - (now - o.updatedAt) / 1000))}`;
    return `    ${o.output_id.padEnd(width)} ${bar}${count(o).padStart(18)}  ${rate(o.rate_per_s).padStart(7)} events/s  ${left}`;
  };
  const outputs = snapshot.outputs.map(outputLine);
  let phases = snapshot.phases.map(phaseLine);
  // Too tall for the terminal: the phases done fold into one line.
  if (phases.length + outputs.length > size.rows - 1) {
    const done = snapshot.phases.filter((p) => p.state === 'done');
    const first = done[0];
    const last = done[done.length - 1];
    if (first && last && done.length > 1) {
      const seconds = done.reduce((s, p) => s + ((p.endedAt ?? now) - p.startedAt) / 1000, 0);
      phases = [
        `${`✓ ${first.phase}–${last.phase} done`.padEnd(30)} ${duration(seconds).padStart(10)}`,
        ...snapshot.phases.filter((p) => p.state !== 'done').map(phaseLine),
      ];
    }
  }
  const streaming = snapshot.phases.findIndex((p) => p.phase === 'P7');
  const lines = [...phases];
  // The outputs under the phase that streams them (P7), else at the end.
  const where = streaming < 0 || phases.length !== snapshot.phases.length ? lines.length : streaming + 1;
  lines.splice(where, 0, ...outputs);
  return lines.map((l) =>
    l.length > size.columns - 1 ? `${l.slice(0, Math.max(0, size.columns - 2))}…` : l,
  );
}

/** On a terminal: log-update redraws the frame in place; text lines and the result are written above it. */
export function ttyRenderer(
  model: ProgressModel,
  stream: TtyStream,
  options: { now?: () => number; tickMs?: number } = {},
): ProgressRenderer {
  const now = options.now ?? Date.now;
  const live = createLogUpdate(stream as NodeJS.WritableStream);
  let stopped = false;
  const render = () => {
    if (stopped) return;
    const snapshot = model.snapshot();
    if (snapshot.phases.length === 0 && snapshot.outputs.length === 0) return;
    // A terminal that tells no size (0) is taken as 80 × 24.
    const size = { columns: stream.columns || 80, rows: stream.rows || 24 };
    live(frameLines(snapshot, now(), size).join('\n'));
  };
  const tick = options.tickMs ?? 250;
  const timer = tick > 0 ? setInterval(render, tick) : undefined;
  timer?.unref();
  const stop = () => {
    if (stopped) return;
    render();
    stopped = true;
    if (timer) clearInterval(timer);
    live.done();
  };
  return {
    show: render,
    log: (line) => (stopped ? stream.write(`${line}\n`) : live.persist(line)),
    result(lines) {
      stop();
      for (const l of lines) stream.write(`${l}\n`);
    },
    fail: stop,
    stop,
  };
}

export function createRenderer(
  mode: ProgressMode,
  model: ProgressModel,
  streams: { stdout: TtyStream; stderr: Writer },
): ProgressRenderer {
  switch (mode) {
    case 'tty':
      return ttyRenderer(model, streams.stdout);
    case 'json':
      return jsonRenderer(streams.stdout, streams.stderr);
    case 'quiet':
      return quietRenderer(streams.stdout);
    default:
      return plainRenderer(streams.stdout);
  }
}
