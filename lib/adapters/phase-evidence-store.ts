import type { S3Client } from '@aws-sdk/client-s3';
import type { PhaseEvidenceStore } from '../run-lifecycle/phase-evidence.ts';
import { getObjectText, putObjectOnce, s3Uri } from './s3-objects.ts';

/** Lifecycle phase evidence as write-once objects in the platform bucket. */
export function s3PhaseEvidenceStore(s3: S3Client, bucket: string): PhaseEvidenceStore {
  return {
    async writeOnce(key, body) {
      const ref = s3Uri(bucket, key);
      if (await putObjectOnce(s3, bucket, key, body)) return { ref, created: true, identical: true };
      return { ref, created: false, identical: (await getObjectText(s3, bucket, key)) === body };
    },
  };
}
