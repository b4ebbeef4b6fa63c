import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * The bounded wait of a gate checked in a loop (P9, P10): the state machine calls the check with a Wait between; the
 * first call records when the wait began (`since`); each call counts what it needs. Whole, or out of time, the check
 * writes its phase evidence (PASS or FAIL with what is missing) and answers `done`; before that it answers not done.
 */

export const BoundedWaitRequest = z.object({
  platform_run_id: PlatformRunId,
  since: z.iso.datetime().nullish(),
});

export interface BoundedGate<C> {
  phase: string;
  gate: string;
  /** The evidence object's name (`P9_DECISION_CHAIN_COMMITTED`). */
  evidenceName: string;
  counts(platformRunId: string): Promise<C>;
  /** What is missing, by reason code (empty: the gate passes). */
  missing(counts: C): string[];
  /** The summary line of a passing gate. */
  passed(counts: C, waitedSeconds: number): string;
}

export async function checkBoundedGate<C>(
  request: unknown,
  gate: BoundedGate<C>,
  ports: { evidence: PhaseEvidenceStore; now(): Date },
  timeoutSeconds: number,
) {
  const req = BoundedWaitRequest.parse(request);
  const now = ports.now();
  const since = req.since ?? now.toISOString();
  const waited = Math.round(((now.getTime() - Date.parse(since)) / 1000) * 10) / 10;
  const counts = await gate.counts(req.platform_run_id);
  const missing = gate.missing(counts);
  const committed = missing.length === 0;
  const timedOut = !committed && waited >= timeoutSeconds;
  const base = { platform_run_id: req.platform_run_id, since, waited_seconds: waited, counts };
  if (!committed && !timedOut) return { ...base, done: false, committed: false, missing, summary: '' };
  const written = await writePhaseEvidence(ports.evidence, req.platform_run_id, gate.evidenceName, {
    phase: gate.phase,
    gate: gate.gate,
    platform_run_id: req.platform_run_id,
    status: committed ? 'PASS' : 'FAIL',
    waited_seconds: waited,
    missing,
    counts,
  });
  return {
    ...base,
    done: true,
    committed: committed && !written.conflict,
    missing,
    summary: committed
      ? gate.passed(counts, waited)
      : `waited ${Math.round(waited)} s: ${missing.join('; ')}`,
    evidence_ref: written.ref,
  };
}
