import type { KoaLikeContext as Ctx } from 's3rver';

/**
 * The local S3 takes any credentials, as LocalStack does (`test`/`test`, a CLI profile, the SDK's defaults): s3rver
 * checks signatures against its one built-in account and answers InvalidAccessKeyId to every other key. It lets
 * unsigned requests through, so the signature is removed before its check. Nothing local relies on S3 auth.
 */
const QUERY_SIGNATURE = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
  'AWSAccessKeyId',
  'Signature',
  'Expires',
];

export function acceptAnyCredentials() {
  return async (ctx: Ctx, next: () => Promise<unknown>): Promise<unknown> => {
    delete ctx.req.headers.authorization;
    delete ctx.req.headers['x-amz-security-token'];
    if ('X-Amz-Algorithm' in ctx.query || 'Signature' in ctx.query) {
      const query = { ...ctx.query };
      for (const key of QUERY_SIGNATURE) delete query[key];
      ctx.query = query;
    }
    return next();
  };
}
