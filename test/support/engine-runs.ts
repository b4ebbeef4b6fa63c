import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../../lib/adapters/world-streamer-stores.ts';

/**
 * Altered copies of an engine run already in the oracle store (a tampered gate bundle, a missing flag, another pack
 * manifest): every object under the root is copied to another prefix of the same bucket, through `edit`.
 */

/** What to write for one object: its bytes (changed or not), or undefined to leave it out of the copy. */
export type ObjectEdit = (key: string, body: Uint8Array) => Uint8Array | undefined;

/** Copies `s3://bucket/<prefix>` to `s3://bucket/<toPrefix>`; returns the new root and the keys (relative) edited away. */
export async function copyEngineRun(
  s3: S3Client,
  fromRoot: string,
  toPrefix: string,
  edit: ObjectEdit = (_key, body) => body,
): Promise<{ root: string; left: string[] }> {
  const from = parseS3Uri(fromRoot);
  if (!from) throw new Error(`not an s3:// root: ${fromRoot}`);
  const base = from.key.replace(/\/+$/, '');
  const left: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: from.bucket, Prefix: `${base}/`, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      const relative = key.slice(base.length + 1);
      const got = await s3.send(new GetObjectCommand({ Bucket: from.bucket, Key: key }));
      const body = edit(
        relative,
        await (got.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())),
      );
      if (body === undefined) {
        left.push(relative);
        continue;
      }
      await s3.send(
        new PutObjectCommand({ Bucket: from.bucket, Key: `${toPrefix}/${relative}`, Body: body }),
      );
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { root: `s3://${from.bucket}/${toPrefix}`, left };
}
