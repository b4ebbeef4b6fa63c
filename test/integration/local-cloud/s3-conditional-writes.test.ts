import { randomUUID } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { appendLineOnce, putObjectOnce, S3AppendConflict } from '../../../lib/adapters/s3-objects.ts';
import { clientsFor } from '../../support/clients.ts';

const { state } = inject('stack');
const { s3 } = clientsFor(state);
const bucket = 'fraud-platform';
const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const body = async (key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();

describe('S3 emulator with conditional writes', () => {
  it('answers a second If-None-Match:* put with 412 and keeps the first object', async () => {
    const key = `test/${randomUUID()}/once.json`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
    const second = await s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }))
      .catch((e: unknown) => e);
    expect(status(second)).toBe(412);
    expect((second as Error).name).toBe('PreconditionFailed');
    expect(await body(key)).toBe('first');
  });

  it('applies If-Match only on the current ETag', async () => {
    const key = `test/${randomUUID()}/cas.json`;
    const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1' }));
    const v2 = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v2', IfMatch: v1.ETag }),
    );
    const stale = await s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v3', IfMatch: v1.ETag }))
      .catch((e: unknown) => e);
    expect(status(stale)).toBe(412);
    expect(await body(key)).toBe('v2');
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag).toBe(v2.ETag);
  });

  it('lets exactly one of 20 racing write-once puts win; the others get 412 or 409', async () => {
    const key = `test/${randomUUID()}/race.json`;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `writer-${i}`, IfNoneMatch: '*' })),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    // A loser answered while the winner was writing is told to retry (409, as AWS); one answered after, 412.
    const lost = results
      .map((r) => (r.status === 'rejected' ? status(r.reason) : 200))
      .filter((s) => s !== 200);
    expect(lost).toHaveLength(19);
    expect(lost.every((s) => s === 412 || s === 409)).toBe(true);
    expect(await body(key)).toMatch(/^writer-\d+$/);
  });

  it('paginates ListObjectsV2 with continuation tokens', async () => {
    const prefix = `test/${randomUUID()}/page/`;
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${i}`, Body: String(i) })),
      ),
    );
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 3, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    expect(keys.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `${prefix}${i}`));
  });

  it('putObjectOnce: of 20 racing writers exactly one creates the object; the others learn it exists (409s retried)', async () => {
    const key = `test/${randomUUID()}/once.json`;
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => putObjectOnce(s3, bucket, key, `writer-${i}`)),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await body(key)).toBe(`writer-${created.indexOf(true)}`);
  });

  it('answers 501 NotImplemented to If-None-Match other than *, and writes nothing', async () => {
    const key = `test/${randomUUID()}/etag-none-match.json`;
    const refused = await s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x', IfNoneMatch: '"abc"' }))
      .catch((e: unknown) => e);
    expect(status(refused)).toBe(501);
    expect((refused as Error).name).toBe('NotImplemented');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });

  it('lists common prefixes whose objects sit at any depth (ListObjectsV2 and v1), paginated with the delimiter', async () => {
    const run = `test/${randomUUID()}/`;
    const keys = [
      'ig/receipts/segments/a.jsonl',
      'lifecycle/P0.json',
      'obs/governance/events/e1.json',
      'run_pin.json',
      'sr/instance_receipts/x/r.json',
      'sr/ready_signal/s.json',
    ].map((k) => `${run}${k}`);
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: '{}' }))));
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: run, Delimiter: '/' }));
    expect(v2.CommonPrefixes?.map((p) => p.Prefix)).toEqual(
      ['ig/', 'lifecycle/', 'obs/', 'sr/'].map((p) => run + p),
    );
    expect(v2.Contents?.map((o) => o.Key)).toEqual([`${run}run_pin.json`]);
    expect(v2.KeyCount).toBe(5);
    const sr = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${run}sr/`, Delimiter: '/' }),
    );
    expect(sr.CommonPrefixes?.map((p) => p.Prefix)).toEqual([
      `${run}sr/instance_receipts/`,
      `${run}sr/ready_signal/`,
    ]);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: `${run}ig/`, Delimiter: '/' }));
    expect(v1.CommonPrefixes?.map((p) => p.Prefix)).toEqual([`${run}ig/receipts/`]);

    // Two items a page: keys and common prefixes count alike, and a page may end on a common prefix.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: run,
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      seen.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
        ...(page.Contents ?? []).map((o) => o.Key ?? ''),
      );
      token = page.NextContinuationToken;
      pages++;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(
      [...['ig/', 'lifecycle/', 'obs/', 'sr/'].map((p) => run + p), `${run}run_pin.json`].sort(),
    );
  });

  it('takes any credentials, as LocalStack does (test/test, or any other pair)', async () => {
    for (const credentials of [
      { accessKeyId: 'test', secretAccessKey: 'test' },
      { accessKeyId: 'some-cli-profile', secretAccessKey: 'not-a-real-key' },
    ]) {
      const other = new S3Client({
        region: state.region,
        endpoint: state.endpoints.s3,
        forcePathStyle: true,
        credentials,
      });
      const key = `test/${randomUUID()}/any-credentials.json`;
      await other.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: credentials.accessKeyId }));
      expect(await body(key)).toBe(credentials.accessKeyId);
      const listed = await other.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual([key]);
      other.destroy();
    }
  });

  it('appendLineOnce: concurrent appenders each land their line exactly once; a repeat is a no-op', async () => {
    const key = `test/${randomUUID()}/events.jsonl`;
    const lines = Array.from({ length: 6 }, (_, i) => `{"event_id":"e${i}"}`);
    // Six writers at once, with enough tries to outlast each other (each loss is one 412 and a re-read).
    await Promise.all(lines.map((line, i) => appendLineOnce(s3, bucket, key, line, `"e${i}"`, 20)));
    expect(await appendLineOnce(s3, bucket, key, lines[0] as string, '"e0"')).toBe(false);
    const got = (await body(key))?.trim().split('\n') ?? [];
    expect(got.sort()).toEqual([...lines].sort());
  });

  it('appendLineOnce gives up with S3_APPEND_CONFLICT when every try loses', async () => {
    const key = `test/${randomUUID()}/contended.jsonl`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x\n' }));
    // A writer that changes the object between each read and put: one try, and it always loses.
    const racing = { ...s3, send: s3.send.bind(s3) } as typeof s3;
    racing.send = (async (command: unknown) => {
      const c = command as { input?: { IfMatch?: string } };
      if (c.input?.IfMatch)
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${randomUUID()}\n` }));
      return s3.send(command as never);
    }) as typeof s3.send;
    await expect(appendLineOnce(racing, bucket, key, '{"event_id":"z"}', '"z"', 3)).rejects.toBeInstanceOf(
      S3AppendConflict,
    );
  });
});
