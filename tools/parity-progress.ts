import { setTimeout as sleep } from 'node:timers/promises';
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { createLogUpdate } from 'log-update';
import { LIFECYCLE_PHASES } from '../lib/contracts/run-report.ts';
import { watchExecution } from '../local/lifecycle-runner.ts';
import { progressLine } from './oracle-pipeline-runner.ts';

/**
 * `npm run parity`'s progress: a model fed with what the run-lifecycle execution and its nested executions tell (a
 * phase entered or left, each streamed output's count), which answers what changed; and the renderers of the modes:
 * a live frame on a terminal (log-update: one line per phase and per output, with the rate and ETA), plain lines
 * without one (a line per phase transition and per 10% of each output), JSON lines (`--json`) and nothing but the
 * result (`--quiet`).
 */

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/** --json, else --quiet, else live on a terminal unless --no-progress, CI or TERM=dumb ask for plain lines. */
export function progressMode(
  flags: { json?: boolean; quiet?: boolean; 'no-progress'?: boolean },
  isTTY: boolean | undefined,
  env: Record<string, string | undefined>,
): ProgressMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  const ci = env.CI;
  const inCi = ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
  if (flags['no-progress'] || inCi || env.TERM === 'dumb' || !isTTY) return 'plain';
  return 'tty';
}

export type PhaseState = 'entered' | 'left' | 'failed';
export type OutputStatus = 'streaming' | 'done' | 'failed';

export type ProgressEvent =
  | { type: 'phase'; phase: string; gate: string; state: PhaseState; at: number; seconds?: number }
  | {
      type: 'output';
      output_id: string;
      emitted: number;
      /** Events the output will stream: min(max events per output, its rows); null when not known. */
      total: number | null;
      status: OutputStatus;
      rate_per_s: number | null;
      eta_s: number | null;
      at: number;
      /** Set when the output reached a new tenth of its total (1–10): each tenth once, the highest one reached. */
      decile?: number;
    }
  /** A line about a phase's work; transient ones (a sorted window) are only worth a live frame. */
  | { type: 'note'; phase: string | undefined; message: string; transient: boolean; at: number };

export interface PhaseView {
  phase: string;
  gate: string;
  state: 'active' | 'done' | 'failed';
  startedAt: number;
  endedAt: number | undefined;
  note: string | undefined;
}

export interface OutputView {
  output_id: string;
  emitted: number;
  total: number | null;
  status: OutputStatus;
  /** Where its rate is counted from: the stream's start (0 events), else its first count. */
  since: { at: number; emitted: number };
  updatedAt: number;
  rate_per_s: number | null;
  eta_s: number | null;
  decile: number;
}

const FAILURE_STATE = /(GateFailed|Errored|NotCaughtUp|WorldMissing)$/;

/** The progress model: pure, fed with times in epoch ms; every method answers the events to show. */
export class ProgressModel {
  private readonly phases = new Map<string, PhaseView>();
  private active: PhaseView | undefined;
  private readonly outputs = new Map<string, OutputView>();
  private readonly rows = new Map<string, number>();
  private streamStart: number | undefined;

  /** maxEventsPerOutput: the run's cap (0 = every event). */
  constructor(private readonly maxEventsPerOutput: number) {}

  /** A run-lifecycle state was entered (`P<n>…`): a phase transition when it is of a phase not reached yet. */
  state(name: string, at: number): ProgressEvent[] {
    const phase = /^(P\d+)[A-Z]/.exec(name)?.[1];
    if (!phase) return [];
    const events: ProgressEvent[] = [];
    const known = this.phases.get(phase);
    if (!known) {
      if (this.active?.state === 'active') events.push(this.leave(this.active, 'left', at));
      const view: PhaseView = {
        phase,
        gate: LIFECYCLE_PHASES[phase] ?? phase,
        state: 'active',
        startedAt: at,
        endedAt: undefined,
        note: undefined,
      };
      this.phases.set(phase, view);
      this.active = view;
      events.push({ type: 'phase', phase, gate: view.gate, state: 'entered', at });
    }
    const current = this.phases.get(phase);
    if (current?.state === 'active' && FAILURE_STATE.test(name))
      events.push(this.leave(current, 'failed', at));
    return events;
  }

  /** The execution ended: the phase still active is left (or failed). */
  finish(at: number, succeeded: boolean): ProgressEvent[] {
    if (this.active?.state !== 'active') return [];
    return [this.leave(this.active, succeeded ? 'left' : 'failed', at)];
  }

  /** A line about a phase's work: the given phase's (the oracle's lines are P3's, even when late), else the active one's. */
  note(message: string, at: number, o: { phase?: string; transient?: boolean } = {}): ProgressEvent[] {
    const view = (o.phase === undefined ? undefined : this.phases.get(o.phase)) ?? this.active;
    if (view) view.note = message;
    return [{ type: 'note', phase: view?.phase ?? o.phase, message, transient: o.transient ?? false, at }];
  }

  /** Rows per output (the oracle's stream views): each output's total is min(cap, rows). */
  plan(views: readonly { output_id: string; rows: number }[], at: number): ProgressEvent[] {
    const events: ProgressEvent[] = [];
    for (const v of views) {
      this.rows.set(v.output_id, v.rows);
      const o = this.outputs.get(v.output_id);
      if (o && o.status === 'streaming' && o.total === null) {
        o.total = this.totalOf(v.output_id);
        events.push(
          ...this.outputs_([{ output_id: o.output_id, emitted: o.emitted, status: 'streaming' }], at, true),
        );
      }
    }
    return events;
  }

  /** The stream began (the stream-run execution started): rates count from here. */
  streamStarted(at: number): void {
    this.streamStart ??= at;
  }

  /** Each output's count so far (a stream segment's end). */
  counts(
    rows: readonly { output_id: string; emitted: number; status: OutputStatus }[],
    at: number,
  ): ProgressEvent[] {
    return this.outputs_(rows, at, false);
  }

  snapshot(): { phases: PhaseView[]; outputs: OutputView[] } {
    return { phases: [...this.phases.values()], outputs: [...this.outputs.values()] };
  }

  private outputs_(
    rows: readonly { output_id: string; emitted: number; status: OutputStatus }[],
    at: number,
    force: boolean,
  ): ProgressEvent[] {
    const events: ProgressEvent[] = [];
    for (const r of rows) {
      let o = this.outputs.get(r.output_id);
      if (!o) {
        o = {
          output_id: r.output_id,
          emitted: 0,
          total: this.totalOf(r.output_id),
          status: 'streaming',
          since:
            this.streamStart !== undefined && this.streamStart < at
              ? { at: this.streamStart, emitted: 0 }
              : { at, emitted: r.emitted },
          updatedAt: at,
          rate_per_s: null,
          eta_s: null,
          decile: 0,
        };
        this.outputs.set(r.output_id, o);
        force = true;
      }
      if (!force && r.emitted === o.emitted && r.status === o.status) continue;
      // An older view of a streaming output (a segment's chunk seen after a later one) changes nothing.
      if (!force && r.status === 'streaming' && o.status === 'streaming' && r.emitted < o.emitted) continue;
      o.emitted = r.emitted;
      o.status = r.status;
      o.updatedAt = at;
      // A DONE output streamed all it will: its total is what it emitted (a view shorter than the cap, say).
      if (r.status === 'done') o.total = r.emitted;
      const seconds = (at - o.since.at) / 1000;
      const rate = seconds > 0 ? (r.emitted - o.since.emitted) / seconds : null;
      o.rate_per_s = rate !== null && rate > 0 ? rate : o.rate_per_s;
      o.eta_s =
        r.status === 'done'
          ? 0
          : r.status === 'streaming' && o.total !== null && o.rate_per_s !== null
            ? Math.max(0, o.total - r.emitted) / o.rate_per_s
            : null;
      const event: Extract<ProgressEvent, { type: 'output' }> = {
        type: 'output',
        output_id: o.output_id,
        emitted: o.emitted,
        total: o.total,
        status: o.status,
        rate_per_s: o.rate_per_s,
        eta_s: o.eta_s,
        at,
      };
      const decile =
        o.total === null ? 0 : o.total === 0 ? 10 : Math.floor((Math.min(o.emitted, o.total) * 10) / o.total);
      if (decile > o.decile) {
        o.decile = decile;
        event.decile = decile;
      }
      events.push(event);
    }
    return events;
  }

  private totalOf(outputId: string): number | null {
    const rows = this.rows.get(outputId);
    if (rows === undefined) return null;
    return this.maxEventsPerOutput === 0 ? rows : Math.min(this.maxEventsPerOutput, rows);
  }

  private leave(view: PhaseView, state: 'left' | 'failed', at: number): ProgressEvent {
    view.state = state === 'left' ? 'done' : 'failed';
    view.endedAt = at;
    if (this.active === view) this.active = undefined;
    return {
      type: 'phase',
      phase: view.phase,
      gate: view.gate,
      state,
      at,
      seconds: (at - view.startedAt) / 1000,
    };
  }
}

// ——— What the executions' histories tell the model ———

const at = (e: HistoryEvent) => e.timestamp?.getTime() ?? Date.now();
const exitOutput = (e: HistoryEvent, name: string): unknown => {
  const x = e.stateExitedEventDetails;
  if (x?.name !== name || !x.output) return undefined;
  try {
    return JSON.parse(x.output);
  } catch {
    return undefined;
  }
};
const views = (v: unknown) =>
  (Array.isArray(v) ? v : []).filter(
    (r): r is { output_id: string; rows: number } =>
      typeof r?.output_id === 'string' && typeof r?.rows === 'number',
  );

/** A run-lifecycle event: a state entered; P3's exit carries the oracle's views, so each output's rows. */
export function lifecycleEvent(model: ProgressModel, e: HistoryEvent): ProgressEvent[] {
  const entered = e.type?.endsWith('StateEntered') ? e.stateEnteredEventDetails?.name : undefined;
  if (entered) return model.state(entered, at(e));
  const p3 = exitOutput(e, 'P3OracleReady') as { oracle?: { oracle?: { views?: unknown } } } | undefined;
  return p3 ? model.plan(views(p3.oracle?.oracle?.views), at(e)) : [];
}

/** An oracle-pipeline event: its progress line as a note (a window's is transient); a view's rows when finalized. */
export function oracleEvent(
  model: ProgressModel,
  e: HistoryEvent,
  sorted: Map<string, number>,
): ProgressEvent[] {
  const line = progressLine(e, sorted);
  if (!line) return [];
  const name = e.stateExitedEventDetails?.name ?? '';
  const events = model.note(line, at(e), {
    phase: 'P3',
    transient: name === 'SortWindow' || name === 'WindowStats',
  });
  const view = exitOutput(e, 'Finalize');
  return view ? [...events, ...model.plan(views([view]), at(e))] : events;
}

const outputStatus = (status: unknown): OutputStatus =>
  status === 'DONE' ? 'done' : status === 'FAILED' ? 'failed' : 'streaming';
type Count = { output_id: string; emitted: number; status: OutputStatus };
const chunkCounts = (results: unknown): Count[] =>
  (Array.isArray(results) ? results : []).flatMap(
    (r: { output_id?: unknown; emitted?: unknown; status?: unknown }) =>
      typeof r?.output_id === 'string'
        ? [
            {
              output_id: r.output_id,
              emitted: typeof r.emitted === 'number' ? r.emitted : 0,
              status: outputStatus(r.status),
            },
          ]
        : [],
  );

/** A stream-run event: its start; a segment's end, each output's count so far. */
export function streamRunEvent(model: ProgressModel, e: HistoryEvent): ProgressEvent[] {
  if (e.type === 'ExecutionStarted') {
    model.streamStarted(at(e));
    return [];
  }
  const segment = exitOutput(e, 'Segment') as { progress?: { outputs?: unknown } } | undefined;
  return segment ? model.counts(chunkCounts(segment.progress?.outputs), at(e)) : [];
}

/**
 * The newest count of each output in a running segment (a stream-output execution), from its newest events first: a
 * round's end (every output's last ChunkResult) or a chunk's (one output's).
 */
export function segmentCounts(newestFirst: readonly HistoryEvent[]): Count[] {
  const newest = new Map<string, Count>();
  for (const e of newestFirst) {
    const round = exitOutput(e, 'Round') as { outputs?: unknown } | undefined;
    const chunk = exitOutput(e, 'Chunk') as { last?: unknown } | undefined;
    const counts = round ? chunkCounts(round.outputs) : chunk ? chunkCounts([chunk.last]) : [];
    for (const c of counts) if (!newest.has(c.output_id)) newest.set(c.output_id, c);
  }
  return [...newest.values()];
}

/**
 * Polls a running segment's newest events (a page, not its whole history, which grows to thousands of events) until
 * it ends or stop(); progress only, so a failed poll is tried again, never thrown.
 */
export function watchSegment(
  sfn: Pick<SFNClient, 'send'>,
  executionArn: string,
  onCounts: (counts: Count[], at: number) => void,
  everyMs = 2000,
): { done: Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const page = await sfn.send(
          new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 100 }),
        );
        const events = page.events ?? [];
        const newest = events[0];
        if (newest) onCounts(segmentCounts(events), at(newest));
        if (newest?.type?.startsWith('Execution') && newest.type !== 'ExecutionStarted') return;
      } catch {
        // Not there yet, or the local cloud busy: the next poll.
      }
      await sleep(everyMs);
    }
  })();
  return {
    /** Settles when the segment has ended (or stop()). */
    done: loop,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Follows the stream-run execution (its segments' ends) and each segment it starts (their rounds and chunks). */
export function watchStream(
  sfn: SFNClient,
  executionArn: string,
  model: ProgressModel,
  show: (events: ProgressEvent[]) => void,
): { stop(): Promise<void> } {
  const segments: { stop(): Promise<void> }[] = [];
  const run = watchExecution(sfn, executionArn, (e) => {
    show(streamRunEvent(model, e));
    // A Segment task started its stream-output execution (startExecution.sync answers its ARN).
    const submitted = e.type === 'TaskSubmitted' ? e.taskSubmittedEventDetails?.output : undefined;
    const arn = submitted ? /"ExecutionArn":"([^"]+)"/.exec(submitted)?.[1] : undefined;
    if (arn) segments.push(watchSegment(sfn, arn, (counts, t) => show(model.counts(counts, t))));
  });
  return {
    async stop() {
      await run.stop();
      await Promise.all(segments.map((s) => s.stop()));
    },
  };
}

// ——— Renderers ———

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
