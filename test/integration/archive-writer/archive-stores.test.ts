import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  postgresArchiveLedger,
  s3ArchiveGovernanceSink,
  s3SegmentStore,
} from '../../../lib/adapters/archive-writer-stores.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { getObjectText, readEvidenceRef } from '../../../lib/adapters/s3-objects.ts';
import { archiveBatch } from '../../../lib/archive-writer/archive-batch.ts';
import type { ArchiveWriterPorts, ArchiveWriterSettings } from '../../../lib/archive-writer/ports.ts';
import { healthDocument, reconciliationDocument } from '../../../lib/archive-writer/reports.ts';
import { type ArchiveBusRecord, ArchiveRecord } from '../../../lib/contracts/archive.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { clientsFor } from '../../support/clients.ts';

/** The Archive Writer core on the real parts: Postgres (ledger, migration 0007) and the S3 emulator. */

const { state } = inject('stack');
const { s3 } = clientsFor(state);
const pool = createPool({ connectionString: state.databaseUrl });
afterAll(async () => {
  await pool.end();
});

const BUCKET = 'fraud-platform';
/** A run of its own (a minute of an hour no other test uses), so reruns on one database do not meet. */
const RUN = `platform_20270101T${String(new Date().getUTCHours()).padStart(2, '0')}${String(
  new Date().getUTCMinutes(),
).padStart(2, '0')}${String(new Date().getUTCSeconds()).padStart(2, '0')}Z`;
const SCOPE = `archive_writer.v0::${RUN}`;
const TOPIC = 'fp.bus.traffic.fraud.v1';

const settings: ArchiveWriterSettings = {
  streamBase: 'archive_writer.v0',
  requiredPlatformRunId: RUN,
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
};
const ports: ArchiveWriterPorts = {
  ledger: postgresArchiveLedger(pool),
  segments: s3SegmentStore(s3, BUCKET),
  governance: s3ArchiveGovernanceSink(s3, BUCKET),
  now: () => new Date(),
};

let sequence = 49_650_000_000_000_000_000_000_000_000_000_000_000_000_000n;
function busRecord(payload: Record<string, unknown> = {}, offset?: string): ArchiveBusRecord {
  sequence += 1n;
  const n = sequence;
  return {
    topic: TOPIC,
    partition: 1,
    offset: offset ?? String(n),
    offset_kind: 'kinesis_sequence',
    data: canonicalJson({
      event_id: `evt-${n}`,
      event_type: 's3_event_stream_with_fraud_6B',
      ts_utc: '2026-03-08T00:01:03.106979Z',
      manifest_fingerprint: 'a'.repeat(64),
      parameter_hash: 'b'.repeat(64),
      seed: 18_446_744_073_709_551_615n,
      scenario_id: 'baseline_v1',
      platform_run_id: RUN,
      scenario_run_id: '2'.repeat(32),
      payload: { flow_id: 18_446_744_073_709_551_000n, amount: 12.5, ...payload },
    }),
  };
}

async function counters(): Promise<Partial<Record<string, number>>> {
  const res = await pool.query<{ metric: string; value: string }>(
    'SELECT metric, sum(value) AS value FROM archive_writer_counters WHERE stream_id = $1 GROUP BY metric',
    [SCOPE],
  );
  return Object.fromEntries(res.rows.map((r) => [r.metric, Number(r.value)]));
}

describe('Archive Writer on Postgres and S3', () => {
  it('writes one segment, every archive_ref reads back its record by byte range, the ledger and checkpoint follow', async () => {
    const batch = [busRecord(), busRecord({ note: 'café ✓ 😀' }), busRecord()];
    const out = await archiveBatch(ports, settings, batch);
    expect(out.records.map((r) => r.outcome)).toEqual(['NEW', 'NEW', 'NEW']);
    expect(out.segments).toHaveLength(1);
    expect(await getObjectText(s3, BUCKET, out.segments[0] as string)).toBeDefined();

    for (const [i, r] of out.records.entries()) {
      const text = (await readEvidenceRef(s3, r.archive_ref as string)) as string;
      const record = ArchiveRecord.parse(parseJsonLossless(text));
      const data = (batch[i] as ArchiveBusRecord).data;
      expect(canonicalJson(record.envelope)).toBe(data);
      expect(record.payload_hash).toBe(sha256Hex(data));
      expect(record.seed).toBe('18446744073709551615');
      expect(record.origin_offset.offset).toBe((batch[i] as ArchiveBusRecord).offset);
    }
    const rows = await pool.query(
      `SELECT offset_value, payload_hash, archive_ref FROM archive_writer_offsets WHERE stream_id = $1
       ORDER BY offset_value::numeric`,
      [SCOPE],
    );
    expect(rows.rows).toEqual(
      out.records.map((r, i) => ({
        offset_value: (batch[i] as ArchiveBusRecord).offset,
        payload_hash: sha256Hex((batch[i] as ArchiveBusRecord).data),
        archive_ref: r.archive_ref,
      })),
    );
    const checkpoint = await pool.query(
      'SELECT next_offset FROM archive_writer_checkpoints WHERE stream_id = $1 AND topic = $2 AND partition_id = 1',
      [SCOPE, TOPIC],
    );
    expect(checkpoint.rows[0]?.next_offset).toBe((batch[2] as ArchiveBusRecord).offset);
  });

  it('a replayed batch is all DUPLICATE; another payload at a known offset is a mismatch row and an anomaly', async () => {
    const batch = [busRecord(), busRecord()];
    const first = await archiveBatch(ports, settings, batch);
    const before = await counters();
    const again = await archiveBatch(ports, settings, batch);
    expect(again.records.map((r) => r.outcome)).toEqual(['DUPLICATE', 'DUPLICATE']);
    expect(again.segments).toEqual([]);

    const target = batch[0] as ArchiveBusRecord;
    const changed = { ...busRecord({ amount: 99 }, target.offset) };
    const mismatch = await archiveBatch(ports, settings, [changed]);
    expect(mismatch.records[0]).toMatchObject({
      outcome: 'PAYLOAD_MISMATCH',
      archive_ref: first.records[0]?.archive_ref,
    });
    const row = await pool.query(
      'SELECT payload_hash, seen_count, mismatch_count FROM archive_writer_offsets WHERE stream_id = $1 AND offset_value = $2',
      [SCOPE, target.offset],
    );
    expect(row.rows[0]).toEqual({
      payload_hash: sha256Hex(target.data),
      seen_count: '3',
      mismatch_count: '1',
    });
    const mismatches = await pool.query(
      'SELECT observed_payload_hash FROM archive_writer_offset_mismatches WHERE stream_id = $1 AND offset_value = $2',
      [SCOPE, target.offset],
    );
    expect(mismatches.rows).toEqual([{ observed_payload_hash: sha256Hex(changed.data) }]);
    const events = (await getObjectText(s3, BUCKET, `${RUN}/obs/governance/events.jsonl`)) ?? '';
    const anomaly = events
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .find((e) => e.details?.origin_offset?.offset === target.offset);
    expect(anomaly).toMatchObject({
      event_family: 'CORRIDOR_ANOMALY',
      details: { reason_code: 'REPLAY_BASIS_MISMATCH', observed_payload_hash: sha256Hex(changed.data) },
    });
    expect(
      await getObjectText(s3, BUCKET, `${RUN}/obs/governance/events/${anomaly.event_id}.json`),
    ).toBeDefined();
    const after = await counters();
    expect((after.duplicate_total ?? 0) - (before.duplicate_total ?? 0)).toBe(2);
    expect((after.payload_mismatch_total ?? 0) - (before.payload_mismatch_total ?? 0)).toBe(1);
  });

  it('two concurrent deliveries of one batch archive each record once; the loser answers DUPLICATE', async () => {
    const batch = Array.from({ length: 20 }, () => busRecord());
    const before = await counters();
    const [a, b] = await Promise.all([
      archiveBatch(ports, settings, batch),
      archiveBatch(ports, settings, batch),
    ]);
    const outcomes = [...(a?.records ?? []), ...(b?.records ?? [])].map((r) => r.outcome);
    expect(outcomes.filter((o) => o === 'NEW')).toHaveLength(20);
    expect(outcomes.filter((o) => o === 'DUPLICATE')).toHaveLength(20);
    const rows = await pool.query(
      'SELECT count(*)::int AS n FROM archive_writer_offsets WHERE stream_id = $1 AND offset_value = ANY($2::text[])',
      [SCOPE, batch.map((r) => r.offset)],
    );
    expect(rows.rows[0]?.n).toBe(20);
    const after = await counters();
    expect((after.archived_total ?? 0) - (before.archived_total ?? 0)).toBe(20);
    expect((after.seen_total ?? 0) - (before.seen_total ?? 0)).toBe(40);
  });

  it('a commit that fails rolls back every statement', async () => {
    const record = busRecord();
    const key = {
      stream_id: SCOPE,
      topic: TOPIC,
      partition_id: 1,
      offset_kind: 'kinesis_sequence',
      offset_value: record.offset,
    };
    const failure = await ports.ledger
      .commit(async (tx) => {
        await tx.insertNew(
          [
            {
              ...key,
              platform_run_id: RUN,
              event_id: 'e',
              event_type: 't',
              payload_hash: 'c'.repeat(64),
              archive_ref: 's3://fraud-platform/x#bytes=0-1',
            },
          ],
          new Date(),
        );
        await tx.addCounters([{ stream_id: SCOPE, topic: TOPIC, metric: 'seen_total', delta: 1000 }]);
        throw new Error('after the insert');
      })
      .catch((e: unknown) => e);
    expect((failure as Error).message).toBe('after the insert');
    expect(await ports.ledger.find([key])).toEqual([]);
    expect((await counters()).seen_total ?? 0).toBeLessThan(1000);
  });

  it('the reconciliation and health documents read the durable counters', async () => {
    const summary = await ports.ledger.summary(SCOPE, 200);
    const totals = await counters();
    const reconciliation = reconciliationDocument(RUN, summary, new Date());
    expect(reconciliation.totals.archived_total).toBe(totals.archived_total);
    expect(reconciliation.evidence_refs.length).toBe(totals.archived_total);
    expect(healthDocument(RUN, summary, new Date())).toMatchObject({
      health_state: 'RED',
      health_reasons: ['REPLAY_BASIS_MISMATCH_NONZERO'],
    });
  });
});
