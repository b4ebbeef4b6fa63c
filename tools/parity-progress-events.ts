import { setTimeout as sleep } from 'node:timers/promises';
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';
import { watchExecution } from '../local/lifecycle-runner.ts';
import { progressLine } from './oracle-pipeline-runner.ts';
import type { OutputStatus, ProgressEvent, ProgressModel } from './parity-progress.ts';

/** `npm run parity`'s progress (parity-progress.ts): what the run-lifecycle execution and its nested executions tell the model. */

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
