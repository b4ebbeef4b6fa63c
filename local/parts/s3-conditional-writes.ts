import type { KoaLikeContext as Ctx, S3Store } from 's3rver';

/**
 * S3 conditional writes for s3rver, which ignores them, with AWS's answers:
 * - `If-None-Match: *` on PutObject and CompleteMultipartUpload answers 412 when the key exists; any other
 *   If-None-Match value, or If-None-Match together with If-Match, answers 501 NotImplemented;
 * - `If-Match: <etag>` answers 412 on a stale ETag and 404 when the key is missing;
 * - a conditional write that arrives while another write of the same key is in flight answers 409
 *   ConditionalRequestConflict (the client retries), as AWS does for a conflicting operation during the upload;
 * - a plain PUT or DELETE of a key waits for a conditional write of it in flight, so the conditional write's check
 *   and write stay atomic;
 * - reads of a key (GET, HEAD) and writes of it exclude each other, as S3's atomic writes appear to a reader:
 *   s3rver truncates the object file and rewrites it in place, so a GET streaming it while a PUT lands would send
 *   fewer bytes than its Content-Length (the client sees "aborted") or the new bytes with the old ETag. A write
 *   waits for the reads streaming the key to finish; a read arriving while a write is in flight or waiting waits
 *   for it.
 */

interface KeyState {
  /** Writes of the key in flight or waiting for its readers (conditional or plain). */
  writers: number;
  /** Settles when the conditional write in flight (if any) has finished. */
  conditional: Promise<void> | undefined;
  /** Reads of the key whose answers are still streaming. */
  readers: number;
  /** Called (and forgotten) when writers or readers change. */
  changed: Set<() => void>;
}

const keys = new Map<string, KeyState>();

function stateOf(key: string): KeyState {
  let state = keys.get(key);
  if (!state) {
    state = { writers: 0, conditional: undefined, readers: 0, changed: new Set() };
    keys.set(key, state);
  }
  return state;
}

function settle(key: string, state: KeyState): void {
  const waiting = [...state.changed];
  state.changed.clear();
  for (const wake of waiting) wake();
  if (
    state.writers === 0 &&
    state.readers === 0 &&
    state.conditional === undefined &&
    state.changed.size === 0
  )
    keys.delete(key);
}

/** Waits until `ready` holds for the key's state (or the key has no state). */
async function until(key: string, ready: (state: KeyState) => boolean): Promise<void> {
  for (let state = keys.get(key); state && !ready(state); state = keys.get(key)) {
    const current = state;
    await new Promise<void>((resolve) => current.changed.add(resolve));
  }
}

async function asWriter<T>(key: string, conditional: boolean, fn: () => Promise<T>): Promise<T> {
  const state = stateOf(key);
  state.writers++;
  let done: () => void = () => undefined;
  if (conditional) state.conditional = new Promise<void>((resolve) => (done = resolve));
  try {
    await until(key, (s) => s.readers === 0);
    return await fn();
  } finally {
    state.writers--;
    if (conditional) {
      state.conditional = undefined;
      done();
    }
    settle(key, state);
  }
}

/** A GET or HEAD of a key: after the writes in flight, held until its answer has been sent. */
async function asReader(key: string, ctx: Ctx, next: () => Promise<unknown>): Promise<unknown> {
  await until(key, (s) => s.writers === 0);
  const state = stateOf(key);
  state.readers++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    state.readers--;
    settle(key, state);
  };
  ctx.res.once('close', release);
  try {
    return await next();
  } catch (error) {
    release();
    throw error;
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

/** Answers an S3 XML error (after reading the rest of the request body). `message` is XML text. */
export async function xmlError(ctx: Ctx, status: number, code: string, message: string): Promise<void> {
  await drainBody(ctx);
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

const unquote = (etag: string) => etag.replace(/"/g, '').trim();

const PRECONDITION_FAILED = 'At least one of the pre-conditions you specified did not hold';

export function conditionalWrites(store: S3Store) {
  return async (ctx: Ctx, next: () => Promise<unknown>): Promise<unknown> => {
    const ifNoneMatch = ctx.get('if-none-match');
    const ifMatch = ctx.get('if-match');
    const isPut =
      ctx.method === 'PUT' && !('partNumber' in ctx.query) && !ctx.get('x-amz-copy-source-if-match');
    const isComplete = ctx.method === 'POST' && 'uploadId' in ctx.query;
    const isDelete = ctx.method === 'DELETE' && !('uploadId' in ctx.query);
    const [, bucket, ...rest] = decodeURIComponent(ctx.path).split('/');
    const key = rest.join('/');
    if (!bucket || !key) return next();
    const id = `${bucket}/${key}`;
    if (ctx.method === 'GET' || ctx.method === 'HEAD') return asReader(id, ctx, next);
    if (!(isPut || isComplete || isDelete)) return next();
    const conditional = (isPut || isComplete) && Boolean(ifNoneMatch || ifMatch);
    if (!conditional) {
      // A plain write waits for a conditional one in flight, then counts as in flight itself.
      for (let pending = keys.get(id)?.conditional; pending; pending = keys.get(id)?.conditional)
        await pending;
      return asWriter(id, false, next);
    }
    if ((ifNoneMatch && ifNoneMatch !== '*') || (ifNoneMatch && ifMatch)) {
      return xmlError(
        ctx,
        501,
        'NotImplemented',
        'A header you provided implies functionality that is not implemented',
      );
    }
    if ((keys.get(id)?.writers ?? 0) > 0) {
      return xmlError(
        ctx,
        409,
        'ConditionalRequestConflict',
        'A conflicting conditional operation is currently in progress against this resource. Please try again.',
      );
    }
    return asWriter(id, true, async () => {
      const exists = await store.existsObject(bucket, key);
      if (ifNoneMatch === '*' && exists) return xmlError(ctx, 412, 'PreconditionFailed', PRECONDITION_FAILED);
      if (ifMatch) {
        if (!exists) return xmlError(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
        const current = (await store.getMetadata(bucket, key)).etag ?? '';
        if (ifMatch !== '*' && unquote(ifMatch) !== unquote(current))
          return xmlError(ctx, 412, 'PreconditionFailed', PRECONDITION_FAILED);
      }
      return next();
    });
  };
}
