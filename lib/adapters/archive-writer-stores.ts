import type { S3Client } from '@aws-sdk/client-s3';
import type {
  ArchiveLedger,
  GovernanceSink,
  LedgerKey,
  LedgerRow,
  LedgerTransaction,
  SegmentStore,
} from '../archive-writer/ports.ts';
import { ledgerKeyText } from '../archive-writer/ports.ts';
import type { PlatformGovernanceEvent } from '../contracts/governance.ts';
import { s3GovernanceEventSink } from './governance-sink.ts';
import { type Pool, rethrowUnavailable } from './postgres/pool.ts';
import { inTransaction } from './postgres/projector-store.ts';
import { putObjectOnce, s3Uri } from './s3-objects.ts';

/** The Archive Writer's ports on Postgres (migration 0007) and S3 (write-once segments, governance). */

type Queryable = Pick<Pool, 'query'>;

const ROW_COLUMNS = `o.stream_id, o.topic, o.partition_id, o.offset_kind, o.offset_value, o.platform_run_id,
  o.event_id, o.event_type, o.payload_hash, o.archive_ref`;

const KEYS = `unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[])
  AS k(stream_id, topic, partition_id, offset_kind, offset_value)`;

const keyColumns = (keys: readonly LedgerKey[]) => [
  keys.map((k) => k.stream_id),
  keys.map((k) => k.topic),
  keys.map((k) => k.partition_id),
  keys.map((k) => k.offset_kind),
  keys.map((k) => k.offset_value),
];

async function find(db: Queryable, keys: readonly LedgerKey[]): Promise<LedgerRow[]> {
  if (keys.length === 0) return [];
  const res = await db.query<LedgerRow>(
    `SELECT ${ROW_COLUMNS}
     FROM archive_writer_offsets o JOIN ${KEYS} USING (stream_id, topic, partition_id, offset_kind, offset_value)`,
    keyColumns(keys),
  );
  return res.rows;
}

const ADD_COUNTERS_SQL = `
INSERT INTO archive_writer_counters (stream_id, topic, metric, value)
SELECT s, t, m, sum(d) FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS u(s, t, m, d)
GROUP BY s, t, m
ON CONFLICT (stream_id, topic, metric) DO UPDATE SET value = archive_writer_counters.value + EXCLUDED.value`;

async function addCounters(
  db: Queryable,
  deltas: Parameters<ArchiveLedger['addCounters']>[0],
): Promise<void> {
  if (deltas.length === 0) return;
  await db.query(ADD_COUNTERS_SQL, [
    deltas.map((d) => d.stream_id),
    deltas.map((d) => d.topic),
    deltas.map((d) => d.metric),
    deltas.map((d) => d.delta),
  ]);
}

function transaction(db: Queryable): LedgerTransaction {
  return {
    async insertNew(rows, at) {
      if (rows.length === 0) return new Set();
      const res = await db.query<LedgerKey>(
        `INSERT INTO archive_writer_offsets (stream_id, topic, partition_id, offset_kind, offset_value,
           platform_run_id, event_id, event_type, payload_hash, archive_ref, first_seen_at_utc, last_seen_at_utc)
         SELECT s, t, p, k, o, r, e, et, h, ref, $11, $11
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::text[], $9::text[], $10::text[]) AS u(s, t, p, k, o, r, e, et, h, ref)
         ON CONFLICT DO NOTHING
         RETURNING stream_id, topic, partition_id, offset_kind, offset_value`,
        [
          ...keyColumns(rows),
          rows.map((r) => r.platform_run_id),
          rows.map((r) => r.event_id),
          rows.map((r) => r.event_type),
          rows.map((r) => r.payload_hash),
          rows.map((r) => r.archive_ref),
          at,
        ],
      );
      return new Set(res.rows.map(ledgerKeyText));
    },
    find: (keys) => find(db, keys),
    async observe(observations, at) {
      if (observations.length === 0) return;
      const keys = observations.map((o) => o.key);
      const mismatch = observations.map((o) => (o.outcome === 'PAYLOAD_MISMATCH' ? 1 : 0));
      await db.query(
        `UPDATE archive_writer_offsets o SET seen_count = o.seen_count + u.seen,
           mismatch_count = o.mismatch_count + u.mismatched, last_seen_at_utc = $7
         FROM (SELECT s, t, p, k, v, count(*) AS seen, sum(m) AS mismatched
               FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[])
                 AS x(s, t, p, k, v, m)
               GROUP BY s, t, p, k, v) u
         WHERE (o.stream_id, o.topic, o.partition_id, o.offset_kind, o.offset_value) = (u.s, u.t, u.p, u.k, u.v)`,
        [...keyColumns(keys), mismatch, at],
      );
      const mismatches = observations.filter((o) => o.outcome === 'PAYLOAD_MISMATCH');
      if (mismatches.length === 0) return;
      await db.query(
        `INSERT INTO archive_writer_offset_mismatches (stream_id, topic, partition_id, offset_kind, offset_value,
           observed_payload_hash, platform_run_id, event_id, seen_count, first_seen_at_utc, last_seen_at_utc)
         SELECT s, t, p, k, v, h, min(r), min(e), count(*), $9, $9
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
           $8::text[]) AS u(s, t, p, k, v, h, r, e)
         GROUP BY s, t, p, k, v, h
         ON CONFLICT (stream_id, topic, partition_id, offset_kind, offset_value, observed_payload_hash)
         DO UPDATE SET seen_count = archive_writer_offset_mismatches.seen_count + EXCLUDED.seen_count,
           last_seen_at_utc = EXCLUDED.last_seen_at_utc`,
        [
          ...keyColumns(mismatches.map((o) => o.key)),
          mismatches.map((o) => o.observed_payload_hash),
          mismatches.map((o) => o.platform_run_id),
          mismatches.map((o) => o.event_id),
          at,
        ],
      );
    },
    addCounters: (deltas) => addCounters(db, deltas),
    async advance(checkpoints, at) {
      if (checkpoints.length === 0) return;
      await db.query(
        `INSERT INTO archive_writer_checkpoints (stream_id, topic, partition_id, offset_kind, next_offset,
           updated_at_utc)
         SELECT s, t, p, k, o, $6 FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[])
           AS u(s, t, p, k, o)
         ON CONFLICT (stream_id, topic, partition_id) DO UPDATE
         SET next_offset = EXCLUDED.next_offset, offset_kind = EXCLUDED.offset_kind,
           updated_at_utc = EXCLUDED.updated_at_utc
         WHERE EXCLUDED.next_offset::numeric > archive_writer_checkpoints.next_offset::numeric`,
        [
          checkpoints.map((c) => c.stream_id),
          checkpoints.map((c) => c.topic),
          checkpoints.map((c) => c.partition_id),
          checkpoints.map((c) => c.offset_kind),
          checkpoints.map((c) => c.next_offset),
          at,
        ],
      );
    },
  };
}

/** The ledger on Postgres; every call answers DatabaseUnavailable when Postgres cannot be reached. */
export function postgresArchiveLedger(pool: Pool): ArchiveLedger {
  return {
    find: (keys) => find(pool, keys).catch(rethrowUnavailable),
    addCounters: (deltas) => addCounters(pool, deltas).catch(rethrowUnavailable),
    commit: (work) => inTransaction(pool, (client) => work(transaction(client))),
    async summary(streamId, refLimit) {
      try {
        const counters = await pool.query<{ topic: string; metric: string; value: string }>(
          'SELECT topic, metric, value FROM archive_writer_counters WHERE stream_id = $1 ORDER BY topic, metric',
          [streamId],
        );
        const refs = await pool.query<{ archive_ref: string }>(
          `SELECT archive_ref FROM (
             SELECT archive_ref, first_seen_at_utc, topic, partition_id, offset_value FROM archive_writer_offsets
             WHERE stream_id = $1 ORDER BY first_seen_at_utc DESC, topic DESC, partition_id DESC,
               offset_value::numeric DESC LIMIT $2) r
           ORDER BY first_seen_at_utc, topic, partition_id, offset_value::numeric`,
          [streamId, refLimit],
        );
        return {
          counters: counters.rows.map((r) => ({ topic: r.topic, metric: r.metric, value: Number(r.value) })),
          recent_refs: refs.rows.map((r) => r.archive_ref),
        };
      } catch (error) {
        return rethrowUnavailable(error);
      }
    },
  };
}

/** Write-once segment objects in the platform bucket. */
export function s3SegmentStore(s3: S3Client, bucket: string): SegmentStore {
  return {
    putOnce: (key, body) => putObjectOnce(s3, bucket, key, body, 'application/x-ndjson'),
    refOf: (key) => s3Uri(bucket, key),
  };
}

/** Governance anomalies through the platform's governance writer. */
export function s3ArchiveGovernanceSink(s3: S3Client, platformBucket: string): GovernanceSink {
  return s3GovernanceEventSink<PlatformGovernanceEvent>(s3, platformBucket);
}
