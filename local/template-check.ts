import aslValidator from 'asl-validator';

/** Checks a packaged CloudFormation template: what it holds, and that each state machine is valid ASL. */

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface TemplateReport {
  counts: Record<string, number>;
  lines: string[];
  problems: string[];
}

const REQUIRED_TYPES = [
  'AWS::Lambda::Function',
  'AWS::StepFunctions::StateMachine',
  'AWS::IAM::Role',
  'AWS::Kinesis::Stream',
  'AWS::S3::Bucket',
];

/** What serverless.yml declares (from the packaged `serverless-state.json`), to hold the template against. */
export interface DeclaredService {
  functions: Array<{ name: string; streamEvents: number }>;
  stateMachines: number;
  streams: number;
}

/** serverless-state.json writes a repeated object once and `{"$ref": "$[\"a\"][\"b\"]"}` elsewhere. */
function resolveRef(root: unknown, value: unknown): unknown {
  const ref = (value as { $ref?: unknown } | null)?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('$')) return value;
  let at: unknown = root;
  for (const m of ref.matchAll(/\["([^"]*)"\]/g))
    at = (at as Record<string, unknown> | undefined)?.[m[1] ?? ''];
  return at;
}

export function declaredOf(state: unknown): DeclaredService {
  const service =
    (
      state as {
        service?: {
          functions?: Record<string, { name?: string; events?: Array<Record<string, unknown>> }>;
          stepFunctions?: { stateMachines?: Record<string, unknown> };
          resources?: { Resources?: Record<string, Resource> };
        };
      }
    ).service ?? {};
  return {
    functions: Object.entries(service.functions ?? {}).map(([key, f]) => ({
      name: f.name ?? key,
      streamEvents: (f.events ?? []).filter((e) => 'stream' in e).length,
    })),
    stateMachines: Object.keys(
      (resolveRef(state, service.stepFunctions?.stateMachines) as Record<string, unknown> | undefined) ?? {},
    ).length,
    streams: Object.values(service.resources?.Resources ?? {}).filter(
      (r) => r.Type === 'AWS::Kinesis::Stream',
    ).length,
  };
}

export function checkTemplate(template: unknown, declared?: DeclaredService): TemplateReport {
  const resources = ((template as { Resources?: Record<string, Resource> }).Resources ?? {}) as Record<
    string,
    Resource
  >;
  const counts: Record<string, number> = {};
  for (const r of Object.values(resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  const problems = REQUIRED_TYPES.filter((t) => !counts[t]).map((t) => `template holds no ${t}`);
  const lines = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, n]) => `${type}: ${n}`);

  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const definition = definitionOf(r);
    const result = aslValidator(definition, { checkArn: true, checkPaths: true });
    if (result.isValid) lines.push(`ASL ${id}: valid`);
    else problems.push(`ASL ${id}: ${result.errorsText('; ')}`);
  }
  const functionRoles = Object.values(resources).filter(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Role !== undefined,
  ).length;
  if (functionRoles !== (counts['AWS::Lambda::Function'] ?? 0)) problems.push('a function has no IAM role');
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::Lambda::LayerVersion') continue;
    const users = Object.values(resources)
      .filter((f) => f.Type === 'AWS::Lambda::Function')
      .filter((f) => JSON.stringify(f.Properties?.Layers ?? []).includes(`"${id}"`))
      .map((f) => String(f.Properties?.FunctionName));
    if (users.length === 0) problems.push(`layer ${id} is attached to no function`);
    else lines.push(`layer ${id}: ${users.join(', ')}`);
  }
  if (declared) problems.push(...missingFromTemplate(resources, counts, declared));
  return { counts, lines, problems };
}

function missingFromTemplate(
  resources: Record<string, Resource>,
  counts: Record<string, number>,
  d: DeclaredService,
): string[] {
  const problems: string[] = [];
  const names = new Set(
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => String(r.Properties?.FunctionName)),
  );
  for (const f of d.functions)
    if (!names.has(f.name)) problems.push(`function ${f.name} is not in the template`);
  const mappings = d.functions.reduce((n, f) => n + f.streamEvents, 0);
  const expectations: Array<[string, number]> = [
    ['AWS::Lambda::EventSourceMapping', mappings],
    ['AWS::StepFunctions::StateMachine', d.stateMachines],
    ['AWS::Kinesis::Stream', d.streams],
  ];
  for (const [type, want] of expectations) {
    if ((counts[type] ?? 0) !== want)
      problems.push(`template holds ${counts[type] ?? 0} ${type}, serverless.yml declares ${want}`);
  }
  return problems;
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
};

/** True when position `at` of a JSON text lies inside a string literal. */
function insideString(text: string, at: number): boolean {
  let inside = false;
  for (let i = 0; i < at; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') inside = !inside;
  }
  return inside;
}

/**
 * The definition as AWS would see it: every `${placeholder}` of its Fn::Sub replaced by a well-formed value of
 * its kind (an ARN inside a string, a number outside one, e.g. a Wait's Seconds), pseudo-parameters by theirs.
 */
function definitionOf(r: Resource): unknown {
  const object = r.Properties?.Definition;
  if (object !== undefined && typeof object === 'object') return object;
  const raw = r.Properties?.DefinitionString as unknown;
  if (typeof raw === 'string') return JSON.parse(raw);
  const sub = (raw as { 'Fn::Sub'?: [string, Record<string, unknown>] | string } | undefined)?.['Fn::Sub'];
  const [body, vars] = Array.isArray(sub) ? sub : [sub ?? '{}', {}];
  const text = body.replace(/\$\{([^}]+)\}/g, (_, name: string, offset: number) => {
    const pseudo = PSEUDO[name];
    if (pseudo) return pseudo;
    if (!insideString(body, offset)) return '1';
    const v = JSON.stringify(vars[name] ?? name);
    if (v.includes('StateMachine')) return 'arn:aws:states:us-east-1:123456789012:stateMachine:placeholder';
    return 'arn:aws:lambda:us-east-1:123456789012:function:placeholder';
  });
  return JSON.parse(text);
}
