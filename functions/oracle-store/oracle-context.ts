import type { z } from 'zod';
import { objectStoreDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import { createLogger } from '../../lib/runtime/logger.ts';
import { oracleEnvironment } from '../../lib/runtime/oracle-config.ts';

/** What every Oracle Store handler shares, built once at cold start. */
export const env = platformEnvironment();
export const oracle = oracleEnvironment();
export const deps = objectStoreDependencies(env);
export const logger = createLogger('oracle-store');

/** Input that fails its schema: a named error the state machine can catch. */
export class InvalidOracleRequest extends Error {
  override name = 'ORACLE_REQUEST_INVALID';
}

/** The event parsed by its schema, or InvalidOracleRequest naming every bad field. */
export function parseRequest<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  const req = schema.safeParse(event);
  if (!req.success)
    throw new InvalidOracleRequest(
      req.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  return req.data;
}
