import { z } from 'zod';
import { parseConfig } from './config.ts';

/** Settings of the Oracle Store functions (the stream sort's worker budget and DuckDB), parsed once. */
export const OracleEnvironment = z.object({
  STREAM_SORT_BUDGET_BYTES: z.coerce
    .number()
    .int()
    .min(1 << 20)
    .default(1 << 30),
  DUCKDB_MEMORY_LIMIT: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, 'like 1GB or 512MB')
    .default('1GB'),
  DUCKDB_THREADS: z.coerce.number().int().min(1).max(64).default(2),
  DUCKDB_TEMP_DIRECTORY: z.string().min(1).default('/tmp/duckdb'),
  ORACLE_WORKSPACE_DIR: z.string().min(1).default('/tmp/oracle-workspace'),
  ORACLE_ENGINE_RELEASE: z.string().min(1).default('synthetic-world-v1'),
});
export type OracleEnvironment = z.infer<typeof OracleEnvironment>;

let cached: OracleEnvironment | undefined;
export function oracleEnvironment(source: Record<string, unknown> = process.env): OracleEnvironment {
  cached ??= parseConfig(OracleEnvironment, source, 'oracle environment');
  return cached;
}
