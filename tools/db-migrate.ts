import { parseArgs } from 'node:util';
import { z } from 'zod';
import { migrate, pendingMigrations } from '../lib/adapters/postgres/migrate.ts';
import { createPool } from '../lib/adapters/postgres/pool.ts';
import { runCli, UsageError } from '../local/cli-support.ts';

/**
 * `npm run db:migrate -- [--check]`: applies the platform's Postgres migrations to the database named by
 * DATABASE_URL (a stage's DSN; the local cloud applies them itself at bootstrap). `--check` lists what is pending
 * and exits 1 if anything is. Idempotent; concurrent runners wait on an advisory lock. The DSN is never printed.
 */

const USAGE = 'usage: DATABASE_URL=postgres://… npm run db:migrate -- [--check]';
const Environment = z.object({
  DATABASE_URL: z
    .string({ error: 'DATABASE_URL is not set' })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL'),
});

runCli('db:migrate', async () => {
  let check: boolean;
  try {
    check = Boolean(
      parseArgs({ args: process.argv.slice(2), options: { check: { type: 'boolean', default: false } } })
        .values.check,
    );
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const env = Environment.safeParse(process.env);
  if (!env.success) throw new UsageError(`${env.error.issues[0]?.message ?? 'bad environment'}; ${USAGE}`);
  const pool = createPool({ connectionString: env.data.DATABASE_URL });
  try {
    if (check) {
      const pending = await pendingMigrations(pool);
      console.log(
        pending.length === 0 ? 'db:migrate: up to date' : `db:migrate: pending ${pending.join(', ')}`,
      );
      return pending.length === 0 ? 0 : 1;
    }
    const applied = await migrate(pool);
    console.log(
      applied.length === 0 ? 'db:migrate: up to date' : `db:migrate: applied ${applied.join(', ')}`,
    );
    return 0;
  } finally {
    await pool.end();
  }
});
