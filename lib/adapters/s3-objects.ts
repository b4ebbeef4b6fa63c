import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseEvidenceRef } from '../contracts/receipts.ts';

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Write-once put (`If-None-Match: *`): true if created, false if the key already existed (412). */
export async function putObjectOnce(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  contentType = 'application/json',
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        IfNoneMatch: '*',
      }),
    );
    return true;
  } catch (error) {
    if (statusOf(error) === 412) return false;
    throw error;
  }
}

/** The object's text, or undefined when it does not exist. */
export async function getObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf8');
  } catch (error) {
    if (statusOf(error) === 404 || (error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The text of an evidence ref (a whole object, or the byte range of a segment line); undefined when absent. */
export async function readEvidenceRef(s3: S3Client, ref: string): Promise<string | undefined> {
  const { bucket, key, range } = parseEvidenceRef(ref);
  if (!range) return getObjectText(s3, bucket, key);
  try {
    const out = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${range.start}-${range.end}` }),
    );
    return await out.Body?.transformToString('utf8');
  } catch (error) {
    if (statusOf(error) === 404 || (error as Error).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** The S3 append ran out of tries (another writer kept winning); the caller logs it and goes on. */
export class S3AppendConflict extends Error {
  override readonly name = 'S3_APPEND_CONFLICT';
}

/**
 * Appends one line to a text object unless a line containing `marker` is already there: read, then a
 * conditional put (`If-Match` the ETag read, or `If-None-Match: *` when absent), up to `tries` times. Idempotent,
 * so a writer that crashed between its own record and the append repairs the log on its next try.
 */
export async function appendLineOnce(
  s3: S3Client,
  bucket: string,
  key: string,
  line: string,
  marker: string,
  tries = 5,
): Promise<boolean> {
  for (let attempt = 1; attempt <= tries; attempt++) {
    let current = '';
    let etag: string | undefined;
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      current = (await out.Body?.transformToString('utf8')) ?? '';
      etag = out.ETag;
    } catch (error) {
      if (!(statusOf(error) === 404 || (error as Error).name === 'NoSuchKey')) throw error;
    }
    if (current.includes(marker)) return false;
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${current}${line.endsWith('\n') ? line : `${line}\n`}`,
          ContentType: 'application/x-ndjson',
          ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }),
        }),
      );
      return true;
    } catch (error) {
      // 412/409: another writer won; 404: the object went away between the read and the put. Read again.
      const status = statusOf(error);
      if (status !== 412 && status !== 409 && status !== 404) throw error;
    }
  }
  throw new S3AppendConflict(`${key}: ${tries} tries lost to other writers`);
}
