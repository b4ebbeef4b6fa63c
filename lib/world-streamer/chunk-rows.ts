import { z } from 'zod';
import { type CanonicalEnvelope, EventTimeMissing, engineEnvelope } from '../contracts/envelope.ts';
import { laneOf, PrimaryKeyMissing } from '../contracts/identity.ts';
import { type ChunkWindow, withinWindow } from './alignment.ts';
import { advancedCheckpoint, checkpointKeyOf, type ResumePoint } from './checkpoint.ts';
import { pacingDelayMs, pacingStep, waitSeconds } from './pacing.ts';
import type {
  CheckpointStore,
  Clock,
  IngestionGateClient,
  RandomSource,
  Sleeper,
  StreamLog,
  StreamViewReader,
} from './ports.ts';
import {
  progressDue,
  progressLine,
  streamCompleteLine,
  streamFailedLine,
  streamStopLine,
} from './progress.ts';
import { pushBatchWithRetry, pushWithRetry } from './push.ts';
import type { CheckpointReason, StreamReasonCode } from './reason-codes.ts';
import type { WorldStreamerSettings } from './settings.ts';
import { type ChunkLoopState, type ChunkResult, type StreamPlan, StreamViewRow } from './stream-contracts.ts';

/**
 * The rows of one chunk (control-ingress.md §4.4–§4.7), once chunk.ts has decided it reads any: read from the
 * checkpoint, build each envelope, stop at the window's end (alignment.ts), pace by event time, honour the cap, push
 * with retry, then advance the checkpoint over the acknowledged prefix only.
 */

export interface ChunkDeps {
  checkpoints: CheckpointStore;
  views: StreamViewReader;
  ig: IngestionGateClient;
  clock: Clock;
  sleeper: Sleeper;
  random: RandomSource;
  log: StreamLog;
}

interface Slot {
  done: boolean;
  kept: boolean;
  file: string;
  rowIndex: number;
  ts: string | null;
}

interface Failure {
  reason: StreamReasonCode;
  detail?: string;
}

export type Ahead = NonNullable<ChunkLoopState['ahead']>;

/** What a result says beyond the ChunkResult fields: the loop state to carry. */
export interface Carry {
  dueAtMs?: number | undefined;
  ahead?: Ahead | undefined;
}

const seedValue = (seed: string): number | bigint => {
  const exact = BigInt(seed);
  return exact <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(exact) : exact;
};

function envelopeFailure(error: unknown): Failure {
  if (error instanceof PrimaryKeyMissing) return { reason: 'PRIMARY_KEY_MISSING', detail: error.column };
  if (error instanceof EventTimeMissing) return { reason: 'TS_UTC_INVALID', detail: String(error.value) };
  return { reason: 'STREAM_FAILED', detail: error instanceof Error ? error.message : String(error) };
}

function envelopeOf(
  plan: StreamPlan,
  outputId: string,
  primaryKey: string[],
  row: Record<string, unknown>,
): CanonicalEnvelope {
  return engineEnvelope({
    outputId,
    primaryKey,
    row,
    pins: {
      manifest_fingerprint: plan.manifest_fingerprint,
      parameter_hash: plan.parameter_hash,
      seed: seedValue(plan.seed),
      scenario_id: plan.scenario_id,
    },
    runId: plan.engine_run_id,
    platformRunId: plan.platform_run_id,
    scenarioRunId: plan.scenario_run_id,
    packKey: plan.pack_key,
    ...(plan.engine_release === undefined ? {} : { engineRelease: plan.engine_release }),
  });
}

export interface RowsContext {
  plan: StreamPlan;
  state: ChunkLoopState;
  output: StreamPlan['outputs'][number];
  settings: WorldStreamerSettings;
  window: ChunkWindow;
  resume: ResumePoint;
  deadlineMs: number;
  progress: { emitted: number; atMs: number };
  result: (
    fields: Partial<ChunkResult> & Pick<ChunkResult, 'status' | 'reason'>,
    carry?: Carry,
  ) => ChunkResult;
}

/** Reads the chunk's rows from the checkpoint, pushes what it may, advances the checkpoint over what IG took. */
export async function streamRows(deps: ChunkDeps, ctx: RowsContext): Promise<ChunkResult> {
  const { plan, state, output, settings, window, resume, deadlineMs, progress, result } = ctx;
  const outputId = output.output_id;
  const key = checkpointKeyOf(plan, outputId);
  const cap = settings.maxEventsPerOutput;
  const names = { runId: plan.engine_run_id, outputId };
  // A peek only needs the next row's event time.
  const limit = window.kind === 'peek' ? 1 : settings.chunkRows;
  const rows = z
    .array(StreamViewRow)
    .max(limit)
    .parse(
      await deps.views.read({
        engineRunRoot: plan.engine_run_root,
        outputId,
        fromRow: resume.nextRow,
        limit,
      }),
    );

  const slots: Slot[] = [];
  const inflight = new Set<Promise<void>>();
  let failure: Failure | undefined;
  let stop: 'max_events' | 'wait' | 'budget' | 'window' | undefined;
  let dueAtMs: number | undefined;
  let ahead: Ahead | undefined;
  let submitted = resume.sessionEmitted;
  let acked = 0;
  let lastTs = resume.lastTsUtc;
  let firstKept = true;

  // Envelopes wait here until a batch is full, a pacing sleep comes, or the chunk stops (batch size 1: at once).
  let batch: { envelope: CanonicalEnvelope; slot: Slot }[] = [];
  const send = async (items: { envelope: CanonicalEnvelope; slot: Slot }[]) => {
    try {
      const outcome =
        items.length === 1 && settings.pushBatchSize === 1
          ? await pushWithRetry(deps, (items[0] as { envelope: CanonicalEnvelope }).envelope, settings.retry)
          : await pushBatchWithRetry(
              deps,
              items.map((i) => i.envelope),
              settings.retry,
            );
      if (!outcome.ok) {
        failure ??= { reason: outcome.reason, detail: outcome.detail };
        return;
      }
      for (const { slot } of items) slot.done = true;
      acked += items.length;
      const emitted = resume.sessionEmitted + acked;
      const nowMs = deps.clock.now().getTime();
      const last = (items[items.length - 1] as { slot: Slot }).slot;
      if (progressDue(progress, emitted, nowMs, settings)) {
        deps.log.info(
          progressLine({ outputId, emitted, lastFile: last.file, row: last.rowIndex, ts: last.ts }),
        );
        progress.emitted = emitted;
        progress.atMs = nowMs;
      }
    } catch (error) {
      failure ??= { reason: 'STREAM_FAILED', detail: error instanceof Error ? error.message : String(error) };
    }
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    while (inflight.size >= settings.pushConcurrency) await Promise.race(inflight);
    if (failure) return;
    const task = send(items);
    inflight.add(task);
    void task.finally(() => inflight.delete(task));
  };

  for (const [i, viewRow] of rows.entries()) {
    if (failure) break;
    if (i > 0 && deps.clock.now().getTime() >= deadlineMs) {
      stop = 'budget';
      break;
    }
    let envelope: CanonicalEnvelope;
    try {
      envelope = envelopeOf(plan, outputId, output.primary_key, viewRow.row);
    } catch (error) {
      failure = envelopeFailure(error);
      break;
    }
    if (!withinWindow(window, envelope.ts_utc)) {
      stop = 'window';
      ahead = { row: resume.nextRow + i, ts_utc: envelope.ts_utc };
      break;
    }
    const slot: Slot = {
      done: false,
      kept: true,
      file: viewRow.file,
      rowIndex: viewRow.file_row_index,
      ts: envelope.ts_utc,
    };
    if (settings.laneCount > 1 && laneOf(envelope.event_id, settings.laneCount) !== settings.laneIndex) {
      slots.push({ ...slot, done: true, kept: false });
      continue;
    }
    const nowMs = deps.clock.now().getTime();
    const carried = firstKept && state.due_at_ms !== undefined;
    const step = pacingStep({
      delayMs: carried
        ? Math.max(0, (state.due_at_ms ?? 0) - nowMs)
        : pacingDelayMs(lastTs, envelope.ts_utc, settings.speedup),
      nowMs,
      deadlineMs,
      // A wait carried over from the last chunk is already the remainder of one: sleep it unless past the budget.
      waitThresholdMs: carried ? 0 : settings.waitThresholdMs,
    });
    if (step.kind === 'wait') {
      stop = 'wait';
      dueAtMs = step.dueAtMs;
      ahead = { row: resume.nextRow + i, ts_utc: envelope.ts_utc };
      break;
    }
    if (step.kind === 'sleep') {
      await flush();
      await deps.sleeper.sleep(step.ms);
    }
    if (failure) break;
    firstKept = false;
    lastTs = envelope.ts_utc;
    submitted += 1;
    slots.push(slot);
    batch.push({ envelope, slot });
    if (batch.length >= settings.pushBatchSize) await flush();
    if (cap > 0 && submitted >= cap) {
      stop = 'max_events';
      break;
    }
  }
  await flush();
  await Promise.all(inflight);

  // The checkpoint advances over the contiguous prefix of acknowledged (or lane-skipped) rows only.
  let consumed = 0;
  let sessionEmitted = resume.sessionEmitted;
  let last = { file: resume.lastFile, rowIndex: resume.lastRowIndex, ts: resume.lastTsUtc };
  // The event time of the last row consumed, pushed or skipped: no later row is earlier (alignment's frontier).
  let consumedTs = resume.lastTsUtc;
  for (const slot of slots) {
    if (!slot.done) break;
    consumed += 1;
    last = { file: slot.file, rowIndex: slot.rowIndex, ts: slot.kept ? slot.ts : last.ts };
    consumedTs = slot.ts;
    if (slot.kept) sessionEmitted += 1;
  }
  const ended = !failure && stop === undefined && consumed === rows.length && rows.length < limit;
  const reason: CheckpointReason = failure
    ? 'failed_prefix'
    : stop === 'max_events'
      ? 'max_events'
      : ended
        ? 'output_complete'
        : 'chunk';
  if (consumed > 0) {
    const next = advancedCheckpoint(key, plan.session_id, resume, {
      consumed,
      sessionEmitted,
      lastFile: last.file,
      lastRowIndex: last.rowIndex,
      lastTsUtc: last.ts,
      reason,
      at: deps.clock.now(),
    });
    if (!(await deps.checkpoints.save(next, resume.version))) {
      failure = { reason: 'CHECKPOINT_CONFLICT', detail: `${outputId} advanced by another writer` };
    }
  }

  const common = {
    emitted: sessionEmitted,
    pushed: acked,
    next_row: resume.nextRow + consumed,
    frontier_ts_utc: ahead?.ts_utc ?? consumedTs,
  };
  if (failure) {
    deps.log.warn(
      streamFailedLine({
        ...names,
        reason: failure.reason,
        ...(failure.detail ? { detail: failure.detail } : {}),
      }),
    );
    return result({
      ...common,
      status: 'FAILED',
      reason: failure.reason,
      ...(failure.detail === undefined ? {} : { detail: failure.detail.slice(0, 256) }),
    });
  }
  if (stop === 'max_events') {
    deps.log.info(streamStopLine({ ...names, emitted: sessionEmitted }));
    return result({ ...common, status: 'DONE', reason: 'max_events' });
  }
  if (stop === 'wait' && dueAtMs !== undefined) {
    const nowMs = deps.clock.now().getTime();
    return result(
      { ...common, status: 'WAIT', reason: null, wait_seconds: waitSeconds(dueAtMs, nowMs) },
      { dueAtMs, ahead },
    );
  }
  if (stop === 'window') {
    // A wait carried over for the row the window holds back still applies when the row's round comes.
    return result(
      { ...common, status: 'WINDOW_END', reason: null },
      { dueAtMs: firstKept ? state.due_at_ms : undefined, ahead },
    );
  }
  if (ended) {
    deps.log.info(streamCompleteLine({ ...names, emitted: sessionEmitted }));
    return result({ ...common, status: 'DONE', reason: 'output_complete' });
  }
  return result({ ...common, status: 'CONTINUE', reason: null });
}
