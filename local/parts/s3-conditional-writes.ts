import type { KoaLikeContext as Ctx, S3Store } from 's3rver';

/**
 * S3 conditional writes for s3rver, which ignores them: `If-None-Match: *` on PutObject and
 * CompleteMultipartUpload answers 412 when the key exists; `If-Match: <etag>` answers 412 on a stale
 * ETag and 404 when the key is missing. A per-key mutex makes check-and-write atomic against racing writers.
 */

const locks = new Map<string, Promise<void>>();

async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  let release: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chain = previous.then(() => mine);
  locks.set(key, chain);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(key) === chain) locks.delete(key);
  }
}

/**
 * Reads the rest of the request body before an early answer: answering while a client still uploads makes Node
 * close the socket, and the client sees "aborted" instead of the 412 (seen with racing appenders under load).
 */
async function drainBody(ctx: Ctx): Promise<void> {
  const req = ctx.req;
  if (req.readableEnded || req.destroyed) return;
  await new Promise<void>((resolve) => {
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', resolve);
    req.resume();
  });
}

async function xmlError(ctx: Ctx, status: number, code: string, message: string): Promise<void> {
  await drainBody(ctx);
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

const unquote = (etag: string) => etag.replace(/"/g, '').trim();

export function conditionalWrites(store: S3Store) {
  return async (ctx: Ctx, next: () => Promise<unknown>): Promise<unknown> => {
    const ifNoneMatch = ctx.get('if-none-match');
    const ifMatch = ctx.get('if-match');
    const isPut =
      ctx.method === 'PUT' && !('partNumber' in ctx.query) && !ctx.get('x-amz-copy-source-if-match');
    const isComplete = ctx.method === 'POST' && 'uploadId' in ctx.query;
    if (!(isPut || isComplete) || (!ifNoneMatch && !ifMatch)) return next();
    const [, bucket, ...rest] = decodeURIComponent(ctx.path).split('/');
    const key = rest.join('/');
    if (!bucket || !key) return next();
    return withKeyLock(`${bucket}/${key}`, async () => {
      const exists = await store.existsObject(bucket, key);
      if (ifNoneMatch === '*' && exists) {
        return xmlError(
          ctx,
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
        );
      }
      if (ifMatch) {
        if (!exists) return xmlError(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
        const current = (await store.getMetadata(bucket, key)).etag ?? '';
        if (ifMatch !== '*' && unquote(ifMatch) !== unquote(current)) {
          return xmlError(
            ctx,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
        }
      }
      return next();
    });
  };
}
