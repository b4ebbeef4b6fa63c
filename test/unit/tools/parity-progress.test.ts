import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { ProgressModel } from '../../../tools/parity-progress.ts';
import {
  lifecycleEvent,
  oracleEvent,
  segmentCounts,
  streamRunEvent,
  watchSegment,
} from '../../../tools/parity-progress-events.ts';

/** `npm run parity`'s progress: the model, its four renderers and the flags that choose them. */

import { outputEvents, phaseEvents, phasesUpTo, T0 } from './parity-progress-support.ts';

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
