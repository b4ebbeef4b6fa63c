import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { S3Store } from 's3rver';
import { describe, expect, it } from 'vitest';
import { conditionalWrites } from '../../../local/parts/s3-conditional-writes.ts';

/** An in-memory object store: `bucket/key` → etag as s3rver keeps it (quoted md5). */
class FakeStore implements S3Store {
  readonly objects = new Map<string, string>();
  readonly calls: string[] = [];
  async existsObject(bucket: string, key: string): Promise<boolean> {
    this.calls.push(`exists ${bucket}/${key}`);
    return this.objects.has(`${bucket}/${key}`);
  }
  async getMetadata(bucket: string, key: string): Promise<{ etag?: string }> {
    this.calls.push(`metadata ${bucket}/${key}`);
    return { etag: this.objects.get(`${bucket}/${key}`) };
  }
}

interface FakeCtx {
  method: string;
  path: string;
  query: Record<string, unknown>;
  status: number;
  type: string;
  body: unknown;
  /** A request whose body is empty (the middleware drains it before an early answer). */
  req: IncomingMessage;
  /** The response: a read holds its key until this emits 'close' (its answer has been sent). */
  res: ServerResponse;
  get(header: string): string;
}

function ctx(method: string, path: string, headers: Record<string, string> = {}, query = {}): FakeCtx {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    path,
    query,
    status: 404, // Koa's initial status
    type: '',
    body: undefined,
    req: Readable.from([]) as unknown as IncomingMessage,
    res: new EventEmitter() as unknown as ServerResponse,
    // Koa's ctx.get answers '' for an absent header
    get: (header) => lower[header.toLowerCase()] ?? '',
  };
}

/** A `next` that records that it ran and returns a marker. */
function nextSpy(effect: () => Promise<void> | void = () => undefined) {
  const spy = {
    calls: 0,
    next: async () => {
      spy.calls++;
      await effect();
      return 'downstream';
    },
  };
  return spy;
}

function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const ETAG = '"9e107d9d372bb6826bd81d3542a419d6"';

describe('conditionalWrites (S3 conditional PUT for s3rver)', () => {
  it('If-None-Match: * on an existing key answers 412 PreconditionFailed and does not call next', async () => {
    const store = new FakeStore();
    store.objects.set('runs/p1/run_pin.json', ETAG);
    const c = ctx('PUT', '/runs/p1/run_pin.json', { 'If-None-Match': '*' });
    const spy = nextSpy();

    await conditionalWrites(store)(c, spy.next);

    expect(spy.calls).toBe(0);
    expect(c.status).toBe(412);
    expect(c.type).toBe('application/xml');
    expect(String(c.body)).toContain('<Code>PreconditionFailed</Code>');
    expect(store.calls).toEqual(['exists runs/p1/run_pin.json']);
  });

  it('If-None-Match: * on a missing key calls next and returns its result', async () => {
    const store = new FakeStore();
    const c = ctx('PUT', '/runs/p1/run_pin.json', { 'If-None-Match': '*' });
    const spy = nextSpy();

    await expect(conditionalWrites(store)(c, spy.next)).resolves.toBe('downstream');
    expect(spy.calls).toBe(1);
    expect(c.status).toBe(404); // untouched by the middleware
    expect(c.body).toBeUndefined();
  });

  it('If-Match with a stale ETag answers 412 and does not call next', async () => {
    const store = new FakeStore();
    store.objects.set('b/k', ETAG);
    const c = ctx('PUT', '/b/k', { 'If-Match': '"00000000000000000000000000000000"' });
    const spy = nextSpy();

    await conditionalWrites(store)(c, spy.next);

    expect(spy.calls).toBe(0);
    expect(c.status).toBe(412);
    expect(String(c.body)).toContain('<Code>PreconditionFailed</Code>');
  });

  it.each([
    ['quoted as stored', ETAG],
    ['unquoted', ETAG.replace(/"/g, '')],
    ['*', '*'],
  ])('If-Match matching the current ETag (%s) calls next', async (_, header) => {
    const store = new FakeStore();
    store.objects.set('b/k', ETAG);
    const c = ctx('PUT', '/b/k', { 'If-Match': header });
    const spy = nextSpy();

    await conditionalWrites(store)(c, spy.next);

    expect(spy.calls).toBe(1);
    expect(c.status).toBe(404);
  });

  it('If-Match on a missing key answers 404 NoSuchKey and does not call next', async () => {
    const store = new FakeStore();
    const c = ctx('PUT', '/b/missing', { 'If-Match': ETAG });
    const spy = nextSpy();
    c.status = 200;

    await conditionalWrites(store)(c, spy.next);

    expect(spy.calls).toBe(0);
    expect(c.status).toBe(404);
    expect(String(c.body)).toContain('<Code>NoSuchKey</Code>');
  });

  it('CompleteMultipartUpload (POST ?uploadId) is guarded like a PUT', async () => {
    const store = new FakeStore();
    store.objects.set('b/big.bin', ETAG);
    const c = ctx('POST', '/b/big.bin', { 'If-None-Match': '*' }, { uploadId: 'u-1' });
    const spy = nextSpy();

    await conditionalWrites(store)(c, spy.next);

    expect(spy.calls).toBe(0);
    expect(c.status).toBe(412);
  });

  it.each([
    [
      'UploadPart (PUT ?partNumber)',
      ctx('PUT', '/b/k', { 'If-None-Match': '*' }, { partNumber: '1', uploadId: 'u' }),
    ],
    [
      'CopyObject with its own copy-source condition',
      ctx('PUT', '/b/k', { 'If-None-Match': '*', 'x-amz-copy-source-if-match': ETAG }),
    ],
    ['GET with If-None-Match (a read)', ctx('GET', '/b/k', { 'If-None-Match': ETAG })],
    ['POST without uploadId', ctx('POST', '/b/k', { 'If-None-Match': '*' }, { uploads: '' })],
    ['PUT without conditions', ctx('PUT', '/b/k')],
    ['PUT of a bucket', ctx('PUT', '/b', { 'If-None-Match': '*' })],
  ])('%s bypasses the check: next is called and the store is not consulted', async (_, c) => {
    const store = new FakeStore();
    store.objects.set('b/k', ETAG);
    const spy = nextSpy();

    await conditionalWrites(store)(c, spy.next);
    (c.res as unknown as EventEmitter).emit('close'); // the answer sent: a read lets the key go

    expect(spy.calls).toBe(1);
    expect(store.calls).toEqual([]);
    expect(c.status).toBe(404);
  });

  it('decodes the key from the path, keeping its slashes', async () => {
    const store = new FakeStore();
    store.objects.set('b/dir/a b.json', ETAG);
    const c = ctx('PUT', '/b/dir/a%20b.json', { 'If-None-Match': '*' });

    await conditionalWrites(store)(c, nextSpy().next);

    expect(store.calls).toEqual(['exists b/dir/a b.json']);
    expect(c.status).toBe(412);
  });

  it('a conditional writer of a key with a write in flight answers 409 ConditionalRequestConflict; its retry sees the first write (412)', async () => {
    const store = new FakeStore();
    const middleware = conditionalWrites(store);
    const firstMayFinish = deferred();
    const first = nextSpy(async () => {
      await firstMayFinish.promise;
      store.objects.set('b/k', ETAG); // the write s3rver would do downstream
    });
    const second = nextSpy(() => {
      store.objects.set('b/k', '"second"');
    });
    const c1 = ctx('PUT', '/b/k', { 'If-None-Match': '*' });
    const c2 = ctx('PUT', '/b/k', { 'If-None-Match': '*' });

    const p1 = middleware(c1, first.next);
    await middleware(c2, second.next); // answered at once, while the first is still writing
    expect(c2.status).toBe(409);
    expect(String(c2.body)).toContain('<Code>ConditionalRequestConflict</Code>');
    expect(second.calls).toBe(0);

    firstMayFinish.resolve();
    await p1;
    const retry = ctx('PUT', '/b/k', { 'If-None-Match': '*' });
    await middleware(retry, second.next);
    expect(retry.status).toBe(412);
    expect(second.calls).toBe(0);
    expect(store.objects.get('b/k')).toBe(ETAG);
  });

  it('answers 501 NotImplemented for If-None-Match other than *, or with If-Match, as AWS does', async () => {
    const store = new FakeStore();
    const middleware = conditionalWrites(store);
    const cases: Array<Record<string, string>> = [
      { 'If-None-Match': ETAG },
      { 'If-None-Match': '*', 'If-Match': ETAG },
    ];
    for (const headers of cases) {
      const write = nextSpy();
      const c = ctx('PUT', '/b/k', headers);
      await middleware(c, write.next);
      expect(c.status, JSON.stringify(headers)).toBe(501);
      expect(String(c.body)).toContain('<Code>NotImplemented</Code>');
      expect(write.calls).toBe(0);
    }
  });

  it('a plain PUT or DELETE waits for a conditional write in flight; a conditional write during a plain one is 409', async () => {
    const store = new FakeStore();
    const middleware = conditionalWrites(store);
    const order: string[] = [];
    const conditionalMayFinish = deferred();
    const conditional = middleware(
      ctx('PUT', '/b/k', { 'If-None-Match': '*' }),
      nextSpy(async () => {
        await conditionalMayFinish.promise;
        order.push('conditional');
      }).next,
    );
    const plain = middleware(ctx('PUT', '/b/k'), nextSpy(() => void order.push('plain')).next);
    const removal = middleware(ctx('DELETE', '/b/k'), nextSpy(() => void order.push('delete')).next);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]); // both wait for the conditional write

    conditionalMayFinish.resolve();
    await Promise.all([conditional, plain, removal]);
    expect(order[0]).toBe('conditional');
    expect(order.slice(1).sort()).toEqual(['delete', 'plain']);

    const plainMayFinish = deferred();
    const slowPlain = middleware(ctx('PUT', '/b/k'), nextSpy(() => plainMayFinish.promise).next);
    const during = ctx('PUT', '/b/k', { 'If-Match': ETAG });
    await middleware(during, nextSpy().next);
    expect(during.status).toBe(409);
    plainMayFinish.resolve();
    await slowPlain;
  });

  it('does not serialise writers of different keys', async () => {
    const store = new FakeStore();
    const middleware = conditionalWrites(store);
    const never = deferred();
    const blocked = nextSpy(() => never.promise);
    const other = nextSpy();

    void middleware(ctx('PUT', '/b/one', { 'If-None-Match': '*' }), blocked.next);
    await middleware(ctx('PUT', '/b/two', { 'If-None-Match': '*' }), other.next);

    expect(other.calls).toBe(1);
    never.resolve();
  });

  it('releases the key when the downstream write fails, so the next writer proceeds', async () => {
    const store = new FakeStore();
    const middleware = conditionalWrites(store);
    const failing = nextSpy(() => {
      throw new Error('disk full');
    });

    await expect(middleware(ctx('PUT', '/b/k', { 'If-None-Match': '*' }), failing.next)).rejects.toThrow(
      'disk full',
    );
    const retry = nextSpy();
    await middleware(ctx('PUT', '/b/k', { 'If-None-Match': '*' }), retry.next);
    expect(retry.calls).toBe(1);
  });

  it('three racing writers of one key: exactly one write goes through, the others are told to retry (409)', async () => {
    const store = new FakeStore();
    const middleware = conditionalWrites(store);
    const writes: number[] = [];
    const contexts = [1, 2, 3].map(() => ctx('PUT', '/b/race', { 'If-None-Match': '*' }));
    await Promise.all(
      contexts.map((c, i) =>
        middleware(c, async () => {
          await new Promise((r) => setTimeout(r, 5));
          store.objects.set('b/race', `"${i}"`);
          writes.push(i);
        }),
      ),
    );
    expect(writes).toEqual([0]);
    expect(contexts.map((c) => c.status)).toEqual([404, 409, 409]);
  });
});

describe('reads and writes of one key exclude each other (s3rver rewrites an object file in place)', () => {
  it('a PUT waits until a GET streaming the key has sent its answer; a GET waits for a PUT in flight', async () => {
    const middleware = conditionalWrites(new FakeStore());
    const order: string[] = [];
    const get = ctx('GET', '/bucket/events.jsonl');
    await middleware(get as never, async () => order.push('get served'));
    // The GET's answer is still streaming: the PUT must not start writing.
    let putStarted!: () => void;
    const started = new Promise<void>((resolve) => (putStarted = resolve));
    const releasePut: { go: () => void } = { go: () => undefined };
    const putDone = middleware(ctx('PUT', '/bucket/events.jsonl') as never, async () => {
      order.push('put writes');
      putStarted();
      await new Promise<void>((resolve) => (releasePut.go = resolve));
    });
    await Promise.resolve();
    expect(order).toEqual(['get served']);
    (get.res as unknown as EventEmitter).emit('close');
    await started;
    expect(order).toEqual(['get served', 'put writes']);
    // A GET arriving while the PUT writes waits for it.
    const second = middleware(ctx('GET', '/bucket/events.jsonl') as never, async () =>
      order.push('get 2 served'),
    );
    await Promise.resolve();
    expect(order).toEqual(['get served', 'put writes']);
    releasePut.go();
    await putDone;
    await second;
    expect(order).toEqual(['get served', 'put writes', 'get 2 served']);
  });

  it('reads of different keys, and of one key, do not wait for each other', async () => {
    const middleware = conditionalWrites(new FakeStore());
    const served: string[] = [];
    const reads = [ctx('GET', '/bucket/a'), ctx('GET', '/bucket/a'), ctx('HEAD', '/bucket/b')];
    for (const [i, read] of reads.entries())
      await middleware(read as never, async () => served.push(`${read.method} ${read.path} ${i}`));
    expect(served).toEqual(['GET /bucket/a 0', 'GET /bucket/a 1', 'HEAD /bucket/b 2']);
    for (const read of reads) (read.res as unknown as EventEmitter).emit('close');
  });
});
