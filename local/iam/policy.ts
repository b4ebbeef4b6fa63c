import { z } from 'zod';

/**
 * IAM identity-policy evaluation, as AWS does it for one role's inline statements: an explicit Deny wins, else an
 * Allow that matches both the action and the resource grants, else the request is implicitly denied. `*` and `?`
 * are wildcards in actions (case-insensitive) and resources (case-sensitive); NotAction and NotResource invert.
 * Condition blocks are not evaluated: an Allow with a Condition counts as granting and a Deny with one as not
 * applying, so the local check never refuses what AWS could allow.
 */

/** One statement with every Action and Resource already resolved to text (see roles.ts). */
export const RoleStatement = z.object({
  effect: z.enum(['Allow', 'Deny']),
  actions: z.array(z.string()).optional(),
  notActions: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  notResources: z.array(z.string()).optional(),
  conditional: z.boolean().optional(),
});
export type RoleStatement = z.infer<typeof RoleStatement>;

export const LocalRole = z.object({ name: z.string().min(1), statements: z.array(RoleStatement) });
export type LocalRole = z.infer<typeof LocalRole>;

/** What one request asks for: an action on a resource ARN (`*` for actions without resource-level permissions). */
export interface ActionRequest {
  action: string;
  resource: string;
}

export type Decision = 'allowed' | 'explicit-deny' | 'implicit-deny';

const patterns = new Map<string, RegExp>();

export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const id = `${ignoreCase ? 'i' : 's'}:${pattern}`;
  let re = patterns.get(id);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    patterns.set(id, re);
  }
  return re.test(value);
}

function coversAction(s: RoleStatement, action: string): boolean {
  if (s.notActions) return !s.notActions.some((p) => wildcardMatch(p, action, true));
  return (s.actions ?? []).some((p) => wildcardMatch(p, action, true));
}

function coversResource(s: RoleStatement, resource: string): boolean {
  if (s.notResources) return !s.notResources.some((p) => wildcardMatch(p, resource));
  return (s.resources ?? []).some((p) => wildcardMatch(p, resource));
}

/** The decision for one action on one resource. */
export function decide(role: LocalRole, request: ActionRequest): Decision {
  const applying = role.statements.filter(
    (s) => coversAction(s, request.action) && coversResource(s, request.resource),
  );
  if (applying.some((s) => s.effect === 'Deny' && !s.conditional)) return 'explicit-deny';
  return applying.some((s) => s.effect === 'Allow') ? 'allowed' : 'implicit-deny';
}

export interface Refusal {
  request: ActionRequest;
  decision: Exclude<Decision, 'allowed'>;
  /** AWS's wording: `User: <arn> is not authorized to perform: <action> on resource: <arn> because …`. */
  message: string;
}

/** The first of the requests the role may not make (every one must be allowed), or undefined. */
export function firstRefusal(
  role: LocalRole,
  requests: ActionRequest[],
  accountId: string,
): Refusal | undefined {
  for (const request of requests) {
    const decision = decide(role, request);
    if (decision === 'allowed') continue;
    const why =
      decision === 'explicit-deny'
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${request.action} action`;
    const user = `arn:aws:sts::${accountId}:assumed-role/${role.name}/${role.name}`;
    return {
      request,
      decision,
      message: `User: ${user} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`,
    };
  }
  return undefined;
}
