import path from 'node:path';

/**
 * What `npm run package` left in `.package/<stage>/`, read from its CloudFormation template: per Lambda function
 * its handler, the zip holding its code (the basename of `Code.S3Key`) and the zips of its layers. Works for a
 * zip per function (`<function-key>.zip`) and for one zip shared by every function alike.
 */

export interface PackagedFunction {
  /** The function's key in serverless.yml (`ingestion-gate-api`). */
  key: string;
  functionName: string;
  /** `functions/<plane>/<file>.<export>` */
  handler: string;
  /** `functions/<plane>/<file>` (the extension is the zip's) and the export. */
  module: string;
  exportName: string;
  zip: string;
  /** Zips of the layers the function has (`Ref` to a layer of this template). */
  layerZips: string[];
  /** Layers that are not part of this package (ARNs): not reproduced. */
  externalLayers: string[];
  /** The function's environment; values the template computes (Ref, GetAtt, Sub, Join) get stand-ins of their shape. */
  environment: Record<string, string>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const zipOf = (code: unknown) => {
  const key = obj(code).S3Key;
  return typeof key === 'string' ? path.posix.basename(key) : undefined;
};

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '123456789012',
  'AWS::StackName': 'bench-stack',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The physical name a resource would get: its declared name, else its logical id in lower case. */
function physicalName(id: string, resources: Json): string {
  const p = obj(obj(resources[id]).Properties);
  for (const k of [
    'BucketName',
    'Name',
    'FunctionName',
    'StateMachineName',
    'TableName',
    'QueueName',
    'TopicName',
  ])
    if (typeof p[k] === 'string') return p[k] as string;
  return id.toLowerCase();
}

function arnOf(id: string, resources: Json): string {
  const type = String(obj(resources[id]).Type ?? '');
  const name = physicalName(id, resources);
  const region = PSEUDO['AWS::Region'];
  const account = PSEUDO['AWS::AccountId'];
  if (type === 'AWS::S3::Bucket') return `arn:aws:s3:::${name}`;
  if (type === 'AWS::Kinesis::Stream') return `arn:aws:kinesis:${region}:${account}:stream/${name}`;
  if (type === 'AWS::StepFunctions::StateMachine')
    return `arn:aws:states:${region}:${account}:stateMachine:${name}`;
  if (type === 'AWS::Lambda::Function') return `arn:aws:lambda:${region}:${account}:function:${name}`;
  const service = type.split('::')[1]?.toLowerCase() ?? 'bench';
  return `arn:aws:${service}:${region}:${account}:${name}`;
}

/**
 * A stand-in for a value CloudFormation computes at deploy time, of the shape the code parses: a bucket's
 * name, an ARN, an https URL. Enough for a handler's configuration to load; nothing is contacted.
 */
export function resolveValue(v: unknown, resources: Json): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  const o = obj(v);
  if (typeof o.Ref === 'string') return PSEUDO[o.Ref] ?? physicalName(o.Ref, resources);
  const getAtt = o['Fn::GetAtt'];
  if (getAtt !== undefined) {
    const [id, attr] = Array.isArray(getAtt) ? getAtt.map(String) : String(getAtt).split('.');
    if (attr === 'Arn') return arnOf(id ?? '', resources);
    if (/Endpoint|Url|URL/.test(attr ?? ''))
      return `https://${(id ?? 'x').toLowerCase()}.execute-api.us-east-1.amazonaws.com`;
    return `bench-${(id ?? 'x').toLowerCase()}-${(attr ?? 'x').toLowerCase()}`;
  }
  const sub = o['Fn::Sub'];
  if (sub !== undefined) {
    const [text, vars] = Array.isArray(sub) ? [String(sub[0]), obj(sub[1])] : [String(sub), {}];
    return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) =>
      name in vars
        ? resolveValue(vars[name], resources)
        : (PSEUDO[name] ??
          (name.includes('.')
            ? resolveValue({ 'Fn::GetAtt': name.split('.') }, resources)
            : physicalName(name, resources))),
    );
  }
  const join = o['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1]))
    return join[1].map((part: unknown) => resolveValue(part, resources)).join(String(join[0]));
  return 'bench-placeholder';
}

export function packagedFunctions(template: unknown, service?: string, stage?: string): PackagedFunction[] {
  const resources = obj(obj(template).Resources);
  const out: PackagedFunction[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    const r = obj(resource);
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const p = obj(r.Properties);
    const handler = String(p.Handler ?? '');
    const zip = zipOf(p.Code);
    if (!zip || !handler.includes('.'))
      throw new Error(`${logicalId}: no handler or code zip in the template`);
    const functionName = typeof p.FunctionName === 'string' ? p.FunctionName : logicalId;
    const prefix = service && stage ? `${service}-${stage}-` : undefined;
    const key =
      prefix && functionName.startsWith(prefix)
        ? functionName.slice(prefix.length)
        : functionName.replace(/LambdaFunction$/, '');
    const layerZips: string[] = [];
    const externalLayers: string[] = [];
    for (const layer of Array.isArray(p.Layers) ? p.Layers : []) {
      const ref = obj(layer).Ref;
      const layerZip =
        typeof ref === 'string' ? zipOf(obj(obj(resources[ref]).Properties).Content) : undefined;
      if (layerZip) layerZips.push(layerZip);
      else externalLayers.push(JSON.stringify(layer));
    }
    const environment: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(obj(p.Environment).Variables)))
      environment[k] = resolveValue(v, resources);
    const dot = handler.lastIndexOf('.');
    out.push({
      key,
      functionName,
      handler,
      module: handler.slice(0, dot),
      exportName: handler.slice(dot + 1),
      zip,
      layerZips,
      externalLayers,
      environment,
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** `per-function` when every function has its own zip, `shared` when they share one. */
export function layoutOf(functions: PackagedFunction[]): 'per-function' | 'shared' | 'mixed' {
  const zips = new Set(functions.map((f) => f.zip));
  if (zips.size === functions.length) return 'per-function';
  return zips.size === 1 ? 'shared' : 'mixed';
}
