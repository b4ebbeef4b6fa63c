import fs from 'node:fs';
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvariantViolation } from '../errors/platform-error.ts';
import type {
  Clock,
  ControlBusPublisher,
  EquivalenceRow,
  OracleWorldReader,
  RunArtifactStore,
  RunAuthority,
} from '../scenario-runner/ports.ts';
import { fileObjectStore } from './file-object-store.ts';
import type { Pool } from './postgres/pool.ts';
import { s3ObjectReader } from './s3-object-store.ts';
import { getObjectWithEtag, putObjectIfMatch, putObjectOnce, statusOf } from './s3-objects.ts';

/**
 * The Scenario Runner's ports (lib/scenario-runner/ports.ts) on Postgres (migration 0003), S3 and Kinesis
 * (control-ingress.md §3.2–§3.6).
 */

/** `sr_run_equivalence` and `sr_run_leases`, each operation one statement (or two for the equivalence row). */
export function postgresRunAuthority(pool: Pool): RunAuthority {
  return {
    async registerEquivalence(entry) {
      const inserted = await pool.query(
        `INSERT INTO sr_run_equivalence (run_equivalence_key, run_id, intent_fingerprint, first_seen_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (run_equivalence_key) DO NOTHING`,
        [entry.run_equivalence_key, entry.run_id, entry.intent_fingerprint, entry.seen_at],
      );
      const res = await pool.query<EquivalenceRow>(
        `UPDATE sr_run_equivalence SET last_seen_at = GREATEST(last_seen_at, $2)
         WHERE run_equivalence_key = $1
         RETURNING run_equivalence_key, run_id, intent_fingerprint, first_seen_at, last_seen_at`,
        [entry.run_equivalence_key, entry.seen_at],
      );
      const row = res.rows[0];
      if (!row) throw new InvariantViolation(`sr_run_equivalence row ${entry.run_equivalence_key} vanished`);
      return { row, inserted: inserted.rowCount === 1 };
    },
    async tryAcquireLease(lease) {
      const res = await pool.query(
        `INSERT INTO sr_run_leases (run_id, owner_id, lease_token, expires_at, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, lease_token = EXCLUDED.lease_token,
           expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
         WHERE sr_run_leases.expires_at <= EXCLUDED.updated_at`,
        [lease.run_id, lease.owner_id, lease.lease_token, lease.expires_at, lease.updated_at],
      );
      return res.rowCount === 1;
    },
    async renewLease(renewal) {
      const res = await pool.query(
        `UPDATE sr_run_leases SET expires_at = $4, updated_at = $3
         WHERE run_id = $1 AND lease_token = $2 AND expires_at > $3`,
        [renewal.run_id, renewal.lease_token, renewal.now, renewal.expires_at],
      );
      return res.rowCount === 1;
    },
    async releaseLease(release) {
      const res = await pool.query('DELETE FROM sr_run_leases WHERE run_id = $1 AND lease_token = $2', [
        release.run_id,
        release.lease_token,
      ]);
      return res.rowCount === 1;
    },
  };
}

const contentTypeOf = (key: string) => (key.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/json');

/** SR artifacts in the platform bucket, keys relative to its root (`<platform_run_id>/sr/…`, §3.4). */
export function s3RunArtifactStore(s3: S3Client, bucket: string): RunArtifactStore {
  return {
    root: `s3://${bucket}`,
    read: (key) => getObjectWithEtag(s3, bucket, key),
    writeOnce: (key, body) => putObjectOnce(s3, bucket, key, body, contentTypeOf(key)),
    async overwrite(key, body) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentTypeOf(key) }),
      );
    },
    replaceIfMatch: (key, body, etag) => putObjectIfMatch(s3, bucket, key, body, etag, contentTypeOf(key)),
  };
}

/**
 * Engine run roots: `s3://bucket/prefix` (the oracle-store bucket) anywhere; `file:///dir` only where local
 * worlds are allowed (the local cloud and tests). An address with nothing under it opens as undefined.
 */
export function oracleWorldReader(s3: S3Client, options: { allowFileRoots: boolean }): OracleWorldReader {
  return {
    async open(engineRunRoot) {
      if (engineRunRoot.startsWith('file://')) {
        if (!options.allowFileRoots) return undefined;
        const dir = new URL(engineRunRoot).pathname;
        if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) return undefined;
        return fileObjectStore(dir);
      }
      const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(engineRunRoot);
      if (!m?.[1]) return undefined;
      const bucket = m[1];
      const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
      try {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix ? `${prefix}/` : '', MaxKeys: 1 }),
        );
        if ((page.KeyCount ?? page.Contents?.length ?? 0) === 0) return undefined;
      } catch (error) {
        if (statusOf(error) === 404 || (error as { name?: string }).name === 'NoSuchBucket') return undefined;
        throw error;
      }
      return s3ObjectReader(s3, bucket, prefix);
    },
  };
}

/** PutRecord of the SJ control record on `sr-control-bus` (§3.6); the sequence number is the offset. */
export function kinesisControlBus(kinesis: KinesisClient, stream = 'sr-control-bus'): ControlBusPublisher {
  return {
    async publish(record) {
      const out = await kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: record.partition_key,
          Data: Buffer.from(record.stream_record, 'utf8'),
        }),
      );
      if (!out.SequenceNumber)
        throw new InvariantViolation(`PutRecord to ${stream} returned no sequence number`);
      return { offset: out.SequenceNumber };
    },
  };
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};
