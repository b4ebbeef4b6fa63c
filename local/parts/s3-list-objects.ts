import fs from 'node:fs';
import path from 'node:path';
import type { KoaLikeContext as Ctx, S3Store } from 's3rver';

/**
 * ListObjects (v1) and ListObjectsV2 for s3rver, whose own listing loses common prefixes whose objects sit two or
 * more levels below them (it prunes those directories before it has seen an object in them), counts only keys
 * against max-keys, and builds a continuation token from the last key even when the page ended on a common prefix.
 * This answers every bucket listing instead, as S3 does: keys in byte order, grouped by the delimiter into common
 * prefixes, keys and prefixes together bounded by max-keys, pagination that resumes after a key or a whole common
 * prefix, and `encoding-type=url` (which the AWS CLI always asks for).
 */

const OBJECT_SUFFIX = '._S3rver_object';
/** Query keys of a bucket listing; anything else on GET /<bucket> is a subresource s3rver answers. */
const LIST_QUERY = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'start-after',
  'continuation-token',
  'fetch-owner',
  'encoding-type',
  'marker',
  'x-id',
]);
const MAX_KEYS = 1000;

export interface ListRequest {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** Resume strictly after this item: a key, or a common prefix (then none of its keys comes again). */
  after: string;
}

export interface ListPage {
  keys: string[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last item of the page (a key or a common prefix): where the next page resumes. */
  last: string | undefined;
}

/** One page of a listing over `sortedKeys` (every key of the bucket, in byte order), as S3 pages it. */
export function listPage(sortedKeys: readonly string[], request: ListRequest): ListPage {
  const { prefix, delimiter, maxKeys, after } = request;
  const skipUnder = delimiter && after.endsWith(delimiter) && after.startsWith(prefix) ? after : undefined;
  const keys: string[] = [];
  const commonPrefixes: string[] = [];
  let last: string | undefined;
  for (const key of sortedKeys) {
    if (!key.startsWith(prefix) || key <= after) continue;
    if (skipUnder && key.startsWith(skipUnder)) continue;
    const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const item = at === -1 ? key : key.slice(0, at + delimiter.length);
    if (item === last) continue; // another key of the common prefix just listed
    if (keys.length + commonPrefixes.length >= maxKeys)
      return { keys, commonPrefixes, truncated: true, last };
    if (at === -1) keys.push(item);
    else commonPrefixes.push(item);
    last = item;
  }
  return { keys, commonPrefixes, truncated: false, last };
}

/** Every object key of a bucket that can start with `prefix`, in byte order (walks only below the prefix's folder). */
export function bucketKeys(bucketDirectory: string, prefix: string): string[] {
  const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  const start = path.join(bucketDirectory, ...folder.split('/').filter(Boolean));
  const keys: string[] = [];
  const walk = (dir: string, relative: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // the folder does not exist: no key below it
    }
    for (const entry of entries) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel);
      else if (entry.name.endsWith(OBJECT_SUFFIX)) keys.push(rel.slice(0, -OBJECT_SUFFIX.length));
    }
  };
  walk(start, folder);
  return keys
    .filter((k) => k.startsWith(prefix))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const xml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const tokenOf = (after: string) => Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');

function afterOfToken(token: string): string | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    return typeof parsed.after === 'string' ? parsed.after : undefined;
  } catch {
    return undefined;
  }
}

function errorXml(ctx: Ctx, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

export function listObjects(store: S3Store, directory: string) {
  return async (ctx: Ctx, next: () => Promise<unknown>): Promise<unknown> => {
    const segments = ctx.path.split('/').filter(Boolean);
    const bucket = segments[0];
    if (ctx.method !== 'GET' || segments.length !== 1 || !bucket) return next();
    if (Object.keys(ctx.query).some((k) => !LIST_QUERY.has(k))) return next();
    const bucketDirectory = path.join(directory, decodeURIComponent(bucket));
    if (!fs.existsSync(bucketDirectory))
      return errorXml(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist');

    const q = ctx.query;
    const v2 = text(q['list-type']) === '2';
    const prefix = text(q.prefix);
    const delimiter = text(q.delimiter);
    const urlEncoded = text(q['encoding-type']) === 'url';
    const maxKeysText = text(q['max-keys']);
    if (maxKeysText && !/^\d+$/.test(maxKeysText))
      return errorXml(
        ctx,
        400,
        'InvalidArgument',
        'Provided max-keys not an integer or within integer range',
      );
    const maxKeys = maxKeysText ? Math.min(MAX_KEYS, Number(maxKeysText)) : MAX_KEYS;
    const token = text(q['continuation-token']);
    const resumeAfter = token ? afterOfToken(token) : undefined;
    if (token && resumeAfter === undefined)
      return errorXml(ctx, 400, 'InvalidArgument', 'The continuation token provided is incorrect');
    const after = v2 ? (resumeAfter ?? text(q['start-after'])) : text(q.marker);

    const page = listPage(bucketKeys(bucketDirectory, prefix), { prefix, delimiter, maxKeys, after });
    const enc = (s: string) => xml(urlEncoded ? encodeURIComponent(s) : s);
    const owner = '<Owner><ID>123456789000</ID><DisplayName>S3rver</DisplayName></Owner>';
    const withOwner = !v2 || text(q['fetch-owner']) === 'true';
    const contents = await Promise.all(
      page.keys.map(async (key) => {
        const meta = (await store.getMetadata(bucket, key)) as Record<string, string | undefined>;
        const modified = new Date(meta['last-modified'] ?? Date.now()).toISOString();
        return `<Contents><Key>${enc(key)}</Key><LastModified>${modified}</LastModified><ETag>${xml(meta.etag ?? '')}</ETag><Size>${Number(meta['content-length'] ?? 0)}</Size><StorageClass>STANDARD</StorageClass>${withOwner ? owner : ''}</Contents>`;
      }),
    );
    const prefixes = page.commonPrefixes.map(
      (p) => `<CommonPrefixes><Prefix>${enc(p)}</Prefix></CommonPrefixes>`,
    );
    const head = [
      `<Name>${xml(bucket)}</Name>`,
      `<Prefix>${enc(prefix)}</Prefix>`,
      delimiter ? `<Delimiter>${enc(delimiter)}</Delimiter>` : '',
      `<MaxKeys>${maxKeysText || MAX_KEYS}</MaxKeys>`,
      urlEncoded ? '<EncodingType>url</EncodingType>' : '',
      `<IsTruncated>${page.truncated}</IsTruncated>`,
    ];
    const paging = v2
      ? [
          `<KeyCount>${page.keys.length + page.commonPrefixes.length}</KeyCount>`,
          token ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : '',
          page.truncated && page.last !== undefined
            ? `<NextContinuationToken>${tokenOf(page.last)}</NextContinuationToken>`
            : '',
          !token && q['start-after'] !== undefined ? `<StartAfter>${enc(after)}</StartAfter>` : '',
        ]
      : [
          `<Marker>${enc(after)}</Marker>`,
          page.truncated && delimiter && page.last !== undefined
            ? `<NextMarker>${enc(page.last)}</NextMarker>`
            : '',
        ];
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${[
      ...head,
      ...paging,
      ...contents,
      ...prefixes,
    ].join('')}</ListBucketResult>`;
    return undefined;
  };
}
