import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  duration,
  frameLines,
  jsonRenderer,
  lifecycleEvent,
  oracleEvent,
  type ProgressEvent,
  ProgressModel,
  plainRenderer,
  progressMode,
  quietRenderer,
  segmentCounts,
  streamRunEvent,
  ttyRenderer,
  watchSegment,
} from '../../../tools/parity-progress.ts';
import { runScript } from '../../support/cli.ts';

/** `npm run parity`'s progress: the model, its four renderers and the flags that choose them. */

const T0 = Date.parse('2026-12-07T12:00:00Z');
const outputEvents = (events: ProgressEvent[]) =>
  events.filter((e): e is Extract<ProgressEvent, { type: 'output' }> => e.type === 'output');
const phaseEvents = (events: ProgressEvent[]) =>
  events.filter((e): e is Extract<ProgressEvent, { type: 'phase' }> => e.type === 'phase');

function writer() {
  const chunks: string[] = [];
  return {
    chunks,
    write(text: string) {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').slice(0, -1),
  };
}

/** Feeds the lifecycle's states P0…P<last> (entered, one second apart, a gate each) and answers the events. */
function phasesUpTo(model: ProgressModel, last: number): ProgressEvent[] {
  const events: ProgressEvent[] = [];
  for (let p = 0; p <= last; p++) {
    events.push(...model.state(`P${p}Work`, T0 + p * 1000));
    events.push(...model.state(`P${p}Gate`, T0 + p * 1000 + 500));
  }
  return events;
}

describe('progress model: phases', () => {
  it('answers one phase event per transition: each phase entered once, left when the next one is entered', () => {
    const model = new ProgressModel(200);
    const events = phasesUpTo(model, 3);
    // A later state of a phase already reached (P8's check loop, say) is no transition.
    events.push(...model.state('P3Work', T0 + 3600), ...model.state('Done', T0 + 3700));
    events.push(...model.finish(T0 + 4000, true));
    expect(phaseEvents(events).map((e) => `${e.phase} ${e.state}`)).toEqual([
      'P0 entered',
      'P0 left',
      'P1 entered',
      'P1 left',
      'P2 entered',
      'P2 left',
      'P3 entered',
      'P3 left',
    ]);
    const p1Left = phaseEvents(events).find((e) => e.phase === 'P1' && e.state === 'left');
    expect(p1Left?.seconds).toBe(1);
    expect(p1Left?.gate).toBe('RUN_PINNED');
    expect(model.finish(T0 + 5000, true)).toEqual([]);
  });

  it('a failure state fails its phase once; the end of a failed execution adds nothing', () => {
    const model = new ProgressModel(200);
    phasesUpTo(model, 6);
    const entered = model.state('P7IngestCommitted', T0 + 7000);
    const failed = model.state('P7GateFailed', T0 + 9500);
    expect(phaseEvents(entered).map((e) => `${e.phase} ${e.state}`)).toEqual(['P6 left', 'P7 entered']);
    expect(failed).toEqual([
      { type: 'phase', phase: 'P7', gate: 'INGEST_COMMITTED', state: 'failed', at: T0 + 9500, seconds: 2.5 },
    ]);
    expect(model.finish(T0 + 9600, false)).toEqual([]);
    expect(model.snapshot().phases.at(-1)?.state).toBe('failed');
  });

  it('an execution that ends while a phase runs fails that phase when it did not succeed', () => {
    const model = new ProgressModel(200);
    phasesUpTo(model, 2);
    expect(phaseEvents(model.finish(T0 + 4000, false)).map((e) => `${e.phase} ${e.state}`)).toEqual([
      'P2 failed',
    ]);
  });

  it('a note belongs to the phase named, else to the active one', () => {
    const model = new ProgressModel(200);
    phasesUpTo(model, 4);
    expect(model.note('late oracle line', T0, { phase: 'P3', transient: true })).toEqual([
      { type: 'note', phase: 'P3', message: 'late oracle line', transient: true, at: T0 },
    ]);
    expect(model.note('scenario run: READY', T0)[0]).toMatchObject({ phase: 'P4', transient: false });
    const notes = Object.fromEntries(model.snapshot().phases.map((p) => [p.phase, p.note]));
    expect(notes).toMatchObject({ P3: 'late oracle line', P4: 'scenario run: READY', P2: undefined });
  });
});

describe('progress model: outputs', () => {
  it('a total is min(max events per output, rows); 0 = every row', () => {
    const capped = new ProgressModel(200);
    capped.plan(
      [
        { output_id: 'big', rows: 16_506 },
        { output_id: 'small', rows: 120 },
      ],
      T0,
    );
    const a = outputEvents(
      capped.counts(
        [
          { output_id: 'big', emitted: 10, status: 'streaming' },
          { output_id: 'small', emitted: 10, status: 'streaming' },
        ],
        T0,
      ),
    );
    expect(a.map((e) => e.total)).toEqual([200, 120]);
    const every = new ProgressModel(0);
    every.plan([{ output_id: 'big', rows: 16_506 }], T0);
    expect(
      outputEvents(every.counts([{ output_id: 'big', emitted: 1, status: 'streaming' }], T0))[0]?.total,
    ).toBe(16_506);
  });

  it('answers each tenth of an output exactly once, and nothing for a count that did not change', () => {
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 5000 }], T0);
    model.streamStarted(T0);
    const deciles: number[] = [];
    let answered = 0;
    for (let emitted = 0; emitted <= 200; emitted += 5)
      for (const repeat of [0, 1]) {
        const events = outputEvents(
          model.counts(
            [{ output_id: 'a', emitted, status: emitted === 200 ? 'done' : 'streaming' }],
            T0 + 1000 + emitted * 10 + repeat,
          ),
        );
        answered += events.length;
        for (const e of events) if (e.decile !== undefined) deciles.push(e.decile);
      }
    expect(deciles).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(answered).toBe(41); // one per new count (0, 5, …, 200), none for the repeats
  });

  it('a jump over several tenths answers the highest reached, and never a tenth again', () => {
    const model = new ProgressModel(100);
    model.plan([{ output_id: 'a', rows: 1000 }], T0);
    const at = (emitted: number, i: number) =>
      outputEvents(model.counts([{ output_id: 'a', emitted, status: 'streaming' }], T0 + i * 1000))[0]
        ?.decile;
    expect([at(35, 1), at(39, 2), at(40, 3), at(99, 4), at(100, 5)]).toEqual([3, undefined, 4, 9, 10]);
  });

  it('the rate counts from the stream start, the ETA is what is left at that rate', () => {
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 16_506 }], T0);
    model.streamStarted(T0);
    const first = outputEvents(
      model.counts([{ output_id: 'a', emitted: 50, status: 'streaming' }], T0 + 10_000),
    )[0];
    expect(first?.rate_per_s).toBe(5);
    expect(first?.eta_s).toBe(30); // 150 left at 5/s
    const second = outputEvents(
      model.counts([{ output_id: 'a', emitted: 150, status: 'streaming' }], T0 + 20_000),
    )[0];
    expect(second?.rate_per_s).toBe(7.5);
    expect(second?.eta_s).toBeCloseTo(50 / 7.5, 6);
    const done = outputEvents(
      model.counts([{ output_id: 'a', emitted: 200, status: 'done' }], T0 + 25_000),
    )[0];
    expect(done).toMatchObject({ status: 'done', eta_s: 0, total: 200, decile: 10 });
  });

  it('without the stream start the rate counts from the first count (none yet on the first)', () => {
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 1000 }], T0);
    const first = outputEvents(model.counts([{ output_id: 'a', emitted: 40, status: 'streaming' }], T0))[0];
    expect(first).toMatchObject({ rate_per_s: null, eta_s: null, decile: 2 });
    const next = outputEvents(
      model.counts([{ output_id: 'a', emitted: 80, status: 'streaming' }], T0 + 4000),
    )[0];
    expect(next).toMatchObject({ rate_per_s: 10, eta_s: 12 });
  });

  it('an unknown total shows counts and rate, no ETA and no tenths, until the output is done', () => {
    const model = new ProgressModel(200);
    model.streamStarted(T0);
    const mid = outputEvents(
      model.counts([{ output_id: 'x', emitted: 30, status: 'streaming' }], T0 + 3000),
    )[0];
    expect(mid).toMatchObject({ total: null, rate_per_s: 10, eta_s: null });
    expect(mid?.decile).toBeUndefined();
    const done = outputEvents(model.counts([{ output_id: 'x', emitted: 45, status: 'done' }], T0 + 4500))[0];
    expect(done).toMatchObject({ total: 45, eta_s: 0, decile: 10 });
  });

  it('an older count of a streaming output (seen after a newer one) changes nothing; a status change does', () => {
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 1000 }], T0);
    model.counts([{ output_id: 'a', emitted: 120, status: 'streaming' }], T0 + 1000);
    expect(model.counts([{ output_id: 'a', emitted: 80, status: 'streaming' }], T0 + 2000)).toEqual([]);
    expect(model.snapshot().outputs[0]?.emitted).toBe(120);
    expect(
      outputEvents(model.counts([{ output_id: 'a', emitted: 80, status: 'failed' }], T0 + 3000)),
    ).toHaveLength(1);
  });

  it('a total learnt after the first counts is answered at once; a failed output has no ETA', () => {
    const model = new ProgressModel(200);
    model.streamStarted(T0);
    model.counts([{ output_id: 'x', emitted: 20, status: 'streaming' }], T0 + 2000);
    const learnt = outputEvents(model.plan([{ output_id: 'x', rows: 100 }], T0 + 2000))[0];
    expect(learnt).toMatchObject({ total: 100, eta_s: 8, decile: 2 });
    const failed = outputEvents(
      model.counts([{ output_id: 'x', emitted: 25, status: 'failed' }], T0 + 2500),
    )[0];
    expect(failed).toMatchObject({ status: 'failed', eta_s: null });
  });
});

describe('progress from the executions’ history events', () => {
  const exited = (name: string, output: unknown, at = T0): HistoryEvent => ({
    id: 1,
    type: 'TaskStateExited',
    timestamp: new Date(at),
    stateExitedEventDetails: { name, output: JSON.stringify(output) },
  });

  it('the run lifecycle: states entered are phases, P3OracleReady’s exit gives each output’s rows', () => {
    const model = new ProgressModel(200);
    const entered = lifecycleEvent(model, {
      id: 2,
      type: 'TaskStateEntered',
      timestamp: new Date(T0),
      stateEnteredEventDetails: { name: 'P3OracleReady' },
    });
    expect(phaseEvents(entered).map((e) => `${e.phase} ${e.state}`)).toEqual(['P3 entered']);
    const views = [
      { output_id: 'arrival_events_5B', decision: 'skip', rows: 16_506 },
      { output_id: 's3_event_stream_with_fraud_6B', decision: 'run', rows: 150 },
    ];
    expect(lifecycleEvent(model, exited('P3OracleReady', { oracle: { oracle: { views } } }))).toEqual([]);
    const counts = outputEvents(
      model.counts(
        views.map((v) => ({ output_id: v.output_id, emitted: 1, status: 'streaming' as const })),
        T0,
      ),
    );
    expect(counts.map((e) => e.total)).toEqual([200, 150]);
  });

  it('the stream run: its start sets the rate’s origin; a Segment’s exit gives each output’s count and status', () => {
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 400 }], T0);
    expect(streamRunEvent(model, { id: 1, type: 'ExecutionStarted', timestamp: new Date(T0) })).toEqual([]);
    const events = streamRunEvent(
      model,
      exited(
        'Segment',
        {
          progress: {
            segment: 1,
            streaming: true,
            outputs: [
              { output_id: 'a', emitted: 100, status: 'WINDOW_END' },
              { output_id: 'b', emitted: 7, status: 'DONE' },
              { emitted: 3 },
            ],
          },
        },
        T0 + 20_000,
      ),
    );
    expect(
      outputEvents(events).map((e) => [e.output_id, e.emitted, e.total, e.status, e.rate_per_s]),
    ).toEqual([
      ['a', 100, 200, 'streaming', 5],
      ['b', 7, 7, 'done', 0.35],
    ]);
    expect(streamRunEvent(model, exited('Segment', 'not json{'))).toEqual([]);
  });

  it('a running segment: the newest count of each output, from a round’s end or a chunk’s', () => {
    const chunk = (output_id: string, emitted: number, status = 'CONTINUE') =>
      exited('Chunk', { plan: {}, segment: 0, last: { output_id, emitted, status } });
    const round = exited('Round', {
      outputs: [
        { output_id: 'a', emitted: 40, status: 'WINDOW_END' },
        { output_id: 'b', emitted: 30, status: 'WINDOW_END' },
        { output_id: 'c', emitted: 9, status: 'DONE' },
      ],
    });
    // Newest first: a's chunk is newer than the round; b's older chunk is not its newest count.
    const newestFirst: HistoryEvent[] = [
      {
        id: 9,
        type: 'ChoiceStateEntered',
        timestamp: new Date(T0),
        stateEnteredEventDetails: { name: 'ChunkOutcome' },
      },
      chunk('a', 55),
      round,
      chunk('b', 20),
    ];
    expect(segmentCounts(newestFirst)).toEqual([
      { output_id: 'a', emitted: 55, status: 'streaming' },
      { output_id: 'b', emitted: 30, status: 'streaming' },
      { output_id: 'c', emitted: 9, status: 'done' },
    ]);
    expect(segmentCounts([])).toEqual([]);
  });

  it('a segment watcher polls the newest events only, survives a failed poll and ends with its execution', async () => {
    const pages: (HistoryEvent[] | Error)[] = [
      new Error('ExecutionDoesNotExist'),
      [exited('Chunk', { last: { output_id: 'a', emitted: 10, status: 'CONTINUE' } }, T0 + 1000)],
      [
        { id: 99, type: 'ExecutionSucceeded', timestamp: new Date(T0 + 3000) },
        exited('Round', { outputs: [{ output_id: 'a', emitted: 25, status: 'DONE' }] }, T0 + 2000),
      ],
    ];
    const requests: unknown[] = [];
    const sfn = {
      send: async (command: { input: unknown }) => {
        requests.push(command.input);
        const page = pages.shift();
        if (!page) throw new Error('polled after the execution ended');
        if (page instanceof Error) throw page;
        return { events: page };
      },
    };
    const seen: [string, number][] = [];
    const w = watchSegment(
      sfn as never,
      'arn:seg-0',
      (counts, t) => {
        for (const c of counts) seen.push([`${c.output_id} ${c.emitted} ${c.status}`, t]);
      },
      0,
    );
    await w.done; // on its own: the newest event is the execution's end
    expect(seen).toEqual([
      ['a 10 streaming', T0 + 1000],
      ['a 25 done', T0 + 3000],
    ]);
    expect(pages).toHaveLength(0);
    expect(requests[0]).toEqual({ executionArn: 'arn:seg-0', reverseOrder: true, maxResults: 100 });
  });

  it('the oracle pipeline: its lines are P3 notes (a window’s transient); Finalize gives the rows', () => {
    const model = new ProgressModel(0);
    model.state('P3OracleReady', T0);
    const sorted = new Map<string, number>();
    const window = oracleEvent(
      model,
      exited('SortWindow', { output_id: 'a', window: 0, windows: 2, rows: 10 }),
      sorted,
    );
    expect(window).toEqual([
      { type: 'note', phase: 'P3', message: 'a: window 0 sorted, 10 rows (1/2)', transient: true, at: T0 },
    ]);
    const finalize = oracleEvent(
      model,
      exited('Finalize', { output_id: 'a', stream_view_id: 'v', decision: 'run', rows: 321, parts: 1 }),
      sorted,
    );
    expect(finalize).toMatchObject([{ type: 'note', transient: false }]);
    expect(
      outputEvents(model.counts([{ output_id: 'a', emitted: 1, status: 'streaming' }], T0))[0]?.total,
    ).toBe(321);
  });
});

/** A run's worth of events, batch by batch (lazily: the model moves as they are taken): P0–P7, two outputs streamed
 * in four segments (one of unknown total), the execution's end. */
function* aRun(model: ProgressModel): Generator<ProgressEvent[]> {
  yield phasesUpTo(model, 6);
  model.plan([{ output_id: 'known', rows: 1000 }], T0);
  yield model.note('a sorted window', T0 + 3100, { phase: 'P3', transient: true });
  yield model.note('scenario run r: READY', T0 + 5100);
  yield model.state('P7IngestCommitted', T0 + 7000);
  model.streamStarted(T0 + 7000);
  for (const [i, known, unknown] of [
    [1, 50, 10],
    [2, 110, 25],
    [3, 190, 40],
    [4, 200, 55],
  ] as const)
    yield model.counts(
      [
        { output_id: 'known', emitted: known, status: known === 200 ? 'done' : 'streaming' },
        { output_id: 'unknown', emitted: unknown, status: i === 4 ? 'done' : 'streaming' },
      ],
      T0 + 7000 + i * 10_000,
    );
  yield model.finish(T0 + 50_000, true);
}

describe('the JSON renderer (--json)', () => {
  it('prints one JSON object per line on stdout — phase, output, then result last; text goes to stderr', () => {
    const out = writer();
    const err = writer();
    const r = jsonRenderer(out, err);
    r.log('[1/4] local cloud');
    for (const batch of aRun(new ProgressModel(200))) r.show(batch);
    r.result(['  human line'], { status: 'SUCCEEDED', seed: 42n, evidence_dir: '/tmp/evidence' });
    r.stop();
    const parsed = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(new Set(parsed.map((p) => p.type))).toEqual(new Set(['phase', 'output', 'result']));
    expect(parsed.filter((p) => p.type === 'phase')).toHaveLength(16); // P0–P7 entered and left
    expect(parsed[0]).toEqual({
      type: 'phase',
      phase: 'P0',
      gate: 'SUBSTRATE_READY',
      state: 'entered',
      time: '2026-12-07T12:00:00.000Z',
    });
    const outputs = parsed.filter((p) => p.type === 'output');
    expect(outputs[0]).toEqual({
      type: 'output',
      output_id: 'known',
      emitted: 50,
      total: 200,
      status: 'streaming',
      rate_per_s: 5,
      eta_s: 30,
      time: '2026-12-07T12:00:17.000Z',
    });
    expect(outputs.find((o) => o.output_id === 'unknown')).toMatchObject({ total: null, eta_s: null });
    expect(parsed.at(-1)).toEqual({
      type: 'result',
      status: 'SUCCEEDED',
      seed: '42',
      evidence_dir: '/tmp/evidence',
    });
    expect(out.text()).not.toContain('human line');
    expect(err.lines()).toEqual([
      '[1/4] local cloud',
      '      a sorted window',
      '      scenario run r: READY',
    ]);
  });

  it('a run that broke ends with a result line of status ERROR', () => {
    const out = writer();
    const r = jsonRenderer(out, writer());
    r.fail('no local cloud state in /x');
    expect(out.lines().map((l) => JSON.parse(l))).toEqual([
      { type: 'result', status: 'ERROR', error: 'no local cloud state in /x' },
    ]);
  });
});

describe('the plain renderer (no terminal, CI, --no-progress)', () => {
  it('prints a line per phase transition, per tenth of each output and per non-transient note', () => {
    const out = writer();
    let now = T0;
    const r = plainRenderer(out, { now: () => now, unknownTotalEveryMs: 30_000 });
    r.log('[3/4] run-lifecycle');
    for (const batch of aRun(new ProgressModel(200))) {
      now += 10_000;
      r.show(batch);
    }
    r.result(['  result line'], {});
    const lines = out.lines();
    expect(lines[0]).toBe('[3/4] run-lifecycle');
    expect(lines.filter((l) => l.startsWith('  → '))).toHaveLength(8);
    expect(lines.filter((l) => /^ {2}✓ P\d+ /.test(l))).toHaveLength(8);
    expect(lines).toContain('  → P7 INGEST_COMMITTED');
    expect(lines).toContain('  ✓ P1 RUN_PINNED done in 1.0 s');
    expect(lines).toContain('      scenario run r: READY');
    expect(lines.join('\n')).not.toContain('a sorted window');
    const known = lines.filter((l) => l.includes('streamed known:'));
    // 50/200 → 2nd tenth, 110 → 5th, 190 → 9th, 200 done → 10th: each a line once.
    expect(known).toEqual([
      '      streamed known: 50/200 (25%), 5.0 events/s, ETA 30 s',
      '      streamed known: 110/200 (55%), 5.5 events/s, ETA 16 s',
      '      streamed known: 190/200 (95%), 6.3 events/s, ETA 2 s',
      '      streamed known: 200/200 (100%), 5.0 events/s, done',
    ]);
    // Unknown total: the first count, then at most every 30 s of the clock (here every 10 s), and the end.
    expect(lines.filter((l) => l.includes('streamed unknown:'))).toEqual([
      '      streamed unknown: 10, 1.0 events/s, ETA -',
      '      streamed unknown: 55/55 (100%), 1.4 events/s, done',
    ]);
    expect(lines.at(-1)).toBe('  result line');
  });

  it('a failed phase and a failed output are a line each', () => {
    const out = writer();
    const r = plainRenderer(out, { now: () => T0 });
    const model = new ProgressModel(200);
    model.plan([{ output_id: 'a', rows: 1000 }], T0);
    r.show(model.state('P7IngestCommitted', T0));
    r.show(model.counts([{ output_id: 'a', emitted: 3, status: 'failed' }], T0 + 1000));
    r.show(model.state('P7GateFailed', T0 + 2000));
    expect(out.lines()).toEqual([
      '  → P7 INGEST_COMMITTED',
      '      streamed a: 3/200 (1%), - events/s, FAILED',
      '  ✗ P7 INGEST_COMMITTED FAILED in 2.0 s',
    ]);
  });
});

describe('the quiet renderer (--quiet)', () => {
  it('prints the result lines and nothing else', () => {
    const out = writer();
    const r = quietRenderer(out);
    r.log('[1/4] local cloud');
    for (const batch of aRun(new ProgressModel(200))) r.show(batch);
    r.result(['  run-lifecycle SUCCEEDED', '    execution and history: /x'], { status: 'SUCCEEDED' });
    expect(out.lines()).toEqual(['  run-lifecycle SUCCEEDED', '    execution and history: /x']);
  });
});

/**
 * What a terminal shows after `text`: the few escapes log-update writes (cursor up/down/to column 1, erase line or its
 * end; the rest, synchronized output and cursor visibility, change nothing on screen) applied to rows of text.
 */
function screenOf(text: string): string[] {
  const rows = [''];
  let y = 0;
  let x = 0;
  const put = (s: string) => {
    const row = rows[y] ?? '';
    rows[y] = row.slice(0, x).padEnd(x) + s + row.slice(x + s.length);
    x += s.length;
  };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escapes are the point
  for (const [token, arg, command] of text.matchAll(/\u001B\[([0-9;?]*)([A-Za-z])|\n|[^\u001B\n]+/g)) {
    const n = arg ? Number(arg) : 1;
    if (token === '\n') {
      y += 1;
      x = 0;
    } else if (command === undefined) put(token);
    else if (command === 'A') y = Math.max(0, y - n);
    else if (command === 'B') y += n;
    else if (command === 'G') x = 0;
    else if (command === 'K') rows[y] = arg === '2' ? '' : (rows[y] ?? '').slice(0, x);
    while (rows.length <= y) rows.push('');
  }
  return rows;
}

describe('the TTY renderer (log-update)', () => {
  function fakeTty(columns: number, rows = 40) {
    const w = writer();
    return { ...w, isTTY: true as const, columns, rows };
  }

  it('draws a live line per phase and per output (count, bar, rate, ETA), redrawn in place under the text', () => {
    const stream = fakeTty(100);
    let now = T0;
    const model = new ProgressModel(200);
    const r = ttyRenderer(model, stream, { now: () => now, tickMs: 0 });
    r.log('[3/4] run-lifecycle');
    let shown = 0;
    for (const batch of aRun(model)) {
      now += 5000;
      r.show(batch);
      if (++shown === 6) break; // up to the second segment's counts
    }
    now = T0 + 37_000;
    r.show([]);
    const frame = frameLines(model.snapshot(), now, { columns: 100, rows: 40 });
    expect(frame).toHaveLength(8 + 2);
    expect(frame[0]).toMatch(/^✓ P0 SUBSTRATE_READY\s+1 s$/);
    expect(frame[3]).toMatch(/^✓ P3 ORACLE_READY\s+1 s {2}a sorted window$/);
    expect(frame[7]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] P7 INGEST_COMMITTED\s+30 s$/);
    // Under P7: 110 of 200 at 5.5/s at the last count, 10 s ago: 16 s left then, 6 s now.
    expect(frame[8]).toBe(
      '    known      ███████████░░░░░░░░░      110/200 (55%)      5.5 events/s  ETA 6 s',
    );
    // No total known: the count and the rate, no bar, no ETA.
    expect(frame[9]).toBe(`    unknown${' '.repeat(41)}25      1.3 events/s  ETA -`);
    // …its columns aligned with the others'.
    expect(frame[9]?.indexOf('25 ')).toBe((frame[8]?.indexOf('(55%)') ?? 0) + 5 - 2);
    expect(frame[9]?.indexOf('events/s')).toBe(frame[8]?.indexOf('events/s'));
    // The screen: the text, then the frame once — every redraw overwrote the previous frame.
    expect(screenOf(stream.text())).toEqual(['[3/4] run-lifecycle', ...frame, '']);
    expect(stream.chunks.length).toBeGreaterThan(3);
  });

  it('cuts lines to the terminal’s width and folds the phases done when the frame is taller than the terminal', () => {
    const model = new ProgressModel(200);
    for (const _ of aRun(model));
    const narrow = frameLines(model.snapshot(), T0 + 60_000, { columns: 40, rows: 40 });
    expect(narrow).toHaveLength(10);
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(39);
    expect(narrow.some((l) => l.endsWith('…'))).toBe(true);
    const short = frameLines(model.snapshot(), T0 + 60_000, { columns: 100, rows: 6 });
    expect(short[0]).toMatch(/^✓ P0–P7 done\s+50 s$/);
    expect(short).toHaveLength(3); // the folded phases and the two outputs
  });

  it('the last frame stays on screen, the result under it; later text is plain lines', () => {
    const stream = fakeTty(100);
    const model = new ProgressModel(200);
    const r = ttyRenderer(model, stream, { now: () => T0 + 50_000, tickMs: 0 });
    r.log('[3/4] run-lifecycle');
    for (const batch of aRun(model)) r.show(batch);
    r.result(['  run-lifecycle SUCCEEDED', '    execution and history: /x'], {});
    r.log('after');
    r.stop();
    const frame = frameLines(model.snapshot(), T0 + 50_000, { columns: 100, rows: 40 });
    expect(frame[7]).toMatch(/^✓ P7 INGEST_COMMITTED\s+43 s$/);
    expect(frame[8]).toMatch(/^ {4}known .*200\/200 \(100%\) +5\.0 events\/s {2}done$/);
    expect(screenOf(stream.text())).toEqual([
      '[3/4] run-lifecycle',
      ...frame,
      '  run-lifecycle SUCCEEDED',
      '    execution and history: /x',
      'after',
      '',
    ]);
  });

  it('a ticking renderer redraws on its own (the active phase’s time runs)', async () => {
    const stream = fakeTty(100);
    const model = new ProgressModel(200);
    let now = T0;
    const r = ttyRenderer(model, stream, { now: () => now, tickMs: 5 });
    r.show(model.state('P0SubstrateReady', T0));
    expect(screenOf(stream.text())[0]).toMatch(/P0 SUBSTRATE_READY\s+0 s$/);
    now = T0 + 3000;
    await expect
      .poll(() => screenOf(stream.text())[0], { timeout: 5000 })
      .toMatch(/P0 SUBSTRATE_READY\s+3 s$/);
    r.stop();
  });
});

describe('choosing the mode', () => {
  it('--json, else --quiet, else live on a terminal; plain for --no-progress, CI, TERM=dumb or no terminal', () => {
    expect(progressMode({ json: true }, true, {})).toBe('json');
    expect(progressMode({ json: true }, false, { CI: 'true' })).toBe('json');
    expect(progressMode({ quiet: true }, true, {})).toBe('quiet');
    expect(progressMode({}, true, {})).toBe('tty');
    expect(progressMode({}, true, { CI: 'false' })).toBe('tty');
    expect(progressMode({}, true, { CI: 'true' })).toBe('plain');
    expect(progressMode({}, true, { CI: '1' })).toBe('plain');
    expect(progressMode({}, true, { TERM: 'dumb' })).toBe('plain');
    expect(progressMode({ 'no-progress': true }, true, {})).toBe('plain');
    expect(progressMode({}, false, {})).toBe('plain');
    expect(progressMode({}, undefined, {})).toBe('plain');
  });

  it('formats durations for people', () => {
    expect([duration(0.4), duration(59.6), duration(65), duration(3599), duration(7260)]).toEqual([
      '0 s',
      '1 min 00 s',
      '1 min 05 s',
      '59 min 59 s',
      '2 h 01 min',
    ]);
  });
});

// Each case starts tsx in a child process: seconds on a loaded machine. No local cloud: --no-stack-up on an empty dir.
describe('npm run parity: --json and --quiet', { timeout: 60_000 }, () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-progress-'));
  const env = { LOCAL_CLOUD_DIR: empty, CI: 'true' };

  it('--help names --quiet, --json and --no-progress', async () => {
    const r = await runScript('tools/parity.ts', ['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--quiet', '--json', '--no-progress']) expect(r.stdout).toContain(flag);
  });

  it('--json --quiet is a usage error, one line, exit 2', async () => {
    const r = await runScript('tools/parity.ts', ['--json', '--quiet'], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--json and --quiet do not go together');
    expect(r.stdout).toBe('');
  });

  it('--json: stdout holds only JSON lines, the last a result; the human text is on stderr', async () => {
    const r = await runScript('tools/parity.ts', ['--json', '--no-stack-up'], env);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.at(-1)).toMatchObject({ type: 'result', status: 'ERROR' });
    expect(String(parsed.at(-1)?.error)).toContain(`no local cloud state in ${empty}`);
    expect(r.stderr).toContain('[1/4] local cloud');
  });

  it('--quiet: nothing on stdout before the result; the error on stderr', async () => {
    const r = await runScript('tools/parity.ts', ['--quiet', '--no-stack-up'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      `parity: no local cloud state in ${empty}; run without --no-stack-up or npm run stack:up first`,
    );
  });

  it('without either (and CI set): plain lines on stdout', async () => {
    const r = await runScript('tools/parity.ts', ['--no-stack-up'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'parity: a whole run (P0 to P12) on the embedded local cloud\n[1/4] local cloud\n',
    );
  });
});
