import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { EbRef } from '../contracts/receipts.ts';
import type { AdmissionRow, AdmissionStore, EventBus, EvidenceStore } from '../ingestion-gate/ports.ts';
import type { Pool } from './postgres/pool.ts';
import { putObjectOnce, s3Uri } from './s3-objects.ts';

/** The Ingestion Gate's ports on Postgres (migration 0002), Kinesis and S3. */

const ROW_COLUMNS = `dedupe_key, state, platform_run_id, event_class, event_id, event_type, payload_hash, stream,
  partition_key, partitioning_profile_id, record, publish_attempts, last_error, eb_ref, receipt_ref, admitted_at_utc`;

export function postgresAdmissionStore(pool: Pool): AdmissionStore {
  return {
    async find(key) {
      const res = await pool.query<AdmissionRow>(
        `SELECT ${ROW_COLUMNS} FROM ig_admissions WHERE dedupe_key = $1`,
        [key],
      );
      return res.rows[0];
    },
    async reserve(row, claimUntil) {
      const res = await pool.query(
        `INSERT INTO ig_admissions (dedupe_key, state, platform_run_id, event_class, event_id, event_type, payload_hash,
           stream, partition_key, partitioning_profile_id, record, claimed_until)
         VALUES ($1, 'PUBLISH_PENDING', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (dedupe_key) DO NOTHING`,
        [
          row.dedupe_key,
          row.platform_run_id,
          row.event_class,
          row.event_id,
          row.event_type,
          row.payload_hash,
          row.stream,
          row.partition_key,
          row.partitioning_profile_id,
          row.record,
          claimUntil,
        ],
      );
      return res.rowCount === 1;
    },
    async claim(key, now, claimUntil) {
      const res = await pool.query(
        `UPDATE ig_admissions SET claimed_until = $3
         WHERE dedupe_key = $1 AND state = 'PUBLISH_PENDING' AND (claimed_until IS NULL OR claimed_until <= $2)`,
        [key, now, claimUntil],
      );
      return res.rowCount === 1;
    },
    async markAdmitted(key, ebRef: EbRef, receiptRef, admittedAtUtc) {
      await pool.query(
        `UPDATE ig_admissions SET state = 'ADMITTED', eb_ref = $2, receipt_ref = $3, admitted_at_utc = $4,
           claimed_until = NULL, publish_attempts = publish_attempts + 1
         WHERE dedupe_key = $1`,
        [key, JSON.stringify(ebRef), receiptRef, admittedAtUtc],
      );
    },
    async markPublishFailed(key, error) {
      await pool.query(
        `UPDATE ig_admissions SET publish_attempts = publish_attempts + 1, last_error = $2, claimed_until = NULL
         WHERE dedupe_key = $1 AND state = 'PUBLISH_PENDING'`,
        [key, error.slice(0, 2000)],
      );
    },
    async pending(now, limit) {
      const res = await pool.query<AdmissionRow>(
        `SELECT ${ROW_COLUMNS} FROM ig_admissions
         WHERE state = 'PUBLISH_PENDING' AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY created_at LIMIT $2`,
        [now, limit],
      );
      return res.rows;
    },
    async indexReceipt(e) {
      await pool.query(
        `INSERT INTO ig_receipts (platform_run_id, receipt_id, event_id, event_type, dedupe_key, decision, eb_ref,
           receipt_ref, reason_codes_json, created_at_utc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (platform_run_id, receipt_id) DO NOTHING`,
        [
          e.platform_run_id,
          e.receipt_id,
          e.event_id,
          e.event_type,
          e.dedupe_key,
          e.decision,
          e.eb_ref ? JSON.stringify(e.eb_ref) : null,
          e.receipt_ref,
          JSON.stringify(e.reason_codes),
          e.created_at_utc,
        ],
      );
    },
    async indexQuarantine(e) {
      await pool.query(
        `INSERT INTO ig_quarantines (quarantine_id, platform_run_id, event_id, reason_codes_json, evidence_ref, created_at_utc)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (quarantine_id) DO NOTHING`,
        [
          e.quarantine_id,
          e.platform_run_id,
          e.event_id,
          JSON.stringify(e.reason_codes),
          e.evidence_ref,
          e.created_at_utc,
        ],
      );
    },
  };
}

/** PutRecord of the canonical JSON envelope; the record is the envelope (§6). */
export function kinesisEventBus(kinesis: KinesisClient): EventBus {
  return {
    async publish(stream, partitionKey, data) {
      const out = await kinesis.send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: partitionKey,
          Data: Buffer.from(data, 'utf8'),
        }),
      );
      if (!out.ShardId || !out.SequenceNumber)
        throw new Error(`PutRecord to ${stream} returned no shard or sequence`);
      return { shardId: out.ShardId, sequenceNumber: out.SequenceNumber };
    },
  };
}

/** Write-once JSON documents in the platform bucket. */
export function s3EvidenceStore(s3: S3Client, bucket: string): EvidenceStore {
  return {
    async putOnce(key, body) {
      const created = await putObjectOnce(s3, bucket, key, body);
      return { ref: s3Uri(bucket, key), created };
    },
    refOf: (key) => s3Uri(bucket, key),
  };
}
