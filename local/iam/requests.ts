import type { ActionRequest } from './policy.ts';

/**
 * Which IAM action on which resource an AWS JSON-protocol or Lambda REST request asks for, as AWS authorises it:
 * Kinesis and Step Functions by the `X-Amz-Target` operation and the ARN or name in the body, Lambda by method and
 * path. `undefined`: the local cloud cannot tell (the caller is refused rather than let through unchecked).
 */

export interface Scope {
  region: string;
  accountId: string;
}

type Body = Record<string, unknown>;

const text = (body: Body, key: string): string | undefined =>
  typeof body[key] === 'string' && body[key] !== '' ? (body[key] as string) : undefined;

/** Kinesis operations authorised on no particular resource (IAM's `*`). */
const KINESIS_ACCOUNT_LEVEL = new Set(['ListStreams', 'DescribeLimits', 'DescribeAccountSettings']);

/**
 * `Kinesis_20131202.<Operation>` → `kinesis:<Operation>` on the stream (StreamARN, else StreamName) or consumer
 * (ConsumerARN). GetRecords names its stream only inside the shard iterator: `streamOfIterator` reads it there.
 */
export function kinesisRequest(
  target: string,
  body: Body,
  scope: Scope,
  streamOfIterator?: (iterator: string) => string | undefined,
): ActionRequest[] | undefined {
  const operation = /^Kinesis_\d+\.(\w+)$/.exec(target)?.[1];
  if (!operation) return undefined;
  const action = `kinesis:${operation}`;
  if (KINESIS_ACCOUNT_LEVEL.has(operation)) return [{ action, resource: '*' }];
  const streamArn = (name: string) => `arn:aws:kinesis:${scope.region}:${scope.accountId}:stream/${name}`;
  const consumer = text(body, 'ConsumerARN');
  if (consumer) return [{ action, resource: consumer }];
  const arn = text(body, 'StreamARN');
  if (arn) return [{ action, resource: arn }];
  const name = text(body, 'StreamName');
  if (name) return [{ action, resource: streamArn(name) }];
  const iterator = text(body, 'ShardIterator');
  const fromIterator = iterator ? streamOfIterator?.(iterator) : undefined;
  return fromIterator ? [{ action, resource: streamArn(fromIterator) }] : undefined;
}

/** The ARN fields of Step Functions requests, most specific first. */
const SFN_ARN_FIELDS = ['executionArn', 'mapRunArn', 'stateMachineArn', 'activityArn', 'resourceArn'];
const SFN_ACCOUNT_LEVEL = new Set(['ListStateMachines', 'ListActivities']);

/** `AWSStepFunctions.<Operation>` → `states:<Operation>` on the execution, state machine, … the body names. */
export function stepFunctionsRequest(target: string, body: Body, scope: Scope): ActionRequest[] | undefined {
  const operation = /^AWSStepFunctions\.(\w+)$/.exec(target)?.[1];
  if (!operation) return undefined;
  const action = `states:${operation}`;
  if (SFN_ACCOUNT_LEVEL.has(operation)) return [{ action, resource: '*' }];
  for (const field of SFN_ARN_FIELDS) {
    const arn = text(body, field);
    if (arn) return [{ action, resource: arn }];
  }
  const name = text(body, 'name');
  if (operation === 'CreateStateMachine' && name)
    return [{ action, resource: `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}` }];
  if (operation === 'CreateActivity' && name)
    return [{ action, resource: `arn:aws:states:${scope.region}:${scope.accountId}:activity:${name}` }];
  return undefined;
}

/** A function named by name, partial ARN or ARN (with an optional `:qualifier`) → its ARN. */
function functionArn(nameOrArn: string, qualifier: string | null, scope: Scope): string {
  const base = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:`;
  const full = /^arn:aws[\w-]*:lambda:[^:]+:[^:]+:function:(.+)$/.exec(nameOrArn);
  const partial = /^\d{12}:function:(.+)$/.exec(nameOrArn);
  const name = full?.[1] ?? partial?.[1] ?? nameOrArn;
  return `${base}${name}${qualifier && !name.includes(':') ? `:${qualifier}` : ''}`;
}

/**
 * Lambda's REST API: Invoke → `lambda:InvokeFunction` on the function (with its qualifier), ListFunctions,
 * GetFunction, GetFunctionConfiguration, ListEventSourceMappings, GetEventSourceMapping and
 * UpdateEventSourceMapping.
 */
export function lambdaRequest(method: string, url: string, scope: Scope): ActionRequest[] | undefined {
  const [pathname = '', search = ''] = url.split('?');
  const path = pathname.replace(/\/+$/, '');
  const qualifier = new URLSearchParams(search).get('Qualifier');
  const fn = /^\/20\d\d-\d\d-\d\d\/functions\/([^/]+)(\/.*)?$/.exec(path);
  if (fn?.[1]) {
    let name = fn[1];
    try {
      name = decodeURIComponent(name);
    } catch {
      // not URL-encoded text: the name as it came
    }
    const arn = functionArn(name, qualifier, scope);
    if (method === 'POST' && (fn[2] === '/invocations' || fn[2] === '/invoke-async'))
      return [{ action: 'lambda:InvokeFunction', resource: arn }];
    if (method === 'POST' && fn[2] === '/response-streaming-invocations')
      return [{ action: 'lambda:InvokeFunction', resource: arn }];
    if (method === 'GET' && fn[2] === undefined) return [{ action: 'lambda:GetFunction', resource: arn }];
    if (method === 'GET' && fn[2] === '/configuration')
      return [{ action: 'lambda:GetFunctionConfiguration', resource: arn }];
    return undefined;
  }
  if (method === 'GET' && /^\/20\d\d-\d\d-\d\d\/functions$/.test(path))
    return [{ action: 'lambda:ListFunctions', resource: '*' }];
  if (method === 'GET' && /^\/20\d\d-\d\d-\d\d\/event-source-mappings$/.test(path))
    return [{ action: 'lambda:ListEventSourceMappings', resource: '*' }];
  const mapping = /^\/20\d\d-\d\d-\d\d\/event-source-mappings\/([^/]+)$/.exec(path);
  if (mapping?.[1] && (method === 'GET' || method === 'PUT')) {
    const arn = `arn:aws:lambda:${scope.region}:${scope.accountId}:event-source-mapping:${mapping[1]}`;
    const action = method === 'GET' ? 'lambda:GetEventSourceMapping' : 'lambda:UpdateEventSourceMapping';
    return [{ action, resource: arn }];
  }
  return undefined;
}
