import policyJson from '../../config/degrade-ladder/policy.json' with { type: 'json' };
import { DegradePolicy } from '../degrade-ladder/policy.ts';
import { parseConfig } from './config.ts';

/**
 * The Degrade Ladder's policy (`config/degrade-ladder/policy.json`), versioned by its `revision` and parsed once: a
 * bad file fails the cold start naming the field.
 */

const WHAT = 'config/degrade-ladder/policy.json';
let parsed: DegradePolicy | undefined;

/** The policy; `source` replaces the file (tests), and is then parsed on every call. */
export function loadDegradePolicy(source?: Record<string, unknown>): DegradePolicy {
  if (source !== undefined) return parseConfig(DegradePolicy, source, WHAT);
  parsed ??= parseConfig(DegradePolicy, policyJson, WHAT);
  return parsed;
}
