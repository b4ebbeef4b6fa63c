import { PyFloat } from '../contracts/canonical-json.ts';
import type { CapabilitiesMask } from '../contracts/degrade-ladder.ts';
import type { KeyFeatures } from '../contracts/online-features.ts';
import type { Condition, RulesBundle } from './bundle.ts';

/**
 * The bundle's registry check and its rules over an OFP snapshot's features (downstream.md §3.2 "Registry"; rules are
 * our deliberate difference). Features are keyed `<key_type>:<key_id>`; a rule fires when each of its conditions is met
 * by a key of the condition's type (the snapshot holds one key per type: the flow's own entities). Only the snapshot's features are read: the engine's truth columns
 * never reach a rule.
 */

export interface RegistryResolution {
  outcome: 'RESOLVED' | 'FAIL_CLOSED';
  reasons: string[];
}

/**
 * RESOLVED when the snapshot carries every group the bundle needs at its version and the posture's mask allows
 * them; else FAIL_CLOSED with `ACTIVE_BUNDLE_INCOMPATIBLE` and each `FEATURE_GROUP_MISSING:g`,
 * `FEATURE_GROUP_VERSION_MISMATCH:g` or `CAPABILITY_MISMATCH:allowed_feature_groups:g`.
 */
export function resolveRegistry(
  bundle: RulesBundle,
  snapshotGroups: readonly { name: string; version: string }[],
  mask: CapabilitiesMask,
): RegistryResolution {
  const reasons: string[] = [];
  const allowed: ReadonlySet<string> = new Set(mask.allowed_feature_groups);
  for (const needed of bundle.requires_feature_groups) {
    const found = snapshotGroups.find((g) => g.name === needed.name);
    if (!allowed.has(needed.name)) reasons.push(`CAPABILITY_MISMATCH:allowed_feature_groups:${needed.name}`);
    else if (!found) reasons.push(`FEATURE_GROUP_MISSING:${needed.name}`);
    else if (found.version !== needed.version) reasons.push(`FEATURE_GROUP_VERSION_MISMATCH:${needed.name}`);
  }
  return reasons.length === 0
    ? { outcome: 'RESOLVED', reasons: ['ACTIVE_BUNDLE_RESOLVED'] }
    : { outcome: 'FAIL_CLOSED', reasons: ['ACTIVE_BUNDLE_INCOMPATIBLE', ...reasons] };
}

export interface FiredRule {
  rule_id: string;
  reason_code: string;
  /** Each condition's key (`<key_type>:<key_id>`) and the value that met it. */
  evidence: { key: string; feature: string; value: number }[];
}

export interface RuleScore {
  score: number;
  fired: FiredRule[];
}

/** A feature as a number (counts, ages; amounts as PyFloat), or undefined when it is none. */
function numberOf(value: KeyFeatures[string] | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof PyFloat) return value.value;
  return undefined;
}

const holds = (condition: Condition, value: number) =>
  condition.op === 'gte' ? value >= condition.threshold : value <= condition.threshold;

/** The first key of the condition's type (in key order) whose feature meets it. */
function meets(
  condition: Condition,
  keys: readonly string[],
  features: Readonly<Record<string, KeyFeatures>>,
) {
  for (const key of keys) {
    if (!key.startsWith(`${condition.key_type}:`)) continue;
    const value = numberOf(features[key]?.[condition.feature]);
    if (value !== undefined && holds(condition, value)) return { key, feature: condition.feature, value };
  }
  return undefined;
}

/** The rules whose every condition holds on the snapshot's features, and their total weight. */
export function scoreRules(bundle: RulesBundle, features: Readonly<Record<string, KeyFeatures>>): RuleScore {
  const keys = Object.keys(features).sort();
  const fired: FiredRule[] = [];
  for (const rule of bundle.rules) {
    const evidence = rule.conditions.map((c) => meets(c, keys, features));
    if (evidence.every((e) => e !== undefined))
      fired.push({
        rule_id: rule.rule_id,
        reason_code: rule.reason_code,
        evidence: evidence as FiredRule['evidence'],
      });
  }
  const weights = new Map(bundle.rules.map((r) => [r.rule_id, r.weight]));
  return { score: fired.reduce((sum, f) => sum + (weights.get(f.rule_id) ?? 0), 0), fired };
}
