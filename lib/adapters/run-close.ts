import { consumerCheckpointScope } from '../contracts/identity.ts';
import type { RunClosePorts } from '../run-lifecycle/run-closed.ts';
import type { PlatformEnvironment } from '../runtime/config.ts';
import { s3PhaseEvidenceStore } from './phase-evidence-store.ts';
import type { PlatformDependencies } from './platform-dependencies.ts';

/**
 * P12 ports on Postgres: the run record's status and the active run, and how much each component holds in the run's
 * scope — rows keyed by the run, and the sum of each component's counters under its `<base>::<run>` stream id (a
 * record a component skips as another run's is counted under another scope, so nothing here moves once the run is
 * scoped off).
 */

/** [name, SQL of one bigint for $1 = the run, $2 = stream id when the name has a base]. */
const RUN_ROWS: readonly [string, string][] = [
  ['ig_admissions', 'SELECT count(*) FROM ig_admissions WHERE platform_run_id = $1'],
  ['df_decisions', 'SELECT count(*) FROM df_decisions WHERE platform_run_id = $1'],
  ['al_outcomes_append', 'SELECT count(*) FROM al_outcomes_append WHERE platform_run_id = $1'],
  ['dla_intake_attempts', 'SELECT count(*) FROM dla_intake_attempts WHERE platform_run_id = $1'],
];

/** [name, counters table, value column, stream base]. */
const COUNTERS: readonly [string, string, string, string][] = [
  ['archive_writer_counters', 'archive_writer_counters', 'value', 'archive_writer.v0'],
  ['ieg_metrics', 'ieg_metrics', 'metric_value', 'ieg.v0'],
  ['ofp_metrics', 'ofp_metrics', 'value', 'ofp.v0'],
  ['csfb_counters', 'csfb_counters', 'value', 'csfb.v0'],
  ['df_metrics', 'df_metrics', 'value', 'df.v0'],
  ['al_metrics', 'al_metrics', 'value', 'al.v0'],
];

export function runClosePorts(env: PlatformEnvironment, deps: PlatformDependencies): RunClosePorts {
  return {
    registry: {
      async stopRun(platformRunId, at) {
        const pool = await deps.pool();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const run = await client.query<{ status: string; stopped_at_utc: Date }>(
            `UPDATE platform_runs SET status = 'STOPPED', stopped_at_utc = COALESCE(stopped_at_utc, $2)
             WHERE platform_run_id = $1 RETURNING status, stopped_at_utc`,
            [platformRunId, at],
          );
          const row = run.rows[0];
          if (!row) throw new Error(`no run record ${platformRunId}`);
          const cleared = await client.query('DELETE FROM active_run WHERE platform_run_id = $1', [
            platformRunId,
          ]);
          await client.query('COMMIT');
          return {
            status: row.status,
            was_active: (cleared.rowCount ?? 0) > 0,
            stopped_at_utc: row.stopped_at_utc.toISOString(),
          };
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      },
    },
    async runScopeRows(platformRunId) {
      const pool = await deps.pool();
      const rows: Record<string, number> = {};
      for (const [name, sql] of RUN_ROWS) {
        const r = await pool.query<{ n: string }>(
          sql.replace('SELECT count(*)', 'SELECT count(*)::text AS n'),
          [platformRunId],
        );
        rows[name] = Number(r.rows[0]?.n ?? 0);
      }
      for (const [name, table, column, base] of COUNTERS) {
        const r = await pool.query<{ n: string }>(
          `SELECT coalesce(sum(${column}), 0)::text AS n FROM ${table} WHERE stream_id = $1`,
          [consumerCheckpointScope(base, platformRunId)],
        );
        rows[name] = Number(r.rows[0]?.n ?? 0);
      }
      return rows;
    },
    evidence: s3PhaseEvidenceStore(deps.s3, env.PLATFORM_BUCKET),
    now: () => new Date(),
  };
}
