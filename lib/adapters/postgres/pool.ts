import pg from 'pg';
import { ConfigInvalid, PlatformError } from '../../errors/platform-error.ts';

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

/**
 * Postgres could not be reached (refused, reset, timed out, shutting down, too many connections): a retry can
 * succeed. The detail says only that; the cause (with hosts and ports) stays in the log.
 */
export class DatabaseUnavailable extends PlatformError<'OPS_DB_UNAVAILABLE'> {
  constructor(cause: unknown) {
    super('OPS_DB_UNAVAILABLE', `OPS_DB_UNAVAILABLE: ${(cause as Error)?.message ?? String(cause)}`, {
      retryable: true,
      httpStatus: 503,
      detail: 'the database is unavailable; retry',
      cause,
    });
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Whether a pg error means the database was unreachable (SQLSTATE class 08, 57P0x, 53300), not a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    UNAVAILABLE_CODES.has(code) ||
    code.startsWith('08') ||
    /^57P0[1-3]$/.test(code) ||
    code === '53300' ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  );
}

/** Rethrows a pg error, as DatabaseUnavailable when the database was unreachable. */
export function rethrowUnavailable(error: unknown): never {
  throw isDatabaseUnavailable(error) ? new DatabaseUnavailable(error) : error;
}

/** What runs a query: a pool, a checked-out client, or a record's client inside a batch's unit of work. */
export type Queryable = Pick<pg.PoolClient, 'query'>;
