import { describe, expect, it } from 'vitest';
import { kinesisClient, s3Client } from '../../../lib/adapters/aws-clients.ts';
import { objectStoreDependencies } from '../../../lib/adapters/platform-dependencies.ts';
import { PlatformEnvironment, parseConfig } from '../../../lib/runtime/config.ts';

const accessKeyOf = async (client: { config: { credentials: () => Promise<{ accessKeyId: string }> } }) =>
  (await client.config.credentials()).accessKeyId;

describe('AWS clients on a local endpoint', () => {
  it("sign with the caller's access key id (a local Lambda's names its role), else s3rver's", async () => {
    expect(await accessKeyOf(s3Client({ region: 'us-east-1', s3: 'http://127.0.0.1:1' }))).toBe('S3RVER');
    expect(
      await accessKeyOf(
        kinesisClient({ region: 'us-east-1', kinesis: 'http://127.0.0.1:1', accessKeyId: 'svc-local-gate' }),
      ),
    ).toBe('svc-local-gate');
  });

  it("take a function's access key id from its environment", async () => {
    const env = parseConfig(PlatformEnvironment, {
      STAGE: 'local',
      ORACLE_STORE_BUCKET: 'oracle-store',
      PLATFORM_BUCKET: 'fraud-platform',
      REQUIRED_STREAMS: 'traffic',
      DATABASE_URL: 'postgres://u@127.0.0.1:1/db',
      S3_ENDPOINT: 'http://127.0.0.1:1',
      AWS_ACCESS_KEY_ID: 'fraud-platform-local-run-pin',
    });
    expect(await accessKeyOf(objectStoreDependencies(env).s3)).toBe('fraud-platform-local-run-pin');
  });
});
