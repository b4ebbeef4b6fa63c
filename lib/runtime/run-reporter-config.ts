import { z } from 'zod';
import type { Provenance } from '../contracts/wire-primitives.ts';
import { parseConfig } from './config.ts';

/** The run reporter's provenance (downstream.md §1): `RUN_REPORTER_SERVICE_RELEASE_ID` → `SERVICE_RELEASE_ID` → `dev-local`. */
export function runReporterProvenance(source: Record<string, unknown> = process.env): Provenance {
  const text = z
    .string()
    .max(256)
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
  const env = parseConfig(
    z.object({
      RUN_REPORTER_SERVICE_RELEASE_ID: text,
      SERVICE_RELEASE_ID: text,
      PLATFORM_ENVIRONMENT: text.pipe(z.string().max(64).optional()),
    }),
    source,
    'run reporter environment',
  );
  return {
    service_release_id: env.RUN_REPORTER_SERVICE_RELEASE_ID ?? env.SERVICE_RELEASE_ID ?? 'dev-local',
    environment: env.PLATFORM_ENVIRONMENT ?? 'unknown',
  };
}
