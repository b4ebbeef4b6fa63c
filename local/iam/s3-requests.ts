import type { ActionRequest } from './policy.ts';

/**
 * Which IAM actions on which resources a path-style S3 request asks for (`/<bucket>/<key>?<subresource>`), as S3
 * authorises it: object actions on `arn:aws:s3:::<bucket>/<key>`, bucket actions on `arn:aws:s3:::<bucket>`.
 * HeadObject is s3:GetObject, HeadBucket and the listings s3:ListBucket, the multipart calls s3:PutObject, a copy
 * s3:GetObject on its source as well. DeleteObjects names its keys in the body, which is not read here: it is
 * checked as s3:DeleteObject on `<bucket>/*`. `undefined`: a request the local cloud cannot map.
 */

export interface S3Request {
  method: string;
  /** The path as received (URL-encoded). */
  path: string;
  /** The query's parameter names (values only where they matter). */
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

const BUCKET_GET: Record<string, string> = {
  acl: 'GetBucketAcl',
  cors: 'GetBucketCORS',
  encryption: 'GetEncryptionConfiguration',
  lifecycle: 'GetLifecycleConfiguration',
  location: 'GetBucketLocation',
  logging: 'GetBucketLogging',
  notification: 'GetBucketNotification',
  policy: 'GetBucketPolicy',
  publicAccessBlock: 'GetBucketPublicAccessBlock',
  tagging: 'GetBucketTagging',
  uploads: 'ListBucketMultipartUploads',
  versioning: 'GetBucketVersioning',
  versions: 'ListBucketVersions',
  website: 'GetBucketWebsite',
};
const BUCKET_PUT: Record<string, string> = {
  acl: 'PutBucketAcl',
  cors: 'PutBucketCORS',
  encryption: 'PutEncryptionConfiguration',
  lifecycle: 'PutLifecycleConfiguration',
  logging: 'PutBucketLogging',
  notification: 'PutBucketNotification',
  policy: 'PutBucketPolicy',
  publicAccessBlock: 'PutBucketPublicAccessBlock',
  tagging: 'PutBucketTagging',
  versioning: 'PutBucketVersioning',
  website: 'PutBucketWebsite',
};
const BUCKET_DELETE: Record<string, string> = {
  cors: 'PutBucketCORS',
  encryption: 'PutEncryptionConfiguration',
  lifecycle: 'PutLifecycleConfiguration',
  policy: 'DeleteBucketPolicy',
  publicAccessBlock: 'PutBucketPublicAccessBlock',
  tagging: 'PutBucketTagging',
  website: 'DeleteBucketWebsite',
};
const OBJECT_GET: Record<string, string> = {
  acl: 'GetObjectAcl',
  attributes: 'GetObjectAttributes',
  tagging: 'GetObjectTagging',
  uploadId: 'ListMultipartUploadParts',
};
const OBJECT_PUT: Record<string, string> = { acl: 'PutObjectAcl', tagging: 'PutObjectTagging' };

/** The first subresource of the query that the table knows. */
function subresource(query: Record<string, unknown>, table: Record<string, string>): string | undefined {
  for (const name of Object.keys(query)) if (table[name]) return table[name];
  return undefined;
}

const header = (r: S3Request, name: string): string | undefined => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `x-amz-copy-source: [/]<bucket>/<key>[?versionId=…]` → the source object's ARN. */
function copySourceArn(value: string): string {
  const [source = ''] = decode(value).split('?');
  return `arn:aws:s3:::${source.replace(/^\//, '')}`;
}

export function s3Request(r: S3Request): ActionRequest[] | undefined {
  const [, bucket = '', ...rest] = r.path.split('/');
  const key = rest.map(decode).join('/');
  const method = r.method.toUpperCase();
  const one = (action: string, resource: string): ActionRequest[] => [{ action: `s3:${action}`, resource }];
  if (bucket === '') return method === 'GET' ? one('ListAllMyBuckets', '*') : undefined;
  const bucketArn = `arn:aws:s3:::${decode(bucket)}`;
  if (key === '') {
    switch (method) {
      case 'GET':
        return one(subresource(r.query, BUCKET_GET) ?? 'ListBucket', bucketArn);
      case 'HEAD':
        return one('ListBucket', bucketArn);
      case 'PUT':
        return one(subresource(r.query, BUCKET_PUT) ?? 'CreateBucket', bucketArn);
      case 'DELETE':
        return one(subresource(r.query, BUCKET_DELETE) ?? 'DeleteBucket', bucketArn);
      case 'POST':
        return 'delete' in r.query ? one('DeleteObject', `${bucketArn}/*`) : undefined;
      default:
        return undefined;
    }
  }
  const objectArn = `${bucketArn}/${key}`;
  switch (method) {
    case 'GET':
      return one(subresource(r.query, OBJECT_GET) ?? 'GetObject', objectArn);
    case 'HEAD':
      return one('GetObject', objectArn);
    case 'PUT': {
      const named = subresource(r.query, OBJECT_PUT);
      if (named) return one(named, objectArn);
      const source = header(r, 'x-amz-copy-source');
      const put = one('PutObject', objectArn);
      return source ? [...put, ...one('GetObject', copySourceArn(source))] : put;
    }
    case 'POST':
      if ('uploads' in r.query || 'uploadId' in r.query) return one('PutObject', objectArn);
      if ('restore' in r.query) return one('RestoreObject', objectArn);
      if ('select' in r.query) return one('GetObject', objectArn);
      return undefined;
    case 'DELETE':
      if ('uploadId' in r.query) return one('AbortMultipartUpload', objectArn);
      if ('tagging' in r.query) return one('DeleteObjectTagging', objectArn);
      return one('DeleteObject', objectArn);
    default:
      return undefined;
  }
}

/** Whether a request reads one object (GetObject, HeadObject): S3 hides a missing key from a caller that may not list. */
export function readsObject(r: S3Request): { bucketArn: string } | undefined {
  const requests = s3Request(r);
  const method = r.method.toUpperCase();
  if ((method !== 'GET' && method !== 'HEAD') || requests?.[0]?.action !== 's3:GetObject') return undefined;
  const [, bucket = ''] = r.path.split('/');
  return { bucketArn: `arn:aws:s3:::${decode(bucket)}` };
}
