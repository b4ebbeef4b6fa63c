import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import {
  db,
  envelope,
  onTheBus,
  putEnvelope,
  RUN,
  redeliver,
  report,
  TOPIC,
  unique,
} from './projector-bus.ts';

/**
 * The archive writer through the bus: a record redelivered as the mapping does after a retry (the function invoked
 * with the same Kinesis record) is a duplicate; the same offset with other bytes is a PAYLOAD_MISMATCH anomaly, the
 * ledger row unchanged and the report RED.
 */

onTheBus();

describe('RTDL projectors through the bus', () => {
  it('archive writer: a redelivered record is a duplicate; the same offset with other bytes is a PAYLOAD_MISMATCH anomaly, the ledger row unchanged', async () => {
    const record = await putEnvelope(
      TOPIC.traffic,
      envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:06:00.000000Z', {
        flow_id: `1${unique()}`,
        amount: 5,
      }),
    );
    const ledger = async () =>
      (
        await db.query<{ payload_hash: string; archive_ref: string }>(
          `SELECT payload_hash, archive_ref FROM archive_writer_offsets WHERE stream_id = $1 AND offset_value = $2`,
          [`archive_writer.v0::${RUN}`, record.sequenceNumber],
        )
      ).rows[0];
    const row = await eventually(ledger, 'the record archived');
    const before = (await report('archive-writer')).counts;
    expect((await redeliver('archive-writer', [record])).batchItemFailures).toEqual([]);
    const tampered = { ...record, data: record.data.replace('"amount":5', '"amount":6') };
    expect((await redeliver('archive-writer', [tampered])).batchItemFailures).toEqual([]);
    const after = await report('archive-writer');
    expect(after.counts.duplicate).toBe(before.duplicate + 1);
    expect(after.counts.failed).toBe(before.failed + 1);
    expect(after.health_state).toBe('RED');
    expect(await ledger()).toEqual(row);
    const anomalies = await db.query(
      `SELECT 1 FROM archive_writer_offset_mismatches WHERE stream_id = $1 AND offset_value = $2`,
      [`archive_writer.v0::${RUN}`, record.sequenceNumber],
    );
    expect(anomalies.rowCount).toBe(1);
  });
});
