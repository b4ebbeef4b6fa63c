import bundleJson from '../../config/decision-fabric/rules-bundle.json' with { type: 'json' };
import { RulesBundle } from '../decision-fabric/bundle.ts';
import { parseConfig } from './config.ts';

/**
 * The Decision Fabric's rules bundle (`config/decision-fabric/rules-bundle.json`), parsed once: a bad file fails the
 * cold start naming the field.
 */

const WHAT = 'config/decision-fabric/rules-bundle.json';
let parsed: RulesBundle | undefined;

/** The rules bundle; `source` replaces the file (tests), and is then parsed on every call. */
export function loadRulesBundle(source?: Record<string, unknown>): RulesBundle {
  if (source !== undefined) return parseConfig(RulesBundle, source, WHAT);
  parsed ??= parseConfig(RulesBundle, bundleJson, WHAT);
  return parsed;
}
