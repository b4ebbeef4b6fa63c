import featurePolicyJson from '../../config/online-features/feature-policy.json' with { type: 'json' };
import { FeaturePolicy } from '../online-features/policy.ts';
import { parseConfig } from './config.ts';

/**
 * The Online Feature Plane's feature policy (`config/online-features/feature-policy.json`: groups, key types,
 * windows, feature families, distinct-counterparty pairs), versioned by its `revision` and parsed once: a bad file
 * fails the cold start naming the field.
 */

const WHAT = 'config/online-features/feature-policy.json';
let parsed: FeaturePolicy | undefined;

/** The feature policy; `source` replaces the file (tests), and is then parsed on every call. */
export function loadFeaturePolicy(source?: Record<string, unknown>): FeaturePolicy {
  if (source !== undefined) return parseConfig(FeaturePolicy, source, WHAT);
  parsed ??= parseConfig(FeaturePolicy, featurePolicyJson, WHAT);
  return parsed;
}
