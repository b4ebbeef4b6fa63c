import type { PlatformEnvironment } from '../runtime/config.ts';
import { type AwsEndpoints, kinesisClient, s3Client } from './aws-clients.ts';
import { ssmSecrets } from './parameters.ts';
import { createPool, type Pool, resolveDatabaseUrl } from './postgres/pool.ts';

function endpointsOf(env: PlatformEnvironment): AwsEndpoints {
  return {
    region: env.AWS_REGION,
    s3: env.S3_ENDPOINT,
    kinesis: env.KINESIS_ENDPOINT,
    sfn: env.SFN_ENDPOINT,
    lambda: env.LAMBDA_ENDPOINT,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
  };
}

/**
 * What a Lambda that only reads and writes objects reaches: S3 and nothing else. Its bundle then holds no
 * Postgres or SSM code, so the deploy-readiness check holds its role to S3 alone.
 */
export function objectStoreDependencies(env: PlatformEnvironment) {
  const endpoints = endpointsOf(env);
  return { endpoints, s3: s3Client(endpoints) };
}

/** What a platform Lambda reaches, built from its environment alone; Postgres is connected lazily. */
export function platformDependencies(env: PlatformEnvironment) {
  const endpoints = endpointsOf(env);
  let dsn: Promise<string> | undefined;
  let pool: Promise<Pool> | undefined;
  const databaseUrl = () => {
    dsn ??= resolveDatabaseUrl(env, ssmSecrets(endpoints)).catch((error) => {
      dsn = undefined; // a failed SSM read is retried on the next invocation
      throw error;
    });
    return dsn;
  };
  return {
    endpoints,
    s3: s3Client(endpoints),
    kinesis: kinesisClient(endpoints),
    databaseUrl,
    pool: () => {
      pool ??= databaseUrl().then((connectionString) => createPool({ connectionString }));
      return pool;
    },
  };
}
export type PlatformDependencies = ReturnType<typeof platformDependencies>;
