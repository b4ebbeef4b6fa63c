import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { eventually } from '../../support/eventually.ts';
import {
  db,
  envelope,
  features,
  featuresWhen,
  OTHER_RUN,
  onTheBus,
  put,
  putOn,
  RUN,
  s3,
  TOPIC,
  unique,
} from './projector-bus.ts';

/**
 * Records the RTDL projectors cannot apply, through the bus: a record of another platform run is skipped and counted,
 * a malformed record is set aside with a reason, a record Postgres refuses is set aside with its bytes (S3 evidence);
 * in each case the shard moves on to the record behind it.
 */

onTheBus();

describe('RTDL projectors through the bus', () => {
  it('a record of another platform run is skipped and counted; a malformed record is set aside with a reason and the shard moves on', async () => {
    // Per record, not by global counters: the shared stack's projectors keep skipping other tests' runs meanwhile.
    const notJson = async () =>
      Number(
        (
          await db.query<{ n: string | null }>(
            `SELECT sum(value)::text AS n FROM archive_writer_counters
             WHERE stream_id = $1 AND metric = 'skipped.RECORD_NOT_JSON'`,
            [`archive_writer.v0::${RUN}`],
          )
        ).rows[0]?.n ?? 0,
      );
    const notJsonBefore = await notJson();
    const flowOther = `3${unique()}`;
    const pk = `pk-${unique()}`; // one partition key: the three records land on one shard, in this order
    const other = await putOn(
      pk,
      TOPIC.traffic,
      envelope(
        's3_event_stream_with_fraud_6B',
        '2026-03-08T00:04:00.000000Z',
        { flow_id: flowOther, amount: 1 },
        { platform_run_id: OTHER_RUN },
      ),
    );
    const malformed = await put(TOPIC.traffic, '{"event_id": "not json', pk);
    const flow = `2${unique()}`;
    await put(
      TOPIC.traffic,
      canonicalJson(
        envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:04:01.000000Z', {
          flow_id: flow,
          amount: 2,
        }),
      ),
      pk,
    );
    await featuresWhen(
      '2026-03-08T00:05:00.000000Z',
      { key_type: 'flow_id', key_id: flow },
      (f) => f.event_count === 1,
      'the record after the malformed one applied',
    );
    // Identity graph: a failure row each — RUN_SCOPE_MISMATCH (a skip) and ENVELOPE_INVALID.
    const failures = await eventually(async () => {
      const res = await db.query<{ offset: string; reason_code: string }>(
        `SELECT "offset", reason_code FROM ieg_apply_failures WHERE stream_id = $1 AND "offset" = ANY($2)`,
        [`ieg.v0::${RUN}`, [other.sequenceNumber, malformed.sequenceNumber]],
      );
      return res.rows.length === 2 ? res : undefined;
    }, 'the identity graph recorded both');
    expect(Object.fromEntries(failures.rows.map((r) => [r.offset, r.reason_code]))).toEqual({
      [other.sequenceNumber]: 'RUN_SCOPE_MISMATCH',
      [malformed.sequenceNumber]: 'ENVELOPE_INVALID',
    });
    // Online features: both offsets seen once (skipped: run_scope_mismatch, invalid_envelope), neither applied.
    const seen = await db.query<{ offset: string }>(
      `SELECT "offset" FROM ofp_applied_events WHERE stream_id = $1 AND "offset" = ANY($2)`,
      [`ofp.v0::${RUN}`, [other.sequenceNumber, malformed.sequenceNumber]],
    );
    expect(seen.rows.map((r) => r.offset).sort()).toEqual(
      [other.sequenceNumber, malformed.sequenceNumber].sort(),
    );
    // Archive writer: neither archived; the malformed one counted RECORD_NOT_JSON in the run's scope.
    const archived = await db.query('SELECT 1 FROM archive_writer_offsets WHERE offset_value = ANY($1)', [
      [other.sequenceNumber, malformed.sequenceNumber],
    ]);
    expect(archived.rowCount).toBe(0);
    expect(
      await eventually(
        async () => ((await notJson()) > notJsonBefore ? notJson() : undefined),
        'the skip counted',
      ),
    ).toBe(notJsonBefore + 1);
    expect(
      (await features('2026-03-08T00:05:00.000000Z', { key_type: 'flow_id', key_id: flowOther })).event_count,
    ).toBeUndefined();
  });

  it('a record Postgres refuses (a NUL character in an identifier) is set aside with its bytes; the shard moves on', async () => {
    const pk = `pk-${unique()}`;
    const poison = await putOn(
      pk,
      TOPIC.arrival,
      envelope('arrival_events_5B', '2026-03-08T00:07:00.000000Z', {
        merchant_id: 'm\u0000x',
        arrival_seq: 1,
      }),
    );
    const merchant = Number(unique().slice(-9));
    const next = await putOn(
      pk,
      TOPIC.arrival,
      envelope('arrival_events_5B', '2026-03-08T00:07:01.000000Z', { merchant_id: merchant, arrival_seq: 1 }),
    );
    await eventually(async () => {
      const res = await db.query('SELECT 1 FROM ieg_dedupe WHERE stream_id = $1 AND first_offset = $2', [
        `ieg.v0::${RUN}`,
        next.sequenceNumber,
      ]);
      return res.rowCount === 1 ? true : undefined;
    }, 'the record after the poison applied');
    const partition = Number(/(\d+)$/.exec(poison.shardId)?.[1]);
    const evidence = await s3.send(
      new GetObjectCommand({
        Bucket: 'fraud-platform',
        Key: `${RUN}/identity-graph/poison/topic=${TOPIC.arrival}/partition=${partition}/offset=${poison.sequenceNumber}.json`,
      }),
    );
    const body = JSON.parse((await evidence.Body?.transformToString()) ?? '{}');
    expect(body).toMatchObject({
      component: 'identity-graph',
      reason_code: 'RECORD_UNSTORABLE',
      data: poison.data,
    });
  });
});
