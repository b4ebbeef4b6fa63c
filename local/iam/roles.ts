import { z } from 'zod';
import type { LocalRole, RoleStatement } from './policy.ts';

/**
 * The role each function runs as, from serverless.yml as `sls print` resolves it, with the statements' intrinsic
 * functions (`!Sub`, `Ref`, `Fn::GetAtt … Arn`, `Fn::Join`) resolved to what the local cloud names things.
 *
 * - With serverless-iam-roles-per-function in `plugins`, a function with `iamRoleStatements` has its own role:
 *   `iamRoleStatementsName`, else the plugin's `<service>-<stage>-<function>-<region>-lambdaRole` (without
 *   `-lambdaRole` past 64 characters); its statements, the provider's when it inherits them, and the plugin's
 *   read grant on each of its Kinesis event streams.
 * - Any other function has serverless' shared role (`provider.iam.role.name`, else
 *   `<service>-<stage>-<region>-lambdaRole`) with the provider's `iam.role.statements` (or `iamRoleStatements`) and
 *   read access to the Kinesis event streams of the functions that share it.
 * - A function with its own `role`, or whose role is an existing role or has managed policies, gets no local role:
 *   what those grant cannot be read here, so its calls are not checked.
 */

const Statement = z.looseObject({
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.unknown().optional(),
  NotAction: z.unknown().optional(),
  Resource: z.unknown().optional(),
  NotResource: z.unknown().optional(),
  Condition: z.unknown().optional(),
});
const Statements = z.array(Statement);

const RoleInput = z.looseObject({
  plugins: z
    .union([z.array(z.string()), z.looseObject({ modules: z.array(z.string()).optional() })])
    .optional(),
  custom: z.record(z.string(), z.unknown()).optional(),
  provider: z.looseObject({
    role: z.unknown().optional(),
    iamRoleStatements: Statements.optional(),
    iam: z
      .looseObject({
        role: z
          .union([
            z.string(),
            z.looseObject({
              name: z.string().optional(),
              statements: Statements.optional(),
              managedPolicies: z.array(z.unknown()).optional(),
            }),
          ])
          .optional(),
      })
      .optional(),
  }),
  functions: z
    .record(
      z.string(),
      z.looseObject({
        role: z.unknown().optional(),
        iamRoleStatements: Statements.optional(),
        iamRoleStatementsName: z.string().optional(),
        iamRoleStatementsInherit: z.boolean().optional(),
      }),
    )
    .optional(),
});

/** What an intrinsic function may name locally: pseudo parameters and the service's resources. */
export interface ResolveContext {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  /** Logical id (or function key / state machine id) → what `Ref` gives. */
  refs: Map<string, string>;
  /** Logical id → what `Fn::GetAtt [id, Arn]` gives. */
  arns: Map<string, string>;
}

export interface FunctionRoles {
  roles: LocalRole[];
  /** Function key → the name of its role (absent: not checked). */
  roleOf: Record<string, string>;
}

function pseudo(name: string, c: ResolveContext): string | undefined {
  const values: Record<string, string> = {
    'AWS::Region': c.region,
    'AWS::AccountId': c.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': `${c.service}-${c.stage}`,
  };
  return values[name];
}

function refOf(name: string, c: ResolveContext): string | undefined {
  return pseudo(name, c) ?? c.refs.get(name);
}

function arnOf(target: string, attribute: string, c: ResolveContext): string | undefined {
  return attribute === 'Arn' ? c.arns.get(target) : undefined;
}

/** Resolves one Action/Resource value to text; throws naming what it cannot resolve. */
export function resolveText(value: unknown, c: ResolveContext): string {
  if (typeof value === 'string') return value;
  const fail = (): never => {
    throw new Error(`cannot resolve ${JSON.stringify(value)} locally`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail();
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return refOf(o.Ref, c) ?? fail();
  const getAtt = o['Fn::GetAtt'];
  if (getAtt !== undefined) {
    const [target, attribute] = typeof getAtt === 'string' ? getAtt.split('.') : (getAtt as unknown[]);
    if (typeof target !== 'string' || typeof attribute !== 'string') return fail();
    return arnOf(target, attribute, c) ?? fail();
  }
  const join = o['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
    return join[1].map((part) => resolveText(part, c)).join(join[0]);
  const sub = o['Fn::Sub'];
  if (sub !== undefined) {
    const [template, vars] = typeof sub === 'string' ? [sub, {}] : (sub as [unknown, unknown]);
    if (typeof template !== 'string') return fail();
    const locals = (vars ?? {}) as Record<string, unknown>;
    return template.replace(/\$\{([^}]+)\}/g, (_whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in locals) return resolveText(locals[name], c);
      const [target, attribute] = name.split('.');
      const text = attribute === undefined ? refOf(name, c) : arnOf(target ?? '', attribute, c);
      if (text === undefined)
        throw new Error(`cannot resolve \${${name}} in ${JSON.stringify(value)} locally`);
      return text;
    });
  }
  return fail();
}

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function statementOf(s: z.infer<typeof Statement>, c: ResolveContext): RoleStatement {
  const texts = (value: unknown) =>
    value === undefined ? undefined : list(value).map((v) => resolveText(v, c));
  const statement: RoleStatement = { effect: s.Effect };
  const fields = {
    actions: texts(s.Action),
    notActions: texts(s.NotAction),
    resources: texts(s.Resource),
    notResources: texts(s.NotResource),
  };
  for (const [key, v] of Object.entries(fields))
    if (v !== undefined) statement[key as keyof typeof fields] = v;
  if (s.Condition !== undefined) statement.conditional = true;
  return statement;
}

function pluginNames(plugins: z.infer<typeof RoleInput>['plugins']): string[] {
  if (plugins === undefined) return [];
  return Array.isArray(plugins) ? plugins : (plugins.modules ?? []);
}

function perFunctionRoleName(c: ResolveContext, key: string): string {
  const name = `${c.service}-${c.stage}-${key}-${c.region}-lambdaRole`;
  return name.length > 64 ? name.slice(0, -'-lambdaRole'.length) : name;
}

/**
 * The local roles of a printed service. `streamArns` gives each function's Kinesis event-stream ARNs (the
 * per-function plugin grants the function read access to them).
 */
export function functionRoles(
  printed: unknown,
  c: ResolveContext,
  streamArns: (functionKey: string) => string[],
): FunctionRoles {
  const p = RoleInput.parse(printed);
  const perFunction = pluginNames(p.plugins).includes('serverless-iam-roles-per-function');
  const pluginSettings = (p.custom?.['serverless-iam-roles-per-function'] ?? {}) as {
    defaultInherit?: unknown;
  };
  const iamRole = p.provider.iam?.role;
  const sharedUnknown =
    p.provider.role !== undefined ||
    typeof iamRole === 'string' ||
    (iamRole?.managedPolicies?.length ?? 0) > 0;
  const providerStatements =
    (typeof iamRole === 'object' ? iamRole.statements : undefined) ?? p.provider.iamRoleStatements ?? [];
  const roles = new Map<string, LocalRole>();
  const roleOf: Record<string, string> = {};
  const resolveAll = (statements: z.infer<typeof Statements>, fn: string) =>
    statements.map((s) => {
      try {
        return statementOf(s, c);
      } catch (error) {
        throw new Error(`function ${fn}: IAM statement: ${(error as Error).message}`);
      }
    });

  const streamGrant = (streams: string[]): RoleStatement[] =>
    streams.length === 0
      ? []
      : [
          {
            effect: 'Allow',
            actions: [
              'kinesis:GetRecords',
              'kinesis:GetShardIterator',
              'kinesis:DescribeStream',
              'kinesis:ListStreams',
            ],
            resources: streams,
          },
        ];
  const sharedName =
    (typeof iamRole === 'object' ? iamRole.name : undefined) ??
    `${c.service}-${c.stage}-${c.region}-lambdaRole`;

  for (const [key, f] of Object.entries(p.functions ?? {})) {
    if (f.role !== undefined) continue;
    if (perFunction && (f.iamRoleStatements?.length ?? 0) > 0) {
      const inherit = f.iamRoleStatementsInherit ?? pluginSettings.defaultInherit === true;
      const statements = [
        ...resolveAll(inherit ? providerStatements : [], key),
        ...resolveAll(f.iamRoleStatements ?? [], key),
        ...streamGrant(streamArns(key)),
      ];
      const name = f.iamRoleStatementsName ?? perFunctionRoleName(c, key);
      roles.set(name, { name, statements });
      roleOf[key] = name;
      continue;
    }
    if (sharedUnknown) continue;
    // serverless' shared role: the provider's statements, and read access to every stream its functions consume.
    const shared = roles.get(sharedName) ?? {
      name: sharedName,
      statements: resolveAll(providerStatements, key),
    };
    shared.statements.push(...streamGrant(streamArns(key)));
    roles.set(sharedName, shared);
    roleOf[key] = sharedName;
  }
  return { roles: [...roles.values()], roleOf };
}
