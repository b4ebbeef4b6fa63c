import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type {
  ObjectReader,
  ObjectStore,
  StoredObject,
  WriteOnceStore,
} from '../oracle-store/object-store.ts';

/** Objects above this size go up in parts (lib-storage), 8 MiB each. */
const MULTIPART_THRESHOLD = 8 * 1024 * 1024;

import { putObjectOnce } from './s3-objects.ts';

function addressOf(prefix: string) {
  const base = prefix.replace(/^\/+|\/+$/g, '');
  return { base, keyOf: (key: string) => (base ? `${base}/${key}` : key) };
}

/**
 * The read side over `s3://bucket/prefix`: List, Get and Head only. A function that only reads builds this one, so
 * its bundle sends (and its role grants) no write.
 */
export function s3ObjectReader(s3: S3Client, bucket: string, prefix: string): ObjectReader {
  const { base, keyOf } = addressOf(prefix);
  return {
    root: `s3://${bucket}${base ? `/${base}` : ''}`,
    async list(sub) {
      const out: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: keyOf(sub), ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (!o.Key) continue;
          out.push({ key: base ? o.Key.slice(base.length + 1) : o.Key, size: o.Size ?? 0, etag: o.ETag });
        }
        token = page.NextContinuationToken;
      } while (token);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async get(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
        throw error;
      }
    },
    async head(key) {
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
        return { size: out.ContentLength ?? 0, sha256: out.Metadata?.sha256 };
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
        throw error;
      }
    },
  };
}

/** The reader plus write-once puts (`If-None-Match: *`): no object is ever overwritten through it. */
export function s3WriteOnceStore(s3: S3Client, bucket: string, prefix: string): WriteOnceStore {
  const { keyOf } = addressOf(prefix);
  return {
    ...s3ObjectReader(s3, bucket, prefix),
    putIfAbsent: (key, body) => putObjectOnce(s3, bucket, keyOf(key), body, 'application/octet-stream'),
  };
}

/** An ObjectStore over `s3://bucket/prefix` (the oracle-store bucket): write-once and plain puts. */
export function s3ObjectStore(s3: S3Client, bucket: string, prefix: string): ObjectStore {
  const { keyOf } = addressOf(prefix);
  return {
    ...s3WriteOnceStore(s3, bucket, prefix),
    async put(key, body, options) {
      const Metadata = options?.sha256 ? { sha256: options.sha256 } : undefined;
      if (typeof body !== 'string' && body.byteLength > MULTIPART_THRESHOLD) {
        await new Upload({
          client: s3,
          params: { Bucket: bucket, Key: keyOf(key), Body: body, Metadata },
          partSize: MULTIPART_THRESHOLD,
          queueSize: 4,
        }).done();
        return;
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(key), Body: body, Metadata }));
    },
  };
}
