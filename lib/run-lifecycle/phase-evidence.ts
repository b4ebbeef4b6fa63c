import { canonicalJson } from '../contracts/canonical-json.ts';

/** Port: write-once evidence of a phase; `created` false when an object was already there. */
export interface PhaseEvidenceStore {
  writeOnce(key: string, body: string): Promise<{ ref: string; created: boolean; identical: boolean }>;
}

export function phaseEvidenceKey(platformRunId: string, phase: string): string {
  return `${platformRunId}/lifecycle/${phase}.json`;
}

/**
 * Writes a phase's one evidence object (`<platform_run_id>/lifecycle/<phase>.json`, write-once, canonical JSON).
 * Records carry no clock, so a rerun of the same phase writes the same bytes; a different record for the same
 * phase is a conflict the gate reports.
 */
export async function writePhaseEvidence(
  store: PhaseEvidenceStore,
  platformRunId: string,
  phase: string,
  record: Record<string, unknown>,
): Promise<{ ref: string; conflict: boolean }> {
  const written = await store.writeOnce(phaseEvidenceKey(platformRunId, phase), `${canonicalJson(record)}\n`);
  return { ref: written.ref, conflict: !written.created && !written.identical };
}
