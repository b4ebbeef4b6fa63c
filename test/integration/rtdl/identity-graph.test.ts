import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { eventually } from '../../support/eventually.ts';
import { db, envelope, onTheBus, put, RUN, TOPIC, unique } from './projector-bus.ts';

/**
 * The identity graph projector through the bus (downstream.md §9 #13): a decision_response on the traffic stream is
 * irrelevant to it — counted, no apply failure — and the shard moves on to the record behind it.
 */

onTheBus();

describe('RTDL projectors through the bus', () => {
  it('#13 identity graph: a decision_response is irrelevant — no apply failure, counted, and the shard moves on', async () => {
    const irrelevant = async () =>
      Number(
        (
          await db.query<{ n: string | null }>(
            `SELECT sum(metric_value)::text AS n FROM ieg_metrics WHERE stream_id = $1 AND metric_name = 'irrelevant'`,
            [`ieg.v0::${RUN}`],
          )
        ).rows[0]?.n ?? 0,
      );
    const before = await irrelevant();
    const pk = `pk-${unique()}`; // one partition key: both records on one shard, in this order
    const decision = envelope('decision_response', '2026-03-08T00:03:00.000000Z', {
      decision_id: unique(),
      source_event: { event_id: 'x' },
    });
    await put(TOPIC.traffic, canonicalJson(decision), pk);
    const after = await put(
      TOPIC.traffic,
      canonicalJson(
        envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:03:01.000000Z', {
          flow_id: `4${unique()}`,
          amount: 1,
        }),
      ),
      pk,
    );
    // The record behind it on the shard is applied: the offset advanced past the decision.
    await eventually(async () => {
      const res = await db.query('SELECT 1 FROM ieg_dedupe WHERE stream_id = $1 AND first_offset = $2', [
        `ieg.v0::${RUN}`,
        after.sequenceNumber,
      ]);
      return res.rowCount === 1 ? true : undefined;
    }, 'the next traffic record applied');
    expect(await irrelevant()).toBe(before + 1);
    const failures = await db.query(
      'SELECT 1 FROM ieg_apply_failures WHERE stream_id = $1 AND event_id = $2',
      [`ieg.v0::${RUN}`, decision.event_id],
    );
    expect(failures.rowCount).toBe(0);
  });
});
