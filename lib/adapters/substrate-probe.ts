import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SubstrateCheck, SubstrateProbe } from '../run-lifecycle/substrate-status.ts';
import { pendingMigrations } from './postgres/migrate.ts';
import { describeDsn, type Pool } from './postgres/pool.ts';

function reason(error: unknown): string {
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e.$metadata?.httpStatusCode;
  if (status === 404 || e.name === 'NotFound' || e.name === 'ResourceNotFoundException')
    return 'does not exist';
  return (
    [e.code, e.name !== 'Error' ? e.name : undefined, e.message].filter(Boolean).join(' ') || String(error)
  );
}

/** The substrate as S3, Kinesis and Postgres see it. */
export function awsSubstrateProbe(deps: {
  s3: S3Client;
  kinesis: KinesisClient;
  pool: () => Promise<Pool>;
  dsn: () => Promise<string>;
}): SubstrateProbe {
  return {
    async bucket(name) {
      try {
        await deps.s3.send(new HeadBucketCommand({ Bucket: name }));
        return { kind: 'bucket', name, ok: true, detail: 'exists' };
      } catch (error) {
        return { kind: 'bucket', name, ok: false, detail: reason(error) };
      }
    },
    async stream(name) {
      try {
        const out = await deps.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        const status = out.StreamDescriptionSummary?.StreamStatus ?? 'UNKNOWN';
        const ok = status === 'ACTIVE' || status === 'UPDATING';
        return { kind: 'stream', name, ok, detail: `status ${status}` };
      } catch (error) {
        return { kind: 'stream', name, ok: false, detail: reason(error) };
      }
    },
    async postgres(): Promise<SubstrateCheck> {
      let where = 'Postgres';
      try {
        where = describeDsn(await deps.dsn());
        const pending = await pendingMigrations(await deps.pool());
        return pending.length === 0
          ? { kind: 'postgres', name: where, ok: true, detail: 'reachable, schema up to date' }
          : {
              kind: 'postgres',
              name: where,
              ok: false,
              detail: `schema incomplete, pending migrations: ${pending.join(', ')}`,
            };
      } catch (error) {
        return {
          kind: 'postgres',
          name: where,
          ok: false,
          detail: `unreachable at ${where}: ${reason(error)}`,
        };
      }
    },
  };
}
