import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * P2 DAEMONS_READY: every consumer the run needs has its event-source mappings enabled, and the active run
 * is this run (consumers scope themselves to the active run: READY of another run is SKIPPED_OUT_OF_SCOPE).
 */

export const DaemonsReadyRequest = z.object({ platform_run_id: PlatformRunId });

export interface DaemonsPorts {
  /** The mappings of a function (Lambda ListEventSourceMappings): their source and state. */
  mappingsOf(functionName: string): Promise<Array<{ source: string; state: string }>>;
  activeRun(): Promise<string | undefined>;
  evidence: PhaseEvidenceStore;
}

export interface DaemonsReadyResult {
  ready: boolean;
  summary: string;
  evidence_ref: string;
}

export async function daemonsReady(
  request: unknown,
  requiredFunctions: readonly string[],
  ports: DaemonsPorts,
): Promise<DaemonsReadyResult> {
  const { platform_run_id } = DaemonsReadyRequest.parse(request);
  const problems: string[] = [];
  const consumers = [];
  for (const fn of requiredFunctions) {
    const mappings = await ports.mappingsOf(fn);
    if (mappings.length === 0) problems.push(`${fn} has no event-source mapping`);
    for (const m of mappings)
      if (m.state !== 'Enabled') problems.push(`${fn} mapping on ${m.source} is ${m.state}`);
    consumers.push({ function: fn, mappings });
  }
  const active = await ports.activeRun();
  if (active !== platform_run_id)
    problems.push(`the active run is ${active ?? 'none'}, not ${platform_run_id}`);
  const written = await writePhaseEvidence(ports.evidence, platform_run_id, 'P2_DAEMONS_READY', {
    phase: 'P2',
    gate: 'DAEMONS_READY',
    platform_run_id,
    status: problems.length === 0 ? 'PASS' : 'FAIL',
    problems,
    consumers,
    active_run: active ?? null,
  });
  if (written.conflict) problems.push(`evidence ${written.ref} already holds a different record`);
  return {
    ready: problems.length === 0,
    summary:
      problems.length === 0
        ? `${consumers.length} consumer(s) enabled for the active run`
        : problems.join('; '),
    evidence_ref: written.ref,
  };
}
