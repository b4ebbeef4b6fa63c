import { setTimeout as sleep } from 'node:timers/promises';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { kinesisClient, s3Client } from '../lib/adapters/aws-clients.ts';
import { migrate } from '../lib/adapters/postgres/migrate.ts';
import { createPool } from '../lib/adapters/postgres/pool.ts';
import type { ServiceDefinition } from './service-definition.ts';

/**
 * Creates, idempotently, every bucket and stream serverless.yml's resources declare, the database,
 * and applies the platform's migrations. Nothing here has a list of its own.
 */

export interface BootstrapTargets {
  region: string;
  s3: string;
  kinesis: string;
  postgresAdminUrl: string;
  databaseUrl: string;
  /** The local cloud's own database (ESM checkpoints); nothing of the product lives there. */
  localCloudDatabaseUrl: string;
}

export interface BootstrapResult {
  bucketsCreated: string[];
  streamsCreated: string[];
  migrationsApplied: string[];
  databaseCreated: boolean;
}

export async function bootstrap(service: ServiceDefinition, t: BootstrapTargets): Promise<BootstrapResult> {
  const [databaseCreated, migrationsApplied] = await ensureDatabase(t);
  const [bucketsCreated, streamsCreated] = await Promise.all([
    ensureBuckets(service.buckets, t),
    ensureStreams(service.streams, t),
  ]);
  return { bucketsCreated, streamsCreated, migrationsApplied, databaseCreated };
}

async function ensureDatabase(t: BootstrapTargets): Promise<[boolean, string[]]> {
  const admin = new pg.Client({ connectionString: t.postgresAdminUrl });
  await admin.connect();
  let created = false;
  try {
    for (const url of [t.databaseUrl, t.localCloudDatabaseUrl]) {
      const name = new URL(url).pathname.slice(1);
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount !== 0) continue;
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another bootstrap
      });
      if (url === t.databaseUrl) created = true;
    }
  } finally {
    await admin.end();
  }
  const pool = createPool({ connectionString: t.databaseUrl, max: 1 });
  try {
    return [created, await migrate(pool)];
  } finally {
    await pool.end();
  }
}

async function ensureBuckets(buckets: string[], t: BootstrapTargets): Promise<string[]> {
  const s3 = s3Client({ region: t.region, s3: t.s3 });
  const created: string[] = [];
  try {
    for (const bucket of buckets) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        created.push(bucket);
      } catch (error) {
        const name = (error as Error).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
      }
    }
  } finally {
    s3.destroy();
  }
  return created;
}

async function ensureStreams(streams: ServiceDefinition['streams'], t: BootstrapTargets): Promise<string[]> {
  const kinesis = kinesisClient({ region: t.region, kinesis: t.kinesis });
  const created: string[] = [];
  try {
    for (const s of streams) {
      try {
        await kinesis.send(new CreateStreamCommand({ StreamName: s.name, ShardCount: s.shards }));
        created.push(s.name);
      } catch (error) {
        if ((error as Error).name !== 'ResourceInUseException') throw error;
      }
    }
    for (const s of streams) {
      for (let i = 0; ; i++) {
        const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: s.name }));
        if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        if (i > 200) throw new Error(`stream ${s.name} did not become ACTIVE`);
        await sleep(25);
      }
    }
  } finally {
    kinesis.destroy();
  }
  return created;
}
