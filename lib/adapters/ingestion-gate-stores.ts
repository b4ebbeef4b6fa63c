import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import type {
  AdmissionRow,
  AdmissionStore,
  BusRecord,
  EventBus,
  EvidenceStore,
  PublishResult,
} from '../ingestion-gate/ports.ts';
import { locateRecords } from './kinesis-locate.ts';
import { type Pool, rethrowUnavailable } from './postgres/pool.ts';
import { putObjectOnce, s3Uri } from './s3-objects.ts';

/** The Ingestion Gate's ports on Postgres (migration 0002), Kinesis and S3. */

/** An ADMITTED row has no record any more (migration 0006): it reads as ''. */
const ROW_COLUMNS = `dedupe_key, state, platform_run_id, event_class, event_id, event_type, payload_hash, stream,
  partition_key, partitioning_profile_id, COALESCE(record, '') AS record, publish_attempts, last_error, eb_ref,
  receipt_ref, admitted_at_utc, created_at`;

const RESERVE_SQL = `
INSERT INTO ig_admissions (dedupe_key, state, platform_run_id, event_class, event_id, event_type, payload_hash,
  stream, partition_key, partitioning_profile_id, record, claimed_until, ts_utc, flow_id)
SELECT k, 'PUBLISH_PENDING', r, c, e, t, h, s, p, pp, rec, $11, ts, f
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
  $9::text[], $10::text[], $12::text[], $13::text[]) AS u(k, r, c, e, t, h, s, p, pp, rec, ts, f)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING dedupe_key`;

/** An envelope `ts_utc` Postgres reads as a timestamptz (RFC 3339 with a zone); anything else is not kept. */
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The record's event time and its payload's `flow_id` (exact: the record is parsed losslessly), kept with the
 * admission row for P7's alignment measure (migration 0012); null when absent or not of that form.
 */
export function admissionFacts(record: string): { ts_utc: string | null; flow_id: string | null } {
  try {
    const envelope = parseJsonLossless(record) as { ts_utc?: unknown; payload?: { flow_id?: unknown } };
    const ts = envelope.ts_utc;
    const flow = envelope.payload?.flow_id;
    return {
      ts_utc: typeof ts === 'string' && EVENT_TIME.test(ts) ? ts : null,
      flow_id:
        typeof flow === 'bigint' || (typeof flow === 'number' && Number.isSafeInteger(flow))
          ? String(flow)
          : typeof flow === 'string' && flow.length > 0 && flow.length <= 64
            ? flow
            : null,
    };
  } catch {
    return { ts_utc: null, flow_id: null };
  }
}

/** Admitted rows, receipts and quarantines of one call in one statement (atomic, one round trip). */
const COMMIT_SQL = `
WITH admitted AS (
  UPDATE ig_admissions a SET state = 'ADMITTED', eb_ref = u.eb_ref::jsonb, receipt_ref = u.receipt_ref,
    admitted_at_utc = u.admitted_at_utc, claimed_until = NULL, publish_attempts = a.publish_attempts + 1,
    record = NULL
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(dedupe_key, eb_ref, receipt_ref, admitted_at_utc)
  WHERE a.dedupe_key = u.dedupe_key
  RETURNING 1
), receipts AS (
  INSERT INTO ig_receipts (platform_run_id, receipt_id, event_id, event_type, dedupe_key, decision, eb_ref,
    receipt_ref, reason_codes_json, created_at_utc)
  SELECT r, id, e, t, d, dec, eb::jsonb, ref, rc::jsonb, at::timestamptz
  FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
    $13::text[], $14::text[]) AS u(r, id, e, t, d, dec, eb, ref, rc, at)
  ON CONFLICT (receipt_id, platform_run_id) DO NOTHING
  RETURNING 1
), quarantines AS (
  INSERT INTO ig_quarantines (quarantine_id, platform_run_id, event_id, reason_codes_json, evidence_ref,
    created_at_utc)
  SELECT q, r, e, rc::jsonb, ref, at::timestamptz
  FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
    AS u(q, r, e, rc, ref, at)
  ON CONFLICT (quarantine_id) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM admitted) AS admitted, (SELECT count(*) FROM receipts) AS receipts,
  (SELECT count(*) FROM quarantines) AS quarantines`;

const column = <T, K extends keyof T>(rows: readonly T[], key: K) => rows.map((r) => r[key]);
const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export function postgresAdmissionStore(pool: Pool): AdmissionStore {
  return guardedStore({
    async find(key) {
      const res = await pool.query<AdmissionRow>(
        `SELECT ${ROW_COLUMNS} FROM ig_admissions WHERE dedupe_key = $1`,
        [key],
      );
      return res.rows[0];
    },
    async findMany(keys) {
      const res = await pool.query<AdmissionRow>(
        `SELECT ${ROW_COLUMNS} FROM ig_admissions WHERE dedupe_key = ANY($1::text[])`,
        [keys],
      );
      return res.rows;
    },
    async reserveMany(rows, claimUntil) {
      const facts = rows.map((r) => admissionFacts(r.record));
      const res = await pool.query<{ dedupe_key: string }>(RESERVE_SQL, [
        column(rows, 'dedupe_key'),
        column(rows, 'platform_run_id'),
        column(rows, 'event_class'),
        column(rows, 'event_id'),
        column(rows, 'event_type'),
        column(rows, 'payload_hash'),
        column(rows, 'stream'),
        column(rows, 'partition_key'),
        column(rows, 'partitioning_profile_id'),
        column(rows, 'record'),
        claimUntil,
        column(facts, 'ts_utc'),
        column(facts, 'flow_id'),
      ]);
      return new Set(res.rows.map((r) => r.dedupe_key));
    },
    async claim(key, now, claimUntil) {
      const res = await pool.query(
        `UPDATE ig_admissions SET claimed_until = $3
         WHERE dedupe_key = $1 AND state = 'PUBLISH_PENDING' AND (claimed_until IS NULL OR claimed_until <= $2)`,
        [key, now, claimUntil],
      );
      return res.rowCount === 1;
    },
    async markPublished(published) {
      await pool.query(
        `UPDATE ig_admissions a SET eb_ref = u.eb_ref::jsonb
         FROM unnest($1::text[], $2::text[]) AS u(dedupe_key, eb_ref)
         WHERE a.dedupe_key = u.dedupe_key AND a.state = 'PUBLISH_PENDING'`,
        [column(published, 'dedupe_key'), published.map((p) => json(p.eb_ref))],
      );
    },
    async markPublishFailed(failures) {
      await pool.query(
        `UPDATE ig_admissions a SET publish_attempts = a.publish_attempts + 1, last_error = left(u.error, 2000),
           claimed_until = NULL
         FROM unnest($1::text[], $2::text[]) AS u(dedupe_key, error)
         WHERE a.dedupe_key = u.dedupe_key AND a.state = 'PUBLISH_PENDING'`,
        [column(failures, 'dedupe_key'), column(failures, 'error')],
      );
    },
    async commit({ admitted, receipts, quarantines }) {
      await pool.query(COMMIT_SQL, [
        column(admitted, 'dedupe_key'),
        admitted.map((a) => json(a.eb_ref)),
        column(admitted, 'receipt_ref'),
        column(admitted, 'admitted_at_utc'),
        column(receipts, 'platform_run_id'),
        column(receipts, 'receipt_id'),
        column(receipts, 'event_id'),
        column(receipts, 'event_type'),
        column(receipts, 'dedupe_key'),
        column(receipts, 'decision'),
        receipts.map((r) => json(r.eb_ref)),
        column(receipts, 'receipt_ref'),
        receipts.map((r) => json(r.reason_codes)),
        column(receipts, 'created_at_utc'),
        column(quarantines, 'quarantine_id'),
        column(quarantines, 'platform_run_id'),
        column(quarantines, 'event_id'),
        quarantines.map((q) => json(q.reason_codes)),
        column(quarantines, 'evidence_ref'),
        column(quarantines, 'created_at_utc'),
      ]);
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
  });
}

/** Every call of the store answers DatabaseUnavailable when Postgres cannot be reached (lib/adapters/postgres). */
function guardedStore(store: AdmissionStore): AdmissionStore {
  const guarded = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(store) as [string, (...a: unknown[]) => Promise<unknown>][])
    guarded[name] = (...args: unknown[]) => fn(...args).catch(rethrowUnavailable);
  return guarded as unknown as AdmissionStore;
}

/** Kinesis PutRecords limits: 500 records and 5 MiB (data plus partition keys) per call. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 5 * 1_048_576;

function chunks(records: readonly BusRecord[]): BusRecord[][] {
  const out: BusRecord[][] = [];
  let current: BusRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = Buffer.byteLength(r.data, 'utf8') + Buffer.byteLength(r.partitionKey, 'utf8');
    if (
      current.length > 0 &&
      (current.length === MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * PutRecords of canonical JSON envelopes (§6: the record is the envelope), in calls of at most 500 records and
 * 5 MiB, one after another so records of one partition key keep their order. A record Kinesis refused, or every
 * record of a call that failed, answers its error.
 */
export function kinesisEventBus(kinesis: KinesisClient, streamPrefix = ''): EventBus {
  return {
    async publish(topic, records) {
      const stream = `${streamPrefix}${topic}`;
      const results: PublishResult[] = [];
      for (const chunk of chunks(records)) {
        try {
          const out = await kinesis.send(
            new PutRecordsCommand({
              StreamName: stream,
              Records: chunk.map((r) => ({
                PartitionKey: r.partitionKey,
                Data: Buffer.from(r.data, 'utf8'),
              })),
            }),
          );
          chunk.forEach((_, i) => {
            const r = out.Records?.[i];
            results.push(
              r?.ShardId && r.SequenceNumber
                ? { shardId: r.ShardId, sequenceNumber: r.SequenceNumber }
                : {
                    error: `${r?.ErrorCode ?? 'NoResult'}: ${r?.ErrorMessage ?? 'PutRecords returned no result'}`,
                  },
            );
          });
        } catch (error) {
          const message = (error as Error).message ?? String(error);
          for (const _ of chunk) results.push({ error: message });
        }
      }
      return results;
    },
    locate: (topic, records) => locateRecords(kinesis, `${streamPrefix}${topic}`, records),
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
