import { isIntrinsic, resolveText } from '../intrinsics.ts';
import type { Finding, ReadinessInput } from '../model.ts';

/**
 * Explicit physical names: within AWS's limits, unique in the template, and (on any stage but the single-tenant
 * emulator stages, `local` and `localstack`, which keep the walkthrough's names) carrying the stage, so two stages
 * in one account and region never claim the same name. A name built from another resource's Ref or attribute is
 * not checked (its text is unknown until deploy).
 */

const EMULATOR_STAGES = new Set(['local', 'localstack']);

interface NameRule {
  type: string;
  property: string;
  max: number;
  min?: number;
  pattern: RegExp;
  /** Account/region-scoped: must carry the stage and be unique in the template. */
  scoped: boolean;
}

const IAM_NAME = /^[\w+=,.@-]+$/;

export const NAME_RULES: NameRule[] = [
  {
    type: 'AWS::Lambda::Function',
    property: 'FunctionName',
    max: 64,
    pattern: /^[a-zA-Z0-9_-]+$/,
    scoped: true,
  },
  { type: 'AWS::IAM::Role', property: 'RoleName', max: 64, pattern: IAM_NAME, scoped: true },
  { type: 'AWS::IAM::Policy', property: 'PolicyName', max: 128, pattern: IAM_NAME, scoped: false },
  {
    type: 'AWS::IAM::ManagedPolicy',
    property: 'ManagedPolicyName',
    max: 128,
    pattern: IAM_NAME,
    scoped: true,
  },
  {
    type: 'AWS::StepFunctions::StateMachine',
    property: 'StateMachineName',
    max: 80,
    pattern: /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]+$/u,
    scoped: true,
  },
  { type: 'AWS::Kinesis::Stream', property: 'Name', max: 128, pattern: /^[a-zA-Z0-9_.-]+$/, scoped: true },
  {
    type: 'AWS::Lambda::LayerVersion',
    property: 'LayerName',
    max: 140,
    pattern: /^[a-zA-Z0-9_-]+$/,
    scoped: true,
  },
  {
    type: 'AWS::Logs::LogGroup',
    property: 'LogGroupName',
    max: 512,
    pattern: /^[.\-_/#A-Za-z0-9]+$/,
    scoped: true,
  },
  { type: 'AWS::Events::Rule', property: 'Name', max: 64, pattern: /^[.\-_A-Za-z0-9]+$/, scoped: true },
  { type: 'AWS::ApiGatewayV2::Api', property: 'Name', max: 128, pattern: /^.+$/, scoped: true },
  {
    type: 'AWS::S3::Bucket',
    property: 'BucketName',
    min: 3,
    max: 63,
    pattern: /^(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    scoped: true,
  },
];

/** Versions of one layer share its name, so a repeated LayerName is not a clash. */
const MAY_REPEAT = new Set(['AWS::Lambda::LayerVersion']);

export function carriesStage(name: string, stage: string): boolean {
  const escaped = stage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^a-z0-9])${escaped}([^a-z0-9]|$)`, 'i').test(name);
}

interface NamedValue {
  id: string;
  rule: NameRule;
  raw: unknown;
  text: string;
}

function namesOf(input: ReadinessInput): NamedValue[] {
  const context = { pseudo: input.pseudo, resources: input.template.Resources };
  const named: NamedValue[] = [];
  for (const [id, resource] of Object.entries(input.template.Resources)) {
    const rule = NAME_RULES.find((r) => r.type === resource.Type);
    const raw = rule ? resource.Properties?.[rule.property] : undefined;
    const text = resolveText(raw, context);
    if (rule && text !== undefined && !text.includes('${')) named.push({ id, rule, raw, text });
    // Inline role policies: their names are the role's own business (limits only).
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const policies = resource.Properties?.Policies;
    const policyRule = NAME_RULES.find((r) => r.type === 'AWS::IAM::Policy');
    for (const policy of Array.isArray(policies) ? policies : []) {
      const policyName = resolveText((policy as { PolicyName?: unknown }).PolicyName, context);
      if (policyRule && policyName !== undefined && !policyName.includes('${'))
        named.push({
          id,
          rule: { ...policyRule, property: 'Policies[].PolicyName' },
          raw: undefined,
          text: policyName,
        });
    }
  }
  return named;
}

function limitProblem({ rule, text }: NamedValue): string | undefined {
  if (text.length > rule.max) return `is ${text.length} characters, over the limit of ${rule.max}`;
  if (text.length < (rule.min ?? 1))
    return `is ${text.length} characters, under the minimum of ${rule.min ?? 1}`;
  return rule.pattern.test(text) ? undefined : `has characters outside ${rule.pattern.source}`;
}

function stageProblem({ rule, raw, text }: NamedValue, stage: string): string | undefined {
  if (!rule.scoped || rule.property.includes('[]')) return undefined;
  if (rule.type === 'AWS::S3::Bucket') {
    const withAccount = isIntrinsic(raw) && JSON.stringify(raw).includes('AWS::AccountId');
    if (withAccount && carriesStage(text, stage)) return undefined;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, not a JS template
    return 'is a fixed bucket name: leave BucketName to CloudFormation, or build it with Fn::Sub from the stage and ${AWS::AccountId}';
  }
  return carriesStage(text, stage) ? undefined : `does not carry the stage "${stage}"`;
}

export function namesRule(input: ReadinessInput): Finding[] {
  const findings: Finding[] = [];
  const named = namesOf(input);
  const finding = (id: string, message: string) => findings.push({ rule: 'names', resource: id, message });
  for (const value of named) {
    const label = `${value.rule.type} ${value.rule.property} "${value.text}"`;
    const limit = limitProblem(value);
    if (limit) finding(value.id, `${label} ${limit}`);
    const stage = EMULATOR_STAGES.has(input.stage) ? undefined : stageProblem(value, input.stage);
    if (stage) finding(value.id, `${label} ${stage}`);
  }
  const byName = new Map<string, string[]>();
  for (const value of named) {
    if (!value.rule.scoped || MAY_REPEAT.has(value.rule.type) || value.rule.property.includes('[]')) continue;
    const key = `${value.rule.type} ${value.rule.property} "${value.text}"`;
    byName.set(key, [...(byName.get(key) ?? []), value.id]);
  }
  for (const [key, ids] of byName)
    if (ids.length > 1) finding(ids[0] ?? '', `${key} is used by ${ids.length} resources: ${ids.join(', ')}`);
  return findings;
}
