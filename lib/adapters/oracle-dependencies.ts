import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../oracle-store/object-store.ts';
import { fileObjectStore } from './file-object-store.ts';
import { s3ObjectStore } from './s3-object-store.ts';

/** Where the Oracle Store functions read and write: engine run roots in the oracle-store bucket, scratch in /tmp. */

/** `file:///abs/dir` (a world on the local disk: local cloud and CLI only) or `s3://bucket/prefix`. */
export function worldSourceStore(s3: S3Client, source: string): ObjectStore {
  if (source.startsWith('file://')) return fileObjectStore(new URL(source).pathname);
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source);
  if (!m?.[1])
    throw new Error(`WORLD_SOURCE_INVALID: ${source} (expected file:///dir or s3://bucket/prefix)`);
  return s3ObjectStore(s3, m[1], m[2] ?? '');
}

export function engineRunStore(s3: S3Client, bucket: string, engineRunPrefix: string): ObjectStore {
  return s3ObjectStore(s3, bucket, engineRunPrefix);
}
