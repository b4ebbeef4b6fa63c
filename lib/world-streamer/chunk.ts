import { PlatformError } from '../errors/platform-error.ts';
import { chunkWindow, tsUtcOfMicros, withinWindow } from './alignment.ts';
import { checkpointKeyOf, resumePoint } from './checkpoint.ts';
import { type Carry, type ChunkDeps, streamRows } from './chunk-rows.ts';
import { streamStartLine } from './progress.ts';
import { outputChunksPerSegment } from './segments.ts';
import type { WorldStreamerSettings } from './settings.ts';
import { ChunkInput, ChunkResult } from './stream-contracts.ts';

export type { ChunkDeps } from './chunk-rows.ts';

/**
 * One chunk of one output (control-ingress.md §4.4–§4.7): read up to `chunkRows` rows from the checkpoint, build
 * each envelope, pace by event time, honour the per-output cap, push with retry, then advance the checkpoint over
 * the acknowledged prefix only (chunk-rows.ts). A crash mid-chunk therefore re-sends at most this chunk, which IG
 * dedupes. Aligned (alignment.ts), a chunk stops before the first row at or after its window's end: that row is
 * never pushed in this round. A chunk also counts the chunks its output has run in the segment (segments.ts).
 */

/**
 * Runs one chunk; the state machine loops on CONTINUE, waits `wait_seconds` on WAIT, ends the output's round on
 * WINDOW_END (or once `segment_full`), and the output on DONE / FAILED.
 */
export async function runChunk(
  deps: ChunkDeps,
  rawInput: unknown,
  deployed: WorldStreamerSettings,
): Promise<ChunkResult> {
  const input = ChunkInput.parse(rawInput);
  const { plan, state } = input;
  const run = plan.stream_settings ?? {};
  const settings: WorldStreamerSettings = {
    ...deployed,
    ...(run.max_events_per_output === undefined ? {} : { maxEventsPerOutput: run.max_events_per_output }),
    ...(run.speedup === undefined ? {} : { speedup: run.speedup }),
  };
  const output = plan.outputs.find((o) => o.output_id === input.output_id);
  if (!output)
    throw new PlatformError('OUTPUT_NOT_IN_PLAN', `output ${input.output_id} is not in the stream plan`);
  const outputId = output.output_id;
  const key = checkpointKeyOf(plan, outputId);
  const resume = resumePoint(await deps.checkpoints.load(key), plan.session_id);
  const startMs = deps.clock.now().getTime();
  const deadlineMs = startMs + settings.chunkBudgetMs;
  const cap = settings.maxEventsPerOutput;
  const progress = { emitted: state.progress_emitted, atMs: state.progress_at_ms ?? startMs };
  const names = { runId: plan.engine_run_id, outputId };
  if (state.progress_at_ms === undefined && !resume.sameSession) {
    deps.log.info(streamStartLine({ ...names, maxEvents: cap, speedup: settings.speedup }));
  }
  const window = chunkWindow(outputId, input.peers, plan.align_window_seconds ?? 0);
  const segmentChunks =
    input.segment === undefined
      ? undefined
      : (state.segment === input.segment ? (state.segment_chunks ?? 0) : 0) + 1;
  const share = outputChunksPerSegment(
    plan.chunks_per_segment ?? deployed.chunksPerSegment,
    plan.outputs.length,
  );
  const result = (
    fields: Partial<ChunkResult> & Pick<ChunkResult, 'status' | 'reason'>,
    carry: Carry = {},
  ): ChunkResult => {
    const open = fields.status !== 'DONE' && fields.status !== 'FAILED';
    return ChunkResult.parse({
      output_id: outputId,
      emitted: resume.sessionEmitted,
      pushed: 0,
      next_row: resume.nextRow,
      ...fields,
      frontier_ts_utc: open ? (fields.frontier_ts_utc ?? null) : null,
      ...(window.kind === 'until' && open ? { window_end_ts_utc: tsUtcOfMicros(window.endMicros) } : {}),
      segment_full: open && segmentChunks !== undefined && segmentChunks >= share,
      state: {
        progress_emitted: progress.emitted,
        progress_at_ms: progress.atMs,
        ...(carry.dueAtMs === undefined ? {} : { due_at_ms: carry.dueAtMs }),
        ...(open && carry.ahead ? { ahead: carry.ahead } : {}),
        ...(segmentChunks === undefined ? {} : { segment: input.segment, segment_chunks: segmentChunks }),
      },
    });
  };
  if (cap > 0 && resume.sessionEmitted >= cap) return result({ status: 'DONE', reason: 'max_events' });
  // The row at the checkpoint is known (the last chunk stopped at it) and lies past the window: nothing to read.
  const known = state.ahead?.row === resume.nextRow ? state.ahead : undefined;
  if (known && !withinWindow(window, known.ts_utc)) {
    return result(
      { status: 'WINDOW_END', reason: null, frontier_ts_utc: known.ts_utc },
      { dueAtMs: state.due_at_ms, ahead: known },
    );
  }
  return streamRows(deps, { plan, state, output, settings, window, resume, deadlineMs, progress, result });
}
