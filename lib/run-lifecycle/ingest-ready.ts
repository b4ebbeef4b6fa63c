import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

/**
 * P4 INGEST_READY: the Ingestion Gate's auth contract holds (GET /v1/ops/health answers 401 without a key and
 * 200 with the producer's key) and the gate is not RED.
 */

export const IngestReadyRequest = z.object({ platform_run_id: PlatformRunId });

export interface IngestPorts {
  /** GET of an IG path with or without the API key. */
  get(path: string, withKey: boolean): Promise<{ status: number; body: unknown }>;
  evidence: PhaseEvidenceStore;
}

export async function ingestReady(request: unknown, ports: IngestPorts) {
  const { platform_run_id } = IngestReadyRequest.parse(request);
  const problems: string[] = [];
  const anonymous = await ports.get('/v1/ops/health', false);
  if (anonymous.status !== 401) problems.push(`health without a key answered ${anonymous.status}, not 401`);
  const keyed = await ports.get('/v1/ops/health', true);
  const state = (keyed.body as { state?: string } | null)?.state;
  if (keyed.status !== 200) problems.push(`health with the key answered ${keyed.status}, not 200`);
  else if (state !== 'GREEN' && state !== 'AMBER')
    problems.push(
      `the gate is ${state ?? 'unknown'}: ${JSON.stringify((keyed.body as { reasons?: unknown }).reasons ?? [])}`,
    );
  const written = await writePhaseEvidence(ports.evidence, platform_run_id, 'P4_INGEST_READY', {
    phase: 'P4',
    gate: 'INGEST_READY',
    platform_run_id,
    status: problems.length === 0 ? 'PASS' : 'FAIL',
    problems,
    without_key: anonymous.status,
    with_key: keyed.status,
  });
  return {
    ready: problems.length === 0 && !written.conflict,
    summary:
      problems.length === 0 ? `ingestion gate ${state}; 401 without key, 200 with` : problems.join('; '),
    ig_state: state ?? null,
    evidence_ref: written.ref,
  };
}
