import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../../lib/world/event-columns.ts';
import { CASE_EVENT_TYPES } from '../../../lib/world/truth.ts';
import { type Duck, makeWorld, openDuck, parquetOf, type TestWorld } from './world-fixture.ts';

describe('world join keys and lifecycles', () => {
  let world: TestWorld;
  let duck: Duck;
  const src = (id: string) => parquetOf(world, id);
  const count = async (sql: string) => Number(await duck.scalar(`SELECT count(*) FROM (${sql})`));
  const WORLD_KEY = 'seed, manifest_fingerprint, scenario_id';

  beforeAll(async () => {
    world = await makeWorld({ seed: 31n });
    duck = await openDuck();
  }, 60_000);
  afterAll(async () => {
    duck?.close();
    await world?.dispose();
  });

  it.each([
    ['s3_event_stream_with_fraud_6B', 'flow_id, event_seq'],
    ['s2_event_stream_baseline_6B', 'flow_id, event_seq'],
    ['s3_flow_anchor_with_fraud_6B', 'flow_id'],
    ['s2_flow_anchor_baseline_6B', 'flow_id'],
    ['arrival_events_5B', 'merchant_id, arrival_seq'],
    ['s1_arrival_entities_6B', 'merchant_id, arrival_seq'],
    ['s4_event_labels_6B', 'flow_id, event_seq'],
    ['s4_flow_truth_labels_6B', 'flow_id'],
    ['s4_case_timeline_6B', 'case_id, case_event_seq'],
  ])('%s is unique on its primary key (%s)', async (id, key) => {
    expect(
      await count(`SELECT ${key} FROM ${src(id)} GROUP BY ${WORLD_KEY}, ${key} HAVING count(*) > 1`),
    ).toBe(0);
  });

  it.each([
    ['s3_event_stream_with_fraud_6B', 's3_flow_anchor_with_fraud_6B', 'flow_id'],
    ['s2_event_stream_baseline_6B', 's2_flow_anchor_baseline_6B', 'flow_id'],
    ['s3_flow_anchor_with_fraud_6B', 'arrival_events_5B', 'merchant_id, arrival_seq'],
    ['s2_flow_anchor_baseline_6B', 'arrival_events_5B', 'merchant_id, arrival_seq'],
    ['arrival_events_5B', 's1_arrival_entities_6B', 'merchant_id, arrival_seq'],
    ['s1_arrival_entities_6B', 'arrival_events_5B', 'merchant_id, arrival_seq'],
    ['s4_event_labels_6B', 's3_event_stream_with_fraud_6B', 'flow_id, event_seq'],
    ['s3_event_stream_with_fraud_6B', 's4_event_labels_6B', 'flow_id, event_seq'],
    ['s4_flow_truth_labels_6B', 's3_flow_anchor_with_fraud_6B', 'flow_id'],
    ['s4_case_timeline_6B', 's3_flow_anchor_with_fraud_6B', 'flow_id'],
  ])('every %s row resolves in %s on (%s) within the world key', async (from, to, key) => {
    const dangling = await count(
      `SELECT l.* FROM ${src(from)} l ANTI JOIN ${src(to)} r USING (${WORLD_KEY}, ${key})`,
    );
    expect(dangling).toBe(0);
  });

  it('keeps the anchor time equal to the arrival time and its AUTH_REQUEST time', async () => {
    const off = await count(
      `SELECT * FROM ${src('s3_flow_anchor_with_fraud_6B')} a JOIN ${src('arrival_events_5B')} e USING (merchant_id, arrival_seq) ` +
        `JOIN ${src('s3_event_stream_with_fraud_6B')} s ON s.flow_id = a.flow_id AND s.event_seq = 0 ` +
        `WHERE a.ts_utc <> e.ts_utc OR s.ts_utc <> a.ts_utc OR s.event_type <> 'AUTH_REQUEST'`,
    );
    expect(off).toBe(0);
  });

  it.each(['s2_event_stream_baseline_6B', 's3_event_stream_with_fraud_6B'])(
    '%s follows the event vocabulary and a valid lifecycle per flow',
    async (id) => {
      const rows = await duck.rows(
        `SELECT flow_id, list(event_type ORDER BY event_seq) AS types, list(event_seq ORDER BY event_seq) AS seqs, ` +
          `list(ts_utc ORDER BY event_seq) AS times FROM ${src(id)} GROUP BY flow_id`,
      );
      expect(rows.length).toBeGreaterThan(500);
      for (const row of rows) {
        const types = row.types as string[];
        const seqs = (row.seqs as bigint[]).map(Number);
        const times = row.times as string[];
        const where = `${id} flow ${String(row.flow_id)}: ${types.join(' → ')}`;
        expect(
          types.every((t) => (EVENT_TYPES as readonly string[]).includes(t)),
          where,
        ).toBe(true);
        expect(types[0], where).toBe('AUTH_REQUEST');
        expect(seqs, where).toEqual(seqs.map((_, i) => i));
        expect(times, where).toEqual([...times].sort());
        expect(
          types.filter((t) => t === 'AUTH_RESPONSE'),
          where,
        ).toHaveLength(1);
        const at = (t: string) => types.indexOf(t);
        if (at('STEP_UP_COMPLETE') >= 0)
          expect(at('STEP_UP_CHALLENGE'), where).toBe(at('STEP_UP_COMPLETE') - 1);
        if (at('CLEARING') >= 0) expect(at('CLEARING'), where).toBeGreaterThan(at('AUTH_RESPONSE'));
        if (at('REFUND') >= 0) expect(at('REFUND'), where).toBeGreaterThan(at('CLEARING'));
        expect(at('CLEARING') >= 0 && at('REVERSAL') >= 0, where).toBe(false);
      }
    },
  );

  it('keeps the same flows in the baseline and with-fraud outputs', async () => {
    const a = `SELECT flow_id, merchant_id, arrival_seq, ts_utc FROM ${src('s2_flow_anchor_baseline_6B')}`;
    const b = `SELECT flow_id, merchant_id, arrival_seq, ts_utc FROM ${src('s3_flow_anchor_with_fraud_6B')}`;
    expect(await count(`(${a}) EXCEPT (${b})`)).toBe(0);
    expect(await count(`(${b}) EXCEPT (${a})`)).toBe(0);
  });

  it('writes case timelines in the case vocabulary, opened first and closed last', async () => {
    const rows = await duck.rows(
      `SELECT case_id, list(case_event_type ORDER BY case_event_seq) AS types, list(ts_utc ORDER BY case_event_seq) AS times ` +
        `FROM ${src('s4_case_timeline_6B')} GROUP BY case_id`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) {
      const types = row.types as string[];
      expect(types.every((t) => (CASE_EVENT_TYPES as readonly string[]).includes(t))).toBe(true);
      expect(types[0]).toBe('CASE_OPENED');
      expect(types[types.length - 1]).toBe('CASE_CLOSED');
      expect(types).toContain('DETECTION_EVENT_ATTACHED');
      expect(row.times as string[]).toEqual([...(row.times as string[])].sort());
    }
  });
});
