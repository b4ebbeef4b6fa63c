import pg from 'pg';
import { ConfigInvalid } from '../../errors/platform-error.ts';

export type Pool = pg.Pool;

export interface PoolOptions {
  connectionString: string;
  max?: number;
  connectTimeoutMs?: number;
}

/** A pg pool from a DSN alone; the same code for embedded Postgres, a local server and RDS. */
export function createPool({ connectionString, max = 4, connectTimeoutMs = 3000 }: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 10_000,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * The DSN: given directly (local) or read from an SSM SecureString at cold start (dev/prod) through `secret`
 * (lib/adapters/parameters.ts `ssmSecrets`).
 */
export async function resolveDatabaseUrl(
  source: { DATABASE_URL?: string | undefined; DATABASE_URL_SSM_PARAMETER?: string | undefined },
  secret: (name: string) => Promise<string | undefined>,
): Promise<string> {
  if (source.DATABASE_URL) return source.DATABASE_URL;
  if (!source.DATABASE_URL_SSM_PARAMETER)
    throw new ConfigInvalid('DATABASE_URL: neither DATABASE_URL nor DATABASE_URL_SSM_PARAMETER is set');
  const value = await secret(source.DATABASE_URL_SSM_PARAMETER);
  if (!value)
    throw new ConfigInvalid(
      `DATABASE_URL_SSM_PARAMETER: parameter ${source.DATABASE_URL_SSM_PARAMETER} has no value`,
    );
  return value;
}

/** Host and port of a DSN for messages, never the password. */
export function describeDsn(dsn: string): string {
  try {
    const u = new URL(dsn);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable DSN)';
  }
}
