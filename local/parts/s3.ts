import fs from 'node:fs';
import S3rver from 's3rver';
import { enforceS3Iam } from './iam-enforcement.ts';
import { fail, onShutdown, requiredEnv } from './part-runtime.ts';
import { acceptAnyCredentials } from './s3-any-credentials.ts';
import { conditionalWrites } from './s3-conditional-writes.ts';
import { listObjects } from './s3-list-objects.ts';

// s3rver + S3 conditional writes + S3's bucket listing. Run under --openssl-legacy-provider: s3rver's ListObjectsV2
// continuation tokens use DES, which OpenSSL 3 refuses otherwise (local-cloud-findings §4).
const directory = requiredEnv('PART_DATA_DIR');
fs.mkdirSync(directory, { recursive: true });
const app = new S3rver({
  directory,
  address: '127.0.0.1',
  port: Number(requiredEnv('PART_PORT')),
  silent: process.env.PART_VERBOSE !== '1',
});
// After the logger, before routing: the functions' roles (read from the signature, so first), then any
// credentials, conditional writes, bucket listings as S3 answers them.
app.middleware.splice(
  1,
  0,
  enforceS3Iam(),
  acceptAnyCredentials(),
  conditionalWrites(app.store),
  listObjects(app.store, directory),
);
app
  .run()
  .then((address) => console.log(`s3 listening on ${address.address}:${address.port}`))
  .catch((error: unknown) => fail('s3rver', error));
onShutdown(() => app.close());
