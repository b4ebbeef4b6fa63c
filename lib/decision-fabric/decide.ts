import type { RulesBundle } from './bundle.ts';
import type { RegistryResolution, RuleScore } from './rules.ts';

/**
 * The decision rule (downstream.md §3.2, with our rules): registry FAIL_CLOSED ⇒ QUEUE_REVIEW (+REGISTRY_FAIL_CLOSED);
 * else context not READY ⇒ STEP_UP (+CONTEXT_STATUS:<s>); else the rules' score against the bundle's thresholds —
 * ALLOW below `step_up_at`, then STEP_UP, QUEUE_REVIEW, DECLINE — with each fired rule's reason code; a STEP_UP_ONLY
 * posture turns ALLOW into STEP_UP (+ACTION_POSTURE_CLAMPED:STEP_UP_ONLY). The reason codes are the sorted set of the
 * context, registry, rule and clamp reasons.
 */

export const CONTEXT_STATUSES = [
  'CONTEXT_READY',
  'CONTEXT_WAITING',
  'CONTEXT_MISSING',
  'CONTEXT_BLOCKED',
  'CONTEXT_UNAVAILABLE',
  'DECISION_DEADLINE_EXCEEDED',
] as const;
export type ContextStatus = (typeof CONTEXT_STATUSES)[number];

export const ACTION_KINDS = ['ALLOW', 'STEP_UP', 'QUEUE_REVIEW', 'DECLINE'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface DecisionInputs {
  registry: RegistryResolution;
  context: { status: ContextStatus; reasons: readonly string[] };
  actionPosture: 'NORMAL' | 'STEP_UP_ONLY';
  /** The rules' score (absent when the registry failed closed or context is not READY: they did not run). */
  rules?: RuleScore;
}

export interface Decision {
  action_kind: ActionKind;
  reason_codes: string[];
}

function byScore(score: number, actions: RulesBundle['actions']): ActionKind {
  if (score >= actions.decline_at) return 'DECLINE';
  if (score >= actions.queue_review_at) return 'QUEUE_REVIEW';
  if (score >= actions.step_up_at) return 'STEP_UP';
  return 'ALLOW';
}

export function decide(inputs: DecisionInputs, actions: RulesBundle['actions']): Decision {
  const reasons = new Set<string>([...inputs.registry.reasons, ...inputs.context.reasons]);
  let action: ActionKind;
  if (inputs.registry.outcome === 'FAIL_CLOSED') {
    action = 'QUEUE_REVIEW';
    reasons.add('REGISTRY_FAIL_CLOSED');
  } else if (inputs.context.status !== 'CONTEXT_READY') {
    action = 'STEP_UP';
    reasons.add(`CONTEXT_STATUS:${inputs.context.status}`);
  } else {
    action = byScore(inputs.rules?.score ?? 0, actions);
    for (const fired of inputs.rules?.fired ?? []) reasons.add(fired.reason_code);
  }
  if (action === 'ALLOW' && inputs.actionPosture === 'STEP_UP_ONLY') {
    action = 'STEP_UP';
    reasons.add('ACTION_POSTURE_CLAMPED:STEP_UP_ONLY');
  }
  return { action_kind: action, reason_codes: [...reasons].sort() };
}
