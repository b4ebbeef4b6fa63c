import { LIFECYCLE_PHASES } from '../lib/contracts/run-report.ts';

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
