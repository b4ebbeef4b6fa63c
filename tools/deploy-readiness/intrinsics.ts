import type { CfnResource, PseudoParameters } from './model.ts';

/** Reading CloudFormation intrinsic functions: what a value references, and what text it stands for. */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{Ref: …}` or `{"Fn::…": …}`: a value CloudFormation computes, so its type cannot be checked here. */
export function isIntrinsic(value: unknown): value is JsonObject {
  if (!isObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false));
}

export interface Reference {
  target: string;
  /** Set for Fn::GetAtt and `${X.Attr}`. */
  attribute?: string;
  via: 'Ref' | 'Fn::GetAtt' | 'Fn::Sub';
}

/** The `${…}` placeholders of a Fn::Sub body, less `${!Literal}` escapes. */
export function subPlaceholders(body: string): string[] {
  return [...body.matchAll(/\$\{([^}!][^}]*)\}/g)].map((m) => (m[1] ?? '').trim());
}

function splitAttribute(name: string): { target: string; attribute?: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { target: name } : { target: name.slice(0, dot), attribute: name.slice(dot + 1) };
}

/** Every Ref, Fn::GetAtt and Fn::Sub placeholder anywhere inside value (pseudo parameters excluded). */
export function referencesIn(value: unknown): Reference[] {
  const found: Reference[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
      return;
    }
    if (!isObject(v)) return;
    for (const [key, inner] of Object.entries(v)) {
      if (key === 'Ref' && typeof inner === 'string') {
        if (!inner.startsWith('AWS::')) found.push({ target: inner, via: 'Ref' });
      } else if (key === 'Fn::GetAtt') {
        const getAtt = getAttOf(inner);
        if (getAtt) found.push({ ...getAtt, via: 'Fn::GetAtt' });
        if (Array.isArray(inner)) visit(inner.slice(1));
      } else if (key === 'Fn::Sub') {
        const [body, vars] = subParts(inner);
        for (const name of subPlaceholders(body)) {
          if (name.startsWith('AWS::') || name in vars) continue;
          found.push({ ...splitAttribute(name), via: 'Fn::Sub' });
        }
        visit(Object.values(vars));
      } else visit(inner);
    }
  };
  visit(value);
  return found;
}

export function getAttOf(value: unknown): { target: string; attribute?: string } | undefined {
  if (typeof value === 'string') return splitAttribute(value);
  if (!Array.isArray(value) || typeof value[0] !== 'string') return undefined;
  return typeof value[1] === 'string' ? { target: value[0], attribute: value[1] } : { target: value[0] };
}

export function subParts(value: unknown): [string, JsonObject] {
  if (typeof value === 'string') return [value, {}];
  if (Array.isArray(value) && typeof value[0] === 'string')
    return [value[0], isObject(value[1]) ? value[1] : {}];
  return ['', {}];
}

export interface ResolveContext {
  pseudo: PseudoParameters;
  resources: Record<string, CfnResource>;
}

function pseudoValue(name: string, pseudo: PseudoParameters): string | undefined {
  const values: Record<string, string> = {
    'AWS::Region': pseudo.region,
    'AWS::AccountId': pseudo.accountId,
    'AWS::StackName': pseudo.stackName,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  return values[name];
}

/** The ARN text of `X.Arn` for the few types whose ARN shape the IAM rule cares about. */
function getAttText(target: string, attribute: string | undefined, context: ResolveContext): string {
  if (attribute === 'Arn' && context.resources[target]?.Type === 'AWS::S3::Bucket')
    return `arn:aws:s3:::${target}`;
  return attribute ? `\${${target}.${attribute}}` : `\${${target}}`;
}

/**
 * The text a value stands for: literals as they are, pseudo parameters by `context.pseudo`, a resource's Ref or
 * attribute as a `${Logical}` / `${Logical.Attr}` placeholder. Undefined for what cannot be text (Fn::If, …).
 */
export function resolveText(value: unknown, context: ResolveContext): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!isIntrinsic(value)) return undefined;
  const [key, inner] = Object.entries(value)[0] ?? [];
  if (key === 'Ref' && typeof inner === 'string')
    return pseudoValue(inner, context.pseudo) ?? (inner.startsWith('AWS::') ? undefined : `\${${inner}}`);
  if (key === 'Fn::GetAtt') {
    const getAtt = getAttOf(inner);
    return getAtt ? getAttText(getAtt.target, getAtt.attribute, context) : undefined;
  }
  if (key === 'Fn::Join' && Array.isArray(inner) && typeof inner[0] === 'string' && Array.isArray(inner[1])) {
    const parts = inner[1].map((part) => resolveText(part, context));
    return parts.every((p) => p !== undefined) ? parts.join(inner[0]) : undefined;
  }
  if (key === 'Fn::Sub') {
    const [body, vars] = subParts(inner);
    return body.replace(/\$\{([^}]*)\}/g, (whole, raw: string) => {
      if (raw.startsWith('!')) return `\${${raw.slice(1)}}`;
      const name = raw.trim();
      if (name in vars) return resolveText(vars[name], context) ?? whole;
      const pseudo = pseudoValue(name, context.pseudo);
      if (pseudo !== undefined) return pseudo;
      const { target, attribute } = splitAttribute(name);
      return getAttText(target, attribute, context);
    });
  }
  return undefined;
}
