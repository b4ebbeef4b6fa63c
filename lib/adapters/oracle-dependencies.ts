import type { S3Client } from '@aws-sdk/client-s3';
import { PlatformError } from '../errors/platform-error.ts';
import type { ObjectReader, ObjectStore, WriteOnceStore } from '../oracle-store/object-store.ts';
import { fileObjectStore } from './file-object-store.ts';
import { s3ObjectReader, s3ObjectStore, s3WriteOnceStore } from './s3-object-store.ts';

/** Where the Oracle Store functions read and write: engine run roots in the oracle-store bucket, scratch in /tmp. */

/** `file:///abs/dir` (a world on the local disk: local cloud and CLI only) or `s3://bucket/prefix`. */
export function worldSourceStore(s3: S3Client, source: string): ObjectReader {
  if (source.startsWith('file://')) return fileObjectStore(new URL(source).pathname);
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source);
  if (!m?.[1])
    throw new PlatformError(
      'WORLD_SOURCE_INVALID',
      `WORLD_SOURCE_INVALID: ${source} (expected file:///dir or s3://bucket/prefix)`,
    );
  return s3ObjectReader(s3, m[1], m[2] ?? '');
}

/**
 * An engine run root in the oracle-store bucket, as much of it as the function needs: read (check, plan, window
 * stats), write once (seal, finalize), or write (sync, sort window). Each function builds only its own kind, so its
 * bundle holds only those S3 calls and its role grants only them (the deploy-readiness check holds the two together).
 */
export function engineRunReader(s3: S3Client, bucket: string, engineRunPrefix: string): ObjectReader {
  return s3ObjectReader(s3, bucket, engineRunPrefix);
}

export function engineRunWriteOnceStore(
  s3: S3Client,
  bucket: string,
  engineRunPrefix: string,
): WriteOnceStore {
  return s3WriteOnceStore(s3, bucket, engineRunPrefix);
}

export function engineRunStore(s3: S3Client, bucket: string, engineRunPrefix: string): ObjectStore {
  return s3ObjectStore(s3, bucket, engineRunPrefix);
}
