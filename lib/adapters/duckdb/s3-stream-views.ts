import type { S3Client } from '@aws-sdk/client-s3';
import { RequestInvalid } from '../../errors/platform-error.ts';
import type { StreamViewReader } from '../../world-streamer/ports.ts';
import { s3ObjectReader } from '../s3-object-store.ts';
import { parseS3Uri } from '../world-streamer-stores.ts';
import type { DuckDbSettings } from './stream-sort-engine.ts';
import { openStreamViewReader } from './stream-view-reader.ts';

/**
 * Stream views of engine run roots `s3://bucket/prefix`, read by DuckDB; the reader is opened on first use and
 * kept for the container (a failed open is retried on the next call).
 */
export function s3StreamViews(
  s3: S3Client,
  duckdb: DuckDbSettings,
  workspaceDir: string,
): () => Promise<StreamViewReader> {
  let reader: Promise<StreamViewReader> | undefined;
  return () => {
    reader ??= openStreamViewReader({
      open(root) {
        const uri = parseS3Uri(root);
        if (!uri)
          throw new RequestInvalid(
            'ENGINE_ROOT_INVALID',
            `engine_run_root ${root}: expected s3://bucket/prefix`,
          );
        return s3ObjectReader(s3, uri.bucket, uri.key);
      },
      duckdb,
      workspaceDir,
    }).catch((error) => {
      reader = undefined;
      throw error;
    });
    return reader;
  };
}
