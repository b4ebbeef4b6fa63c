import { type RequiredAction, type ResourceKind, requiredActions } from '../iam-actions.ts';
import { getAttOf, isObject, type ResolveContext, resolveText } from '../intrinsics.ts';
import type { CfnResource, Finding, FunctionFacts, ReadinessInput } from '../model.ts';

/**
 * IAM against code: every SDK command a function's bundle can send is allowed by its role's inline policies
 * (and AWS::IAM::Policy resources attached to the role) on a resource of the right kind. Managed policies and
 * Deny statements are not read; a Resource that cannot be read as text counts as `*`. logs:* is serverless's.
 */

interface Grant {
  actions: string[];
  notActions: string[];
  resources: string[];
}

const asArray = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function wildcard(pattern: string, flags = ''): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, flags);
}

/** The role a function runs as, when it is a role of this template. */
export function roleIdOf(fn: CfnResource, resources: Record<string, CfnResource>): string | undefined {
  const role = fn.Properties?.Role;
  const id = isObject(role) ? (getAttOf(role['Fn::GetAtt'])?.target ?? role.Ref) : undefined;
  return typeof id === 'string' && resources[id]?.Type === 'AWS::IAM::Role' ? id : undefined;
}

function resourceText(value: unknown, context: ResolveContext): string {
  // A bare Ref to a bucket (its name) stands for the bucket's ARN here.
  const ref = isObject(value) ? value.Ref : undefined;
  if (typeof ref === 'string' && context.resources[ref]?.Type === 'AWS::S3::Bucket')
    return `arn:aws:s3:::${ref}`;
  return resolveText(value, context) ?? '*';
}

function grantsOf(document: unknown, context: ResolveContext): Grant[] {
  const statements = asArray(isObject(document) ? document.Statement : undefined).filter(isObject);
  return statements
    .filter((s) => s.Effect === 'Allow')
    .map((s) => ({
      actions: asArray(s.Action).filter((a) => typeof a === 'string'),
      notActions: asArray(s.NotAction).filter((a) => typeof a === 'string'),
      resources:
        s.NotResource !== undefined ? ['*'] : asArray(s.Resource).map((r) => resourceText(r, context)),
    }));
}

export function roleGrants(roleId: string, context: ResolveContext): Grant[] {
  const inline = asArray(context.resources[roleId]?.Properties?.Policies).filter(isObject);
  const attached = Object.values(context.resources).filter(
    (r) =>
      r.Type === 'AWS::IAM::Policy' &&
      asArray(r.Properties?.Roles).some((role) => isObject(role) && role.Ref === roleId),
  );
  return [...inline, ...attached.map((r) => r.Properties ?? {})].flatMap((p) =>
    grantsOf(p.PolicyDocument, context),
  );
}

function allows(grant: Grant, action: string): boolean {
  if (grant.notActions.length > 0) return !grant.notActions.some((p) => wildcard(p, 'i').test(action));
  return grant.actions.some((p) => wildcard(p, 'i').test(action));
}

function fits(resource: string, kind: ResourceKind): boolean {
  if (kind === 'any' || resource === '*' || !/^arn:[^:]*:s3:::/.test(resource)) return true;
  const path = resource.replace(/^arn:[^:]*:s3:::/, '');
  return kind === 'bucket' ? !path.includes('/') : path.includes('/') || path.includes('*');
}

function missingGrant(grants: Grant[], required: RequiredAction): string | undefined {
  const granting = grants.filter((g) => allows(g, required.action));
  if (granting.some((g) => g.resources.some((r) => fits(r, required.kind)))) return undefined;
  if (granting.length === 0) return `role grants no ${required.action}`;
  return `role grants ${required.action} only on ${required.kind === 'bucket' ? 'object' : 'bucket'} ARNs (needs ${required.kind === 'bucket' ? 'a bucket' : 'an object'} ARN)`;
}

/** One finding per missing action, naming every command of the bundle that needs it. */
function functionFindings(fn: FunctionFacts, grants: Grant[]): Finding[] {
  const needs = new Map<string, { required: RequiredAction; commands: Set<string> }>();
  for (const command of fn.bundle?.commands ?? []) {
    for (const required of requiredActions(command)) {
      if (required.action.startsWith('logs:')) continue;
      const key = `${required.action} ${required.kind}`;
      const need = needs.get(key) ?? { required, commands: new Set<string>() };
      need.commands.add(command.command);
      needs.set(key, need);
    }
  }
  return [...needs.values()].flatMap(({ required, commands }) => {
    const missing = missingGrant(grants, required);
    const sends = [...commands].join(', ');
    return missing
      ? [{ rule: 'iam' as const, resource: fn.logicalId, message: `${fn.key} sends ${sends}: ${missing}` }]
      : [];
  });
}

export function iamRule(input: ReadinessInput): Finding[] {
  const context = { pseudo: input.pseudo, resources: input.template.Resources };
  return input.functions.flatMap((fn) => {
    const resource = input.template.Resources[fn.logicalId];
    const roleId = resource ? roleIdOf(resource, context.resources) : undefined;
    return roleId ? functionFindings(fn, roleGrants(roleId, context)) : [];
  });
}

/** Functions whose role is not a role of the template: their IAM is not checked. */
export function iamWarnings(input: ReadinessInput): string[] {
  return input.functions
    .filter((fn) => (fn.bundle?.commands.length ?? 0) > 0)
    .filter((fn) => {
      const resource = input.template.Resources[fn.logicalId];
      return !resource || roleIdOf(resource, input.template.Resources) === undefined;
    })
    .map((fn) => `warning: ${fn.key} runs as a role outside the template; its IAM is not checked`);
}
