import { describe, expect, it } from 'vitest';
import { ArchiveWriteError, archiveBatch } from '../../../lib/archive-writer/archive-batch.ts';
import {
  type ArchiveWriterSettings,
  type LedgerRow,
  ledgerKeyText,
} from '../../../lib/archive-writer/ports.ts';
import { type ArchiveBusRecord, ArchiveRecord } from '../../../lib/contracts/archive.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { fakePorts } from './fakes.ts';

const RUN = 'platform_20260308T000000Z';
const OTHER_RUN = 'platform_20260309T000000Z';
const TOPIC = 'fp.bus.traffic.fraud.v1';
const SCOPE = `archive_writer.v0::${RUN}`;

const settings: ArchiveWriterSettings = {
  streamBase: 'archive_writer.v0',
  requiredPlatformRunId: RUN,
  provenance: { service_release_id: 'dev-local', environment: 'local_parity' },
};

function envelope(n: number, overrides: Record<string, unknown> = {}) {
  return {
    event_id: `evt-${n}`,
    event_type: 's3_event_stream_with_fraud_6B',
    ts_utc: '2026-03-08T00:01:03.106979Z',
    manifest_fingerprint: 'a'.repeat(64),
    parameter_hash: 'b'.repeat(64),
    seed: 42,
    scenario_id: 'baseline_v1',
    run_id: '1'.repeat(32),
    platform_run_id: RUN,
    scenario_run_id: '2'.repeat(32),
    payload: { flow_id: 18_446_744_073_709_551_000n, amount: 12.5, note: 'café ✓' },
    ...overrides,
  };
}

function busRecord(n: number, data: unknown = envelope(n), partition = 0): ArchiveBusRecord {
  return {
    topic: TOPIC,
    partition,
    offset: String(49_000_000_000_000_000_000n + BigInt(n)),
    offset_kind: 'kinesis_sequence',
    data: typeof data === 'string' ? data : canonicalJson(data),
  };
}

describe('archiveBatch', () => {
  it('archives NEW records into one segment per batch, each readable back by its byte range', async () => {
    const { ports, ledger, segments } = fakePorts();
    const batch = [busRecord(1), busRecord(2), busRecord(3)];
    const out = await archiveBatch(ports, settings, batch);

    expect(out.records.map((r) => r.outcome)).toEqual(['NEW', 'NEW', 'NEW']);
    expect(out.segments).toHaveLength(1);
    expect(out.segments[0]).toMatch(new RegExp(`^${RUN}/archive/segments/[0-9a-f]{64}\\.jsonl$`));
    const body = segments.objects.get(out.segments[0] as string) as string;
    expect(out.segments[0]).toContain(sha256Hex(body));
    expect(body.split('\n')).toHaveLength(4);

    for (const [i, r] of out.records.entries()) {
      expect(r.archive_ref).toMatch(/^s3:\/\/fraud-platform\/.+#bytes=\d+-\d+$/);
      const line = segments.read(r.archive_ref as string) as string;
      const record = ArchiveRecord.parse(parseJsonLossless(line));
      const data = (batch[i] as ArchiveBusRecord).data;
      expect(canonicalJson(record.envelope)).toBe(data);
      expect(record.payload_hash).toBe(sha256Hex(data));
      expect(record.origin_offset).toEqual({
        topic: TOPIC,
        partition: 0,
        offset: (batch[i] as ArchiveBusRecord).offset,
        offset_kind: 'kinesis_sequence',
      });
      expect(record).toMatchObject({ platform_run_id: RUN, seed: '42', event_id: `evt-${i + 1}` });
      expect(record.archived_at_utc).toBe('2026-03-08T00:05:00.123000+00:00');
    }
    const rows = [...ledger.state.rows.values()];
    expect(rows.map((r) => r.archive_ref)).toEqual(out.records.map((r) => r.archive_ref));
    expect(ledger.counters(SCOPE)).toEqual({ seen_total: 3, archived_total: 3 });
    expect([...ledger.state.checkpoints.values()]).toEqual([
      expect.objectContaining({ stream_id: SCOPE, partition_id: 0, next_offset: busRecord(3).offset }),
    ]);
  });

  it('answers every record of a replayed batch DUPLICATE, writes nothing new and counts the replay', async () => {
    const { ports, ledger, segments } = fakePorts();
    const batch = [busRecord(1), busRecord(2)];
    const first = await archiveBatch(ports, settings, batch);
    const again = await archiveBatch(ports, settings, batch);

    expect(again.records.map((r) => r.outcome)).toEqual(['DUPLICATE', 'DUPLICATE']);
    expect(again.records.map((r) => r.archive_ref)).toEqual(first.records.map((r) => r.archive_ref));
    expect(again.segments).toEqual([]);
    expect(segments.objects.size).toBe(1);
    expect(ledger.counters(SCOPE)).toEqual({ seen_total: 4, archived_total: 2, duplicate_total: 2 });
    expect([...ledger.state.rows.values()].map((r) => r.seen_count)).toEqual([2, 2]);
  });

  it('records another payload at a known position as PAYLOAD_MISMATCH with a governance anomaly, the ledger unchanged', async () => {
    const { ports, ledger, governance } = fakePorts();
    const first = await archiveBatch(ports, settings, [busRecord(1)]);
    const changed = busRecord(1, envelope(1, { payload: { flow_id: 7, amount: 99 } }));
    const out = await archiveBatch(ports, settings, [changed]);

    expect(out.records).toEqual([
      { index: 0, outcome: 'PAYLOAD_MISMATCH', archive_ref: first.records[0]?.archive_ref },
    ]);
    const [row] = [...ledger.state.rows.values()];
    expect(row?.payload_hash).toBe(sha256Hex(busRecord(1).data));
    expect(row?.mismatch_count).toBe(1);
    expect([...ledger.state.mismatches.values()]).toEqual([
      expect.objectContaining({ observed_payload_hash: sha256Hex(changed.data), seen_count: 1 }),
    ]);
    expect(ledger.counters(SCOPE)).toMatchObject({ payload_mismatch_total: 1, archived_total: 1 });

    const [event] = [...governance.events.values()];
    expect(event).toMatchObject({
      event_family: 'CORRIDOR_ANOMALY',
      actor: {
        actor_id: 'SYSTEM::archive_writer',
        source_type: 'SYSTEM',
        source_component: 'archive_writer',
      },
      pins: { platform_run_id: RUN, scenario_run_id: '2'.repeat(32), seed: '42' },
      details: {
        reason_code: 'REPLAY_BASIS_MISMATCH',
        anomaly_category: 'REPLAY_BASIS_MISMATCH',
        expected_payload_hash: sha256Hex(busRecord(1).data),
        observed_payload_hash: sha256Hex(changed.data),
        origin_offset: {
          topic: TOPIC,
          partition: 0,
          offset: changed.offset,
          offset_kind: 'kinesis_sequence',
        },
        evidence_refs: [{ ref_type: 'archive_ref', ref_id: first.records[0]?.archive_ref }],
      },
    });
    // Seen again: the same anomaly (write-once by event id), the mismatch counted again.
    await archiveBatch(ports, settings, [changed]);
    expect(governance.events.size).toBe(1);
    expect([...ledger.state.mismatches.values()][0]?.seen_count).toBe(2);
  });

  it('skips records of another run, without the pins or not JSON, counting each reason and advancing', async () => {
    const { ports, ledger, segments } = fakePorts();
    const { scenario_run_id: _, ...noScenarioRun } = envelope(3);
    const out = await archiveBatch(ports, settings, [
      busRecord(1, envelope(1, { platform_run_id: OTHER_RUN })),
      busRecord(2, '{"event_id": '),
      busRecord(3, noScenarioRun),
      busRecord(4, envelope(4, { parameter_hash: '  ' })),
      busRecord(5, envelope(5, { platform_run_id: '../../etc' })),
      busRecord(6, [1, 2]),
      busRecord(7),
    ]);
    expect(out.records.map((r) => r.reason ?? r.outcome)).toEqual([
      'RUN_SCOPE_MISMATCH',
      'RECORD_NOT_JSON',
      'REQUIRED_FIELDS_MISSING',
      'REQUIRED_FIELDS_MISSING',
      'REQUIRED_FIELDS_MISSING',
      'REQUIRED_FIELDS_MISSING',
      'NEW',
    ]);
    expect(ledger.counters(SCOPE)).toEqual({
      seen_total: 7,
      archived_total: 1,
      skipped_total: 6,
      'skipped.RUN_SCOPE_MISMATCH': 1,
      'skipped.RECORD_NOT_JSON': 1,
      'skipped.REQUIRED_FIELDS_MISSING': 4,
    });
    expect(ledger.state.rows.size).toBe(1);
    expect([...segments.objects.values()][0]?.split('\n')).toHaveLength(2);
    expect([...ledger.state.checkpoints.values()][0]?.next_offset).toBe(busRecord(7).offset);
  });

  it('unwraps an envelope carried as `envelope` or `payload`', async () => {
    const { ports, segments } = fakePorts();
    const out = await archiveBatch(ports, settings, [
      busRecord(1, { envelope: envelope(1) }),
      busRecord(2, { payload: envelope(2) }),
    ]);
    expect(out.records.map((r) => r.outcome)).toEqual(['NEW', 'NEW']);
    const record = ArchiveRecord.parse(
      parseJsonLossless(segments.read(out.records[1]?.archive_ref ?? '') ?? ''),
    );
    expect(record.event_id).toBe('evt-2');
    expect(record.payload_hash).toBe(sha256Hex(canonicalJson(envelope(2))));
  });

  it('without a required run, scopes each record by its own run and writes one segment per run', async () => {
    const { ports, ledger } = fakePorts();
    const open = { ...settings, requiredPlatformRunId: undefined };
    const out = await archiveBatch(ports, open, [
      busRecord(1),
      busRecord(2, envelope(2, { platform_run_id: OTHER_RUN })),
    ]);
    expect(out.segments.map((s) => s.split('/')[0]).sort()).toEqual([RUN, OTHER_RUN]);
    expect(ledger.counters(SCOPE)).toEqual({ seen_total: 1, archived_total: 1 });
    expect(ledger.counters(`archive_writer.v0::${OTHER_RUN}`)).toEqual({ seen_total: 1, archived_total: 1 });
  });

  it('commits nothing when the segment cannot be written, counts the write error, and succeeds when retried', async () => {
    const { ports, ledger, segments } = fakePorts();
    await archiveBatch(ports, settings, [busRecord(1)]);
    segments.control.failing = true;
    const batch = [busRecord(1), busRecord(2), busRecord(3)];
    const failure = await archiveBatch(ports, settings, batch).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ArchiveWriteError);
    expect((failure as ArchiveWriteError).retryable).toBe(true);
    expect(ledger.state.rows.size).toBe(1);
    expect(ledger.counters(SCOPE)).toEqual({ seen_total: 1, archived_total: 1, write_error_total: 2 });
    expect([...ledger.state.checkpoints.values()][0]?.next_offset).toBe(busRecord(1).offset);

    segments.control.failing = false;
    const retried = await archiveBatch(ports, settings, batch);
    expect(retried.records.map((r) => r.outcome)).toEqual(['DUPLICATE', 'NEW', 'NEW']);
    expect(ledger.counters(SCOPE)).toMatchObject({
      archived_total: 3,
      duplicate_total: 1,
      write_error_total: 2,
    });
  });

  it('a crash after the segment and before the commit leaves an unreferenced segment only', async () => {
    const { ports, ledger, segments } = fakePorts();
    const crashing = {
      ...ports,
      ledger: {
        ...ports.ledger,
        commit: async () => {
          throw new Error('process died');
        },
      },
    };
    await expect(archiveBatch(crashing, settings, [busRecord(1)])).rejects.toThrow('process died');
    expect(segments.objects.size).toBe(1);
    expect(ledger.state.rows.size).toBe(0);
    const out = await archiveBatch(ports, settings, [busRecord(1)]);
    expect(out.records[0]?.outcome).toBe('NEW');
  });

  it('judges a position repeated inside the batch against its first copy', async () => {
    const { ports, ledger, governance } = fakePorts();
    const out = await archiveBatch(ports, settings, [
      busRecord(1),
      busRecord(1),
      busRecord(1, envelope(1, { event_type: 'other' })),
    ]);
    expect(out.records.map((r) => r.outcome)).toEqual(['NEW', 'DUPLICATE', 'PAYLOAD_MISMATCH']);
    expect(new Set(out.records.map((r) => r.archive_ref)).size).toBe(1);
    expect(ledger.state.rows.size).toBe(1);
    expect(governance.events.size).toBe(1);
  });

  it('a position another writer committed first is judged against its row, inside the same commit', async () => {
    const { ports, ledger, governance } = fakePorts();
    const otherRef = 's3://fraud-platform/other#bytes=0-9';
    ledger.hooks.beforeInsert = (rows, draft) => {
      ledger.hooks.beforeInsert = undefined;
      // Another invocation committed offset 1 with another payload between our read and our insert.
      const row = rows[0] as LedgerRow;
      draft.rows.set(ledgerKeyText(row), {
        ...row,
        payload_hash: 'f'.repeat(64),
        archive_ref: otherRef,
        seen_count: 1,
        mismatch_count: 0,
      });
    };
    const out = await archiveBatch(ports, settings, [busRecord(1), busRecord(2)]);
    expect(out.records.map((r) => r.outcome)).toEqual(['PAYLOAD_MISMATCH', 'NEW']);
    expect(out.records[0]?.archive_ref).toBe(otherRef);
    expect(ledger.counters(SCOPE)).toEqual({ seen_total: 2, archived_total: 1, payload_mismatch_total: 1 });
    expect([...governance.events.values()][0]?.details).toMatchObject({
      expected_payload_hash: 'f'.repeat(64),
      evidence_refs: [{ ref_type: 'archive_ref', ref_id: otherRef }],
    });
  });

  it('refuses a batch that is not bus records', async () => {
    const { ports } = fakePorts();
    await expect(archiveBatch(ports, settings, [])).rejects.toMatchObject({ code: 'ARCHIVE_BATCH_INVALID' });
    await expect(archiveBatch(ports, settings, [{ ...busRecord(1), offset: 'x' }])).rejects.toMatchObject({
      code: 'ARCHIVE_BATCH_INVALID',
      retryable: false,
    });
  });
});
