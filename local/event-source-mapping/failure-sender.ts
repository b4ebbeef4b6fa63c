import fs from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type FailureRecord, failureObjectKey } from './failure-record.ts';
import type { MappingConfig } from './mapping-config.ts';

/** Delivers failure records to the mapping's on-failure destination; returns where each went. */
export function failureSender(s3: S3Client, localDir: string) {
  return async (mapping: MappingConfig, shardId: string, record: FailureRecord): Promise<string> => {
    const destination = mapping.onFailure;
    const key = failureObjectKey(mapping.uuid, shardId, new Date(record.timestamp));
    const body = JSON.stringify(record);
    if (destination?.kind === 's3') {
      await s3.send(
        new PutObjectCommand({
          Bucket: destination.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
        }),
      );
      return `s3://${destination.bucket}/${key}`;
    }
    // No destination (AWS discards the records) or SQS/SNS (not in the local cloud): kept on disk for inspection.
    const file = path.join(localDir, key.replace(/\//g, '_'));
    fs.mkdirSync(localDir, { recursive: true });
    fs.writeFileSync(file, body);
    return file;
  };
}
