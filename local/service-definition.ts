import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { LocalRole } from './iam/policy.ts';
import { functionRoles } from './iam/roles.ts';

/**
 * The service as serverless.yml declares it for a stage, read through `sls print` so every variable
 * (${file()}, ${env:}, ${self:}) is resolved exactly as `sls deploy` would resolve it.
 */

const StreamEventObject = z.looseObject({
  arn: z.unknown(),
  type: z.string().optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  // serverless' name for MaximumBatchingWindowInSeconds
  batchWindow: z.number().int().min(0).max(300).optional(),
  startingPosition: z.enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']).optional(),
  startingPositionTimestamp: z.number().optional(),
  enabled: z.boolean().optional(),
  maximumRetryAttempts: z.number().int().min(-1).max(10_000).optional(),
  // AWS: -1 (no limit) or 60 to 604,800 seconds.
  maximumRecordAgeInSeconds: z
    .number()
    .int()
    .refine((n) => n === -1 || (n >= 60 && n <= 604_800), 'must be -1 or 60 to 604800 (AWS)')
    .optional(),
  bisectBatchOnFunctionError: z.boolean().optional(),
  parallelizationFactor: z.number().int().min(1).max(10).optional(),
  functionResponseType: z.literal('ReportBatchItemFailures').optional(),
  tumblingWindowInSeconds: z.number().int().min(0).max(900).optional(),
  destinations: z
    .object({
      onFailure: z.union([
        z.string(),
        z.object({ arn: z.unknown(), type: z.enum(['sns', 'sqs']).optional() }),
      ]),
    })
    .optional(),
});
const StreamEvent = z.object({ stream: z.union([z.string(), StreamEventObject]) });

const FunctionDef = z.looseObject({
  handler: z.string().optional(),
  name: z.string().optional(),
  timeout: z.number().optional(),
  events: z.array(z.record(z.string(), z.unknown())).optional(),
});

const StateMachineDef = z.looseObject({
  name: z.string().optional(),
  id: z.string().optional(),
  type: z.enum(['STANDARD', 'EXPRESS']).optional(),
  definition: z.record(z.string(), z.unknown()),
});

const CfnResource = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
});

export const PrintedService = z.object({
  service: z.union([z.string(), z.object({ name: z.string() })]),
  provider: z.looseObject({
    region: z.string().optional(),
    stage: z.string().optional(),
    timeout: z.number().optional(),
  }),
  functions: z.record(z.string(), FunctionDef).optional(),
  stepFunctions: z
    .looseObject({ stateMachines: z.record(z.string(), StateMachineDef).optional() })
    .optional(),
  resources: z.looseObject({ Resources: z.record(z.string(), CfnResource).optional() }).optional(),
});
export type PrintedService = z.infer<typeof PrintedService>;

export type StreamEventConfig = Exclude<z.infer<typeof StreamEvent>['stream'], string>;

export interface ServiceFunction {
  key: string;
  name: string;
  /** Function timeout (serverless' default is 6 s). */
  timeoutSeconds: number;
  streamEvents: Array<StreamEventConfig & { streamName: string }>;
  /** `http`/`httpApi` events (routes serverless-offline serves on the HTTP port). */
  httpRoutes?: number;
  /** The role it runs as (its access key id locally), when the local cloud can read the role's statements. */
  role?: string;
}
export interface ServiceStateMachine {
  key: string;
  name: string;
  arn: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: Record<string, unknown>;
}
export interface ServiceDefinition {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  buckets: string[];
  streams: Array<{ logicalId: string; name: string; shards: number }>;
  functions: ServiceFunction[];
  stateMachines: ServiceStateMachine[];
  /** The functions' roles, their statements resolved (local/iam/roles.ts). */
  roles?: LocalRole[];
}

const execFileAsync = promisify(execFile);

/** Runs `sls print --stage <stage> --format json` in serviceDir with the given environment. */
export async function printService(
  serviceDir: string,
  stage: string,
  env: NodeJS.ProcessEnv,
): Promise<unknown> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('osls/bin/serverless.js');
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      [cli, 'print', '--stage', stage, '--format', 'json'],
      {
        cwd: serviceDir,
        env: { ...env, SLS_OFFLINE_PACKAGE: '1', SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
    );
    return JSON.parse(stdout.slice(stdout.indexOf('{')));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    const line =
      (e.stderr ?? e.message).split('\n').find((l) => /error|Error|Cannot|not/.test(l)) ?? e.message;
    throw new Error(
      `serverless.yml in ${serviceDir} could not be resolved for stage ${stage}: ${line.trim()}`,
    );
  }
}

function pascal(key: string): string {
  // serverless' logical-id normalisation: first letter upper-cased, '-' → 'Dash', '_' → 'Underscore'.
  const s = key.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Builds the local view of the service: names, streams, mappings and resolved state machines. */
export function describeService(
  printed: unknown,
  accountId: string,
  regionOverride?: string,
): ServiceDefinition {
  const p = PrintedService.parse(printed);
  const service = typeof p.service === 'string' ? p.service : p.service.name;
  const stage = p.provider.stage ?? 'local';
  const region = regionOverride ?? p.provider.region ?? 'us-east-1';
  const resources = p.resources?.Resources ?? {};

  const buckets: string[] = [];
  const bucketNameById = new Map<string, string>();
  const streams: ServiceDefinition['streams'] = [];
  const streamNameById = new Map<string, string>();
  for (const [logicalId, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::S3::Bucket') {
      const name = String(r.Properties?.BucketName ?? logicalId.toLowerCase());
      buckets.push(name);
      bucketNameById.set(logicalId, name);
    }
    if (r.Type === 'AWS::Kinesis::Stream') {
      const name = String(r.Properties?.Name ?? logicalId);
      streams.push({ logicalId, name, shards: Number(r.Properties?.ShardCount ?? 1) });
      streamNameById.set(logicalId, name);
    }
  }

  const functionName = new Map<string, string>();
  for (const [key, f] of Object.entries(p.functions ?? {}))
    functionName.set(key, f.name ?? `${service}-${stage}-${key}`);
  const lambdaArn = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;

  const functions: ServiceFunction[] = Object.entries(p.functions ?? {}).map(([key, f]) => ({
    key,
    name: functionName.get(key) ?? key,
    timeoutSeconds: f.timeout ?? p.provider.timeout ?? 6,
    httpRoutes: (f.events ?? []).filter((e) => 'http' in e || 'httpApi' in e).length,
    streamEvents: (f.events ?? [])
      .filter((e) => 'stream' in e)
      .map((e) => parseStreamEvent(e, key))
      .map((s) => (typeof s === 'string' ? { arn: s } : s))
      .filter((s) => s.type === undefined || s.type === 'kinesis')
      .map((s) => ({
        ...s,
        streamName: streamNameOf(s.arn, streamNameById, key),
        destinations: resolveDestination(s.destinations, bucketNameById),
      })),
  }));

  const machines = Object.entries(p.stepFunctions?.stateMachines ?? {}).map(([key, m]) => {
    const name = m.name ?? `${pascal(key)}StepFunctionsStateMachine-${stage}`;
    // serverless-step-functions' logical id: from `id`, else from `name`, else `<Key>StepFunctionsStateMachine`.
    const logicalId = m.id
      ? pascal(m.id)
      : m.name
        ? pascal(m.name)
        : `${pascal(key)}StepFunctionsStateMachine`;
    return { key, m, name, logicalId };
  });
  const machineArn = (name: string) => `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
  const machineByRef = new Map<string, string>();
  for (const x of machines) {
    machineByRef.set(x.logicalId, machineArn(x.name));
    machineByRef.set(x.key, machineArn(x.name));
  }

  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const o = value as Record<string, unknown>;
    if ('Fn::GetAtt' in o && Array.isArray(o['Fn::GetAtt'])) {
      const [ref] = o['Fn::GetAtt'] as string[];
      const fn =
        ref === undefined ? undefined : (functionName.get(ref) ?? functionByLogicalId(ref, functionName));
      if (fn) return lambdaArn(fn);
      const sm = ref === undefined ? undefined : machineByRef.get(ref);
      if (sm) return sm;
      throw new Error(
        `state machine definition: Fn::GetAtt ${JSON.stringify(o['Fn::GetAtt'])} names no function or state machine`,
      );
    }
    if ('Ref' in o && typeof o.Ref === 'string') {
      const sm = machineByRef.get(o.Ref);
      if (sm) return sm;
      throw new Error(`state machine definition: Ref ${o.Ref} names no state machine`);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  };

  const stateMachines = machines.map(({ key, m, name }) => ({
    key,
    name,
    arn: machineArn(name),
    type: m.type ?? 'STANDARD',
    definition: resolve(m.definition) as Record<string, unknown>,
  }));

  const refs = new Map<string, string>();
  const arns = new Map<string, string>();
  for (const [id, name] of bucketNameById) {
    refs.set(id, name);
    arns.set(id, `arn:aws:s3:::${name}`);
  }
  for (const [id, name] of streamNameById) {
    refs.set(id, name);
    arns.set(id, `arn:aws:kinesis:${region}:${accountId}:stream/${name}`);
  }
  for (const [ref, arn] of machineByRef) {
    refs.set(ref, arn);
    arns.set(ref, arn);
  }
  for (const [key, name] of functionName) {
    for (const id of [key, `${pascal(key)}LambdaFunction`]) {
      refs.set(id, name);
      arns.set(id, lambdaArn(name));
    }
  }
  const streamArnsOf = (key: string) =>
    (functions.find((f) => f.key === key)?.streamEvents ?? []).map(
      (e) => `arn:aws:kinesis:${region}:${accountId}:stream/${e.streamName}`,
    );
  const { roles, roleOf } = functionRoles(
    printed,
    { service, stage, region, accountId, refs, arns },
    streamArnsOf,
  );
  for (const f of functions) if (roleOf[f.key]) f.role = roleOf[f.key];

  return { service, stage, region, accountId, buckets, streams, functions, stateMachines, roles };
}

/** Parses one `stream` event; a bad setting is named with its function and key (`stream.batchSize`). */
function parseStreamEvent(event: Record<string, unknown>, fn: string): z.infer<typeof StreamEvent>['stream'] {
  const stream = event.stream;
  if (typeof stream === 'string') return stream;
  const parsed = StreamEventObject.safeParse(stream);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `function ${fn}: stream event stream.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
  );
}

function functionByLogicalId(ref: string, names: Map<string, string>): string | undefined {
  for (const [key, name] of names) if (`${pascal(key)}LambdaFunction` === ref) return name;
  return undefined;
}

/** An on-failure destination given as `Fn::GetAtt [Bucket, Arn]` becomes the bucket's ARN; anything else stays as text. */
function resolveDestination(
  d: StreamEventConfig['destinations'],
  buckets: Map<string, string>,
): StreamEventConfig['destinations'] {
  if (!d) return d;
  if (typeof d.onFailure === 'string') {
    // `arn:${AWS::Partition}:s3:::${Bucket}` (made a Fn::Sub for CloudFormation): the bucket's local name.
    const text = d.onFailure.replace(/\$\{([A-Za-z0-9:]+)\}/g, (whole, name: string) =>
      name === 'AWS::Partition' ? 'aws' : (buckets.get(name) ?? whole),
    );
    return { onFailure: text };
  }
  const arn = d.onFailure.arn;
  if (typeof arn === 'string') return { onFailure: arn };
  const ref = (arn as { 'Fn::GetAtt'?: unknown[] } | null)?.['Fn::GetAtt'];
  const bucket = Array.isArray(ref) && typeof ref[0] === 'string' ? buckets.get(ref[0]) : undefined;
  return { onFailure: bucket ? `arn:aws:s3:::${bucket}` : JSON.stringify(arn) };
}

function streamNameOf(arn: unknown, byId: Map<string, string>, fn: string): string {
  if (typeof arn === 'string') {
    const m = /:stream\/(.+)$/.exec(arn);
    if (m?.[1]) return m[1];
  }
  if (arn && typeof arn === 'object') {
    const o = arn as Record<string, unknown>;
    const id = Array.isArray(o['Fn::GetAtt']) ? o['Fn::GetAtt'][0] : o.Ref;
    if (typeof id === 'string' && byId.has(id)) return byId.get(id) as string;
  }
  throw new Error(
    `function ${fn}: stream event arn ${JSON.stringify(arn)} names no Kinesis stream of this service`,
  );
}

export const defaultServicePath = (dir: string) => path.join(dir, 'serverless.yml');
