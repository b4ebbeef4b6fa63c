import { describe, expect, it } from 'vitest';
import type { PlatformDependencies } from '../../../lib/adapters/platform-dependencies.ts';
import { runClosePorts } from '../../../lib/adapters/run-close.ts';
import type { PlatformEnvironment } from '../../../lib/runtime/config.ts';
import { scriptedPool } from '../../support/scripted-pool.ts';

/** P12's ports (lib/adapters/run-close.ts) on a scripted pool: the SQL runs in the Gate runs of the integration tier. */

const RUN = 'platform_20261207T100000Z';
const env = { PLATFORM_BUCKET: 'fraud-platform' } as PlatformEnvironment;

function deps(answer: Parameters<typeof scriptedPool>[0]) {
  const p = scriptedPool(answer);
  return { p, d: { pool: async () => p.pool, s3: {} } as unknown as PlatformDependencies };
}

describe('run close ports (P12)', () => {
  it('stop: STOPPED once, the active run cleared, in one transaction', async () => {
    const stoppedAt = new Date('2026-12-07T10:00:00Z');
    const { p, d } = deps((sql) => {
      if (sql.startsWith('UPDATE platform_runs'))
        return { rows: [{ status: 'STOPPED', stopped_at_utc: stoppedAt }] };
      if (sql.startsWith('DELETE FROM active_run')) return { rowCount: 1 };
      return undefined;
    });
    const answer = await runClosePorts(env, d).registry.stopRun(RUN, new Date('2026-12-07T11:00:00Z'));
    expect(answer).toEqual({ status: 'STOPPED', was_active: true, stopped_at_utc: stoppedAt.toISOString() });
    expect(p.calls.map((c) => c.sql.split(/\s/)[0])).toEqual(['BEGIN', 'UPDATE', 'DELETE', 'COMMIT']);
    expect(p.calls[1]?.params).toEqual([RUN, new Date('2026-12-07T11:00:00Z')]);
  });

  it('stop of a run without a record rolls back and throws', async () => {
    const { p, d } = deps(() => undefined);
    await expect(runClosePorts(env, d).registry.stopRun(RUN, new Date())).rejects.toThrow(/no run record/);
    expect(p.calls.at(-1)?.sql).toBe('ROLLBACK');
  });

  it('counts the run rows of each table and each component counters under its run stream id', async () => {
    const { p, d } = deps((sql) => ({ rows: [{ n: sql.includes('df_metrics') ? '40' : '3' }] }));
    const rows = await runClosePorts(env, d).runScopeRows(RUN);
    expect(rows).toMatchObject({ ig_admissions: 3, df_decisions: 3, df_metrics: 40, ofp_metrics: 3 });
    expect(p.sqlOf('FROM df_metrics')[0]?.params).toEqual([`df.v0::${RUN}`]);
    expect(p.sqlOf('FROM ig_admissions')[0]?.params).toEqual([RUN]);
  });
});
