import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseEvidenceRef } from '../contracts/receipts.ts';
import { InvariantViolation, PlatformError } from '../errors/platform-error.ts';

/** The HTTP status an S3 SDK error carries, if any. */
export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** How often a write-once put is sent again after S3's 409 ConditionalRequestConflict (a concurrent write). */
const CONFLICT_TRIES = 8;

/**
 * Write-once put (`If-None-Match: *`): true if created, false if the key already existed (412). A 409
 * ConditionalRequestConflict (another write of the key was in flight) is sent again after a short jittered pause,
 * as AWS asks: the retry then finds the other write (412) or none.
 */
export async function putObjectOnce(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  contentType = 'application/json',
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
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
      const status = statusOf(error);
      if (status === 412) return false;
      if (status !== 409 || attempt >= CONFLICT_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

/** The object's text, or undefined when it does not exist. */
export async function getObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await out.Body?.transformToString('utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
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
export class S3AppendConflict extends PlatformError<'S3_APPEND_CONFLICT'> {
  constructor(message: string) {
    super('S3_APPEND_CONFLICT', message, { retryable: true });
  }
}

const isMissing = (error: unknown) => statusOf(error) === 404 || (error as Error).name === 'NoSuchKey';

/** An object's bytes and ETag, or undefined when it does not exist. */
export async function getObjectWithEtag(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ body: Uint8Array; etag: string } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    if (!out.ETag) throw new InvariantViolation(`GetObject s3://${bucket}/${key} returned no ETag`);
    return { body, etag: out.ETag };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Replaces an object only if it still has `etag` (`If-Match`): false when it changed in between (412), a
 * concurrent conditional write won (409, AWS) or it is gone (404).
 */
export async function putObjectIfMatch(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | Uint8Array,
  etag: string,
  contentType = 'application/json',
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfMatch: etag }),
    );
    return true;
  } catch (error) {
    const status = statusOf(error);
    if (status === 412 || status === 409 || isMissing(error)) return false;
    throw error;
  }
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
  const contentType = 'application/x-ndjson';
  for (let attempt = 1; attempt <= tries; attempt++) {
    const current = await getObjectWithEtag(s3, bucket, key);
    const text = current ? Buffer.from(current.body).toString('utf8') : '';
    if (text.includes(marker)) return false;
    const body = `${text}${line.endsWith('\n') ? line : `${line}\n`}`;
    let written: boolean;
    try {
      written = current
        ? await putObjectIfMatch(s3, bucket, key, body, current.etag, contentType)
        : await putObjectOnce(s3, bucket, key, body, contentType);
    } catch (error) {
      // No answer (the connection dropped): the put may or may not have landed. The next try reads the object
      // again and finds the marker if it did, so retrying is safe; an answered error is not retried.
      if (statusOf(error) !== undefined || attempt >= tries) throw error;
      written = false;
    }
    if (written) return true;
    // Another writer won (412), was still writing (409), or the answer was lost: wait, then read again.
    if (attempt < tries)
      await new Promise((resolve) => setTimeout(resolve, 5 * 2 ** attempt * (0.5 + Math.random())));
  }
  throw new S3AppendConflict(`${key}: ${tries} tries lost to other writers`);
}
