/**
 * Which part of the local cloud an AWS request is for, as LocalStack's edge decides it: by the JSON protocol's
 * target header, else by the service in the SigV4 credential scope (header or presigned query), else by path.
 */

export type EdgeTarget = 's3' | 'kinesis' | 'sfn' | 'lambda' | 'esm';

export interface EdgeRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

const header = (r: EdgeRequest, name: string): string => {
  const v = r.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

/** The service of the SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
export function signedService(r: EdgeRequest): string | undefined {
  const scope = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(header(r, 'authorization'));
  if (scope?.[1]) return scope[1];
  const query = new URL(r.url, 'http://edge').searchParams.get('X-Amz-Credential');
  return query?.split('/')[3];
}

const LAMBDA_API = /^\/20\d\d-\d\d-\d\d\//;
const MAPPINGS = /^\/2015-03-31\/event-source-mappings/;

export function routeOf(r: EdgeRequest): EdgeTarget {
  const target = header(r, 'x-amz-target');
  if (target.startsWith('Kinesis_')) return 'kinesis';
  if (target.startsWith('AWSStepFunctions')) return 'sfn';
  const path = new URL(r.url, 'http://edge').pathname;
  const lambdaPart = (): EdgeTarget => (MAPPINGS.test(path) ? 'esm' : 'lambda');
  switch (signedService(r)) {
    case 's3':
      return 's3';
    case 'kinesis':
      return 'kinesis';
    case 'states':
      return 'sfn';
    case 'lambda':
      return lambdaPart();
    default:
      return LAMBDA_API.test(path) ? lambdaPart() : 's3';
  }
}
