import { sql as runLifecycle } from './0001-run-lifecycle.ts';
import { sql as ingestionGate } from './0002-ingestion-gate.ts';

export interface Migration {
  /** Ordered, never renamed once released. */
  id: string;
  sql: string;
}

/** Every migration of the platform schema, in order. Bundled into Lambdas so P0 can check the schema. */
export const MIGRATIONS: readonly Migration[] = [
  { id: '0001-run-lifecycle', sql: runLifecycle },
  { id: '0002-ingestion-gate', sql: ingestionGate },
];
