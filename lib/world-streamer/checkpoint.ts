import { checkpointScopeKey } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import type { CheckpointKey } from './ports.ts';
import type { CheckpointReason } from './reason-codes.ts';
import type { WorldStreamerSettings } from './settings.ts';
import { Checkpoint, type StreamPlan } from './stream-contracts.ts';

/**
 * Checkpoints (control-ingress.md §4.6): one cursor per (scope key, output), the scope key hashing pack key,
 * platform run, scenario run, lanes and attempt id, so a new platform or scenario run starts from row 0.
 * A cursor is only ever advanced over rows whose pushes IG acknowledged.
 */

/** §4.6 the stored `pack_key` column for a stream. */
export function checkpointScopeFor(
  packKey: string,
  platformRunId: string,
  scenarioRunId: string,
  settings: Pick<WorldStreamerSettings, 'laneCount' | 'laneIndex' | 'checkpointAttemptId'>,
): string {
  return checkpointScopeKey({
    packKey,
    platformRunId,
    scenarioRunId,
    laneCount: settings.laneCount,
    laneIndex: settings.laneIndex,
    attemptId: settings.checkpointAttemptId,
  });
}

export function checkpointKeyOf(
  plan: Pick<StreamPlan, 'checkpoint_scope_key'>,
  outputId: string,
): CheckpointKey {
  return { scopeKey: plan.checkpoint_scope_key, outputId };
}

export interface ResumePoint {
  nextRow: number;
  /** Whether the stored cursor was saved by this session (then its cap count and pacing carry on). */
  sameSession: boolean;
  sessionEmitted: number;
  /** The last pushed event time of this session: pacing starts afresh in a new session, as a rerun does. */
  lastTsUtc: string | null;
  lastFile: string | null;
  lastRowIndex: number | null;
  version: number;
}

/** Where a session resumes an output: the stored row, with the cap count and pacing only if it is ours. */
export function resumePoint(stored: Checkpoint | undefined, sessionId: string): ResumePoint {
  if (stored === undefined) {
    return {
      nextRow: 0,
      sameSession: false,
      sessionEmitted: 0,
      lastTsUtc: null,
      lastFile: null,
      lastRowIndex: null,
      version: 0,
    };
  }
  const cp = Checkpoint.parse(stored);
  const same = cp.session_id === sessionId;
  return {
    nextRow: cp.next_row,
    sameSession: same,
    sessionEmitted: same ? cp.session_emitted : 0,
    lastTsUtc: same ? cp.last_ts_utc : null,
    lastFile: cp.last_file,
    lastRowIndex: cp.last_row_index,
    version: cp.version,
  };
}

export interface Advance {
  consumed: number;
  sessionEmitted: number;
  lastFile: string | null;
  lastRowIndex: number | null;
  lastTsUtc: string | null;
  reason: CheckpointReason;
  at: Date;
}

/** The cursor after `consumed` more rows of the view were acknowledged (or skipped by lane). */
export function advancedCheckpoint(
  key: CheckpointKey,
  sessionId: string,
  from: ResumePoint,
  advance: Advance,
): Checkpoint {
  return Checkpoint.parse({
    scope_key: key.scopeKey,
    output_id: key.outputId,
    next_row: from.nextRow + advance.consumed,
    last_file: advance.lastFile,
    last_row_index: advance.lastRowIndex,
    last_ts_utc: advance.lastTsUtc,
    session_id: sessionId,
    session_emitted: advance.sessionEmitted,
    reason: advance.reason,
    version: from.version + 1,
    updated_at_utc: pythonIsoformat(advance.at),
  });
}

/**
 * §4.6 resume rule of the reference, for readers that walk files: skip files sorting before `last_file`, and
 * rows up to `last_row_index` within it.
 */
export function isBeforeCursor(
  cursor: Pick<Checkpoint, 'last_file' | 'last_row_index'>,
  file: string,
  rowIndex: number,
): boolean {
  if (cursor.last_file === null || cursor.last_row_index === null) return false;
  if (file < cursor.last_file) return true;
  return file === cursor.last_file && rowIndex <= cursor.last_row_index;
}
