import type { ProgressEvent, ProgressModel } from '../../../tools/parity-progress.ts';

export const T0 = Date.parse('2026-12-07T12:00:00Z');
export const outputEvents = (events: ProgressEvent[]) =>
  events.filter((e): e is Extract<ProgressEvent, { type: 'output' }> => e.type === 'output');
export const phaseEvents = (events: ProgressEvent[]) =>
  events.filter((e): e is Extract<ProgressEvent, { type: 'phase' }> => e.type === 'phase');

export function writer() {
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
export function phasesUpTo(model: ProgressModel, last: number): ProgressEvent[] {
  const events: ProgressEvent[] = [];
  for (let p = 0; p <= last; p++) {
    events.push(...model.state(`P${p}Work`, T0 + p * 1000));
    events.push(...model.state(`P${p}Gate`, T0 + p * 1000 + 500));
  }
  return events;
}

/** A run's worth of events, batch by batch (lazily: the model moves as they are taken): P0–P7, two outputs streamed
 * in four segments (one of unknown total), the execution's end. */
export function* aRun(model: ProgressModel): Generator<ProgressEvent[]> {
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
