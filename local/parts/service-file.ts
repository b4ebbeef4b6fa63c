import fs from 'node:fs';
import type { ServiceDefinition } from '../service-definition.ts';
import { requiredEnv } from './part-runtime.ts';

/** The resolved service the stack wrote before starting this part. */
export function readServiceFile(): ServiceDefinition {
  return JSON.parse(fs.readFileSync(requiredEnv('PART_SERVICE_FILE'), 'utf8')) as ServiceDefinition;
}
