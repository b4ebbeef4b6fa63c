import { PlatformError } from '../../errors/platform-error.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import type { Pool } from './pool.ts';

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id text PRIMARY KEY,
  applied_at_utc timestamptz NOT NULL DEFAULT now()
)`;
/** Serialises concurrent runners (two stacks, a test and a deploy) on one database. */
const ADVISORY_LOCK_KEY = 727_001;

/** Applies pending migrations, each in its own transaction; returns the ids applied. Idempotent. */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    await client.query(LEDGER);
    const done = new Set(
      (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
    );
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
        await client.query('COMMIT');
        applied.push(m.id);
      } catch (error) {
        await client.query('ROLLBACK');
        throw new PlatformError('MIGRATION_FAILED', `migration ${m.id} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}

/** Migration ids not yet applied (all of them when the ledger is missing). */
export async function pendingMigrations(
  pool: Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<string[]> {
  const exists = await pool.query<{ present: boolean }>(
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present",
  );
  if (!exists.rows[0]?.present) return migrations.map((m) => m.id);
  const done = new Set(
    (await pool.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
  );
  return migrations.filter((m) => !done.has(m.id)).map((m) => m.id);
}
