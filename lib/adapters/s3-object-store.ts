import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ObjectStore, StoredObject } from '../oracle-store/object-store.ts';
import { putObjectOnce } from './s3-objects.ts';

/** An ObjectStore over `s3://bucket/prefix` (the oracle-store bucket). */
export function s3ObjectStore(s3: S3Client, bucket: string, prefix: string): ObjectStore {
  const base = prefix.replace(/^\/+|\/+$/g, '');
  const keyOf = (key: string) => (base ? `${base}/${key}` : key);
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
    putIfAbsent: (key, body) => putObjectOnce(s3, bucket, keyOf(key), body, 'application/octet-stream'),
    async put(key, body) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(key), Body: body }));
    },
    async delete(key) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(key) }));
    },
  };
}
