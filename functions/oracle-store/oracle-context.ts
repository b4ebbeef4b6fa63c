import { objectStoreDependencies } from '../../lib/adapters/platform-dependencies.ts';
import { platformEnvironment } from '../../lib/runtime/config.ts';
import type { TaskEdgeOptions } from '../../lib/runtime/edge/task-handler.ts';
import { oracleEnvironment } from '../../lib/runtime/oracle-config.ts';

/** What every Oracle Store handler shares, built once at cold start (S3 only: no Postgres, no SSM). */
export const env = platformEnvironment();
export const oracle = oracleEnvironment();
export const deps = objectStoreDependencies(env);

/** Every oracle task: an event that fails its schema is ORACLE_REQUEST_INVALID (the pipeline does not retry it). */
export const oracleTask: TaskEdgeOptions = { service: 'oracle-store', invalid: 'ORACLE_REQUEST_INVALID' };
