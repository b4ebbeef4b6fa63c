import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * P12 DONE (issue 15): the run is closed. `stop` marks the run record STOPPED and, when it is the active run, clears
 * the active run — every consumer's run scope is the active run, so from then on the run's records are run-scope
 * mismatches on every mapping (counted, never applied): the run's mappings are scoped off without touching the
 * mappings other runs share. It also takes a count of every table that holds the run's rows. `check`, after the
 * lifecycle's settle wait, counts again: any row written to the run's scope since `stop` fails the gate
 * (RUN_SCOPE_STILL_WRITTEN, naming the tables); otherwise it writes `<run>/lifecycle/P12_DONE.json`.
 */

export interface RunCloseRegistry {
  /** Marks the run STOPPED (once; `stopped_at_utc` kept from the first stop) and clears it as the active run. */
  stopRun(
    platformRunId: string,
    at: Date,
  ): Promise<{ status: string; was_active: boolean; stopped_at_utc: string }>;
}

export interface RunClosePorts {
  registry: RunCloseRegistry;
  /** Rows the run has in each run-scoped table (by table name). */
  runScopeRows(platformRunId: string): Promise<Record<string, number>>;
  evidence: PhaseEvidenceStore;
  now(): Date;
}

export const RunCloseRequest = z.discriminatedUnion('action', [
  z.object({ action: z.literal('stop'), platform_run_id: PlatformRunId }),
  z.object({
    action: z.literal('check'),
    platform_run_id: PlatformRunId,
    rows_at_stop: z.record(z.string(), z.number().int().min(0)),
    stopped_at_utc: z.string().min(1),
  }),
]);

/** The tables whose count of the run's rows grew, as `table:+n`. */
export function rowsWrittenSince(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.keys({ ...before, ...after })
    .sort()
    .filter((t) => (after[t] ?? 0) !== (before[t] ?? 0))
    .map(
      (t) =>
        `${t}:${(after[t] ?? 0) - (before[t] ?? 0) >= 0 ? '+' : ''}${(after[t] ?? 0) - (before[t] ?? 0)}`,
    );
}

type StopRequest = Extract<z.infer<typeof RunCloseRequest>, { action: 'stop' }>;
type CheckRequest = Extract<z.infer<typeof RunCloseRequest>, { action: 'check' }>;

export async function stopRun(req: StopRequest, ports: RunClosePorts) {
  const run = req.platform_run_id;
  const stopped = await ports.registry.stopRun(run, ports.now());
  const rows = await ports.runScopeRows(run);
  return { platform_run_id: run, ...stopped, rows_at_stop: rows };
}

export async function closeRun(request: unknown, ports: RunClosePorts) {
  const req = RunCloseRequest.parse(request);
  return req.action === 'stop' ? stopRun(req, ports) : checkRunClosed(req, ports);
}

export async function checkRunClosed(req: CheckRequest, ports: RunClosePorts) {
  const run = req.platform_run_id;
  const rows = await ports.runScopeRows(run);
  const written = rowsWrittenSince(req.rows_at_stop, rows);
  const done = written.length === 0;
  const evidence = await writePhaseEvidence(ports.evidence, run, 'P12_DONE', {
    phase: 'P12',
    gate: 'DONE',
    platform_run_id: run,
    status: done ? 'PASS' : 'FAIL',
    run_record: 'STOPPED',
    stopped_at_utc: req.stopped_at_utc,
    rows_at_stop: req.rows_at_stop,
    rows_after_settle: rows,
    written_after_stop: written,
  });
  return {
    platform_run_id: run,
    done: done && !evidence.conflict,
    written_after_stop: written,
    rows,
    summary: done
      ? `run STOPPED, scoped off every mapping; nothing written to its scope after the stop (${Object.keys(rows).length} tables checked)`
      : `RUN_SCOPE_STILL_WRITTEN: ${written.join(', ')}`,
    evidence_ref: evidence.ref,
  };
}
