import { z } from 'zod';
import { PlatformRunId } from '../contracts/platform-run.ts';
import { RequestInvalid } from '../errors/platform-error.ts';
import { type PhaseEvidenceStore, writePhaseEvidence } from './phase-evidence.ts';

export type { PhaseEvidenceStore } from './phase-evidence.ts';

/**
 * P3 ORACLE_READY: the run's world is sealed, checked and sorted. The gate reads the oracle-pipeline's output
 * (the nested execution's Output), requires the check OK and a committed, non-empty view for every output,
 * and records one write-once evidence object for the run.
 */

export const OracleReadyRequest = z.object({
  platform_run_id: PlatformRunId,
  oracle: z.object({
    engine_run_prefix: z.string().min(1),
    engine_run_root: z.string().min(1),
    oracle_pack_id: z.string().regex(/^[0-9a-f]{64}$/),
    check: z.string(),
    views: z.array(
      z.object({
        output_id: z.string(),
        stream_view_id: z.string(),
        decision: z.enum(['run', 'skip']),
        rows: z.number().int().min(0),
        parts: z.number().int().min(0),
        min_ts_utc: z.string().nullish(),
        max_ts_utc: z.string().nullish(),
      }),
    ),
  }),
});
export type OracleReadyRequest = z.infer<typeof OracleReadyRequest>;

export class OracleReadyRequestInvalid extends RequestInvalid<'ORACLE_READY_INPUT_INVALID'> {
  constructor(detail: string) {
    super('ORACLE_READY_INPUT_INVALID', detail);
  }
}

export interface OracleReadyResult {
  ready: boolean;
  summary: string;
  oracle_pack_id: string;
  engine_run_root: string;
  evidence_ref: string;
}

export async function oracleReady(request: unknown, store: PhaseEvidenceStore): Promise<OracleReadyResult> {
  const parsed = OracleReadyRequest.safeParse(request);
  if (!parsed.success)
    throw new OracleReadyRequestInvalid(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  const { platform_run_id, oracle } = parsed.data;
  const problems: string[] = [];
  if (oracle.check !== 'OK') problems.push(`oracle check ${oracle.check}`);
  if (oracle.views.length === 0) problems.push('no stream views');
  for (const v of oracle.views) if (v.rows === 0 || v.parts === 0) problems.push(`${v.output_id} is empty`);
  const ready = problems.length === 0;
  const record = {
    phase: 'P3',
    gate: 'ORACLE_READY',
    platform_run_id,
    status: ready ? 'PASS' : 'FAIL',
    problems,
    oracle_pack_id: oracle.oracle_pack_id,
    engine_run_root: oracle.engine_run_root,
    stream_views: oracle.views.map((v) => ({
      output_id: v.output_id,
      stream_view_id: v.stream_view_id,
      rows: v.rows,
      parts: v.parts,
      min_ts_utc: v.min_ts_utc ?? null,
      max_ts_utc: v.max_ts_utc ?? null,
    })),
  };
  const written = await writePhaseEvidence(store, platform_run_id, 'P3_ORACLE_READY', record);
  if (written.conflict) problems.push(`evidence ${written.ref} already holds a different record`);
  return {
    ready: ready && !written.conflict,
    summary: problems.length === 0 ? `${oracle.views.length} stream views ready` : problems.join('; '),
    oracle_pack_id: oracle.oracle_pack_id,
    engine_run_root: oracle.engine_run_root,
    evidence_ref: written.ref,
  };
}
