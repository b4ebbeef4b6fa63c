import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';
import {
  db,
  envelope,
  features,
  featuresWhen,
  onTheBus,
  putEnvelope,
  RUN,
  redeliver,
  report,
  TOPIC,
  unique,
} from './projector-bus.ts';

/**
 * The online features projector through the bus (downstream.md §9 #14): records put on the traffic stream reach it
 * by its event-source mapping (the real poller), and its features are read through its task (Lambda invoke). Two
 * events of one flow count and sum; a redelivered offset and a replayed event with a new payload change nothing (the
 * replay is a payload-mismatch row); the windows rise and fall in event time.
 */

onTheBus();

describe('RTDL projectors through the bus', () => {
  it('#14 online features: two events of one flow count 2 and sum a+b; a redelivered offset and a replayed event with a new payload change nothing', async () => {
    const flow = `9${unique()}`;
    const key = { key_type: 'flow_id', key_id: flow };
    const first = await putEnvelope(
      TOPIC.traffic,
      envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:01:00.000000Z', {
        flow_id: flow,
        amount: 10.25,
      }),
    );
    const second = envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:02:00.000000Z', {
      flow_id: flow,
      amount: 4.5,
    });
    await putEnvelope(TOPIC.traffic, second);
    const asOf = '2026-03-08T00:05:00.000000Z';
    const both = await featuresWhen(asOf, key, (f) => f.event_count === 2, 'both events applied');
    expect(both).toMatchObject({
      event_count: 2,
      amount_sum: 14.75,
      last_event_ts_utc: '2026-03-08T00:02:00.000000Z',
    });

    const before = (await report('online-features')).counts;
    // At-least-once: the first record delivered again by the mapping.
    expect((await redeliver('online-features', [first])).batchItemFailures).toEqual([]);
    // The second event again at a new offset, with another amount: same event_id, new payload.
    await putEnvelope(TOPIC.traffic, { ...second, payload: { flow_id: flow, amount: 999 } });
    const after = await eventually(async () => {
      const r = (await report('online-features')).counts;
      return r.failed > before.failed && r.duplicate > before.duplicate ? r : undefined;
    }, 'the duplicate and the mismatch counted');
    expect(after.applied).toBe(before.applied);
    expect(after.duplicate).toBe(before.duplicate + 1);
    expect(after.failed).toBe(before.failed + 1);
    expect(await features(asOf, key)).toEqual(both);
    const mismatch = await db.query(
      `SELECT count(*)::int AS n FROM ofp_payload_mismatches WHERE stream_id = $1 AND event_id = $2`,
      [`ofp.v0::${RUN}`, second.event_id],
    );
    expect(mismatch.rows[0]?.n).toBe(1);
  });

  it('online features windows rise and fall back in event time; as_of excludes later events', async () => {
    const flow = `8${unique()}`;
    const key = { key_type: 'flow_id', key_id: flow };
    const at = (minutes: number) =>
      new Date(Date.UTC(2026, 2, 9, 0, minutes)).toISOString().replace('Z', '000Z');
    for (const minute of [0, 5, 30]) // T0, T0+5m, T0+30m
      await putEnvelope(
        TOPIC.traffic,
        envelope('s3_event_stream_with_fraud_6B', at(minute), { flow_id: flow, amount: 1 }),
      );
    await featuresWhen(at(90), key, (f) => f.event_count === 3, 'three events applied');
    const window = async (minute: number) => {
      const f = await features(at(minute), key);
      return [f.event_count_10m, f.event_count_1h, f.event_count];
    };
    expect(await window(6)).toEqual([2, 2, 2]); // the 30-minute event is in the future of T0+6m
    expect(await window(12)).toEqual([1, 2, 2]); // T0 left the 10-minute window
    expect(await window(20)).toEqual([0, 2, 2]);
    expect(await window(31)).toEqual([1, 3, 3]);
    expect(await window(62)).toEqual([0, 2, 3]); // T0 left the hour
    expect(await window(95)).toEqual([0, 0, 3]);
  });
});
