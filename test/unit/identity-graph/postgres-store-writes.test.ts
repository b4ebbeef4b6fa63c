import { describe, expect, it } from 'vitest';
import {
  ARRIVALS,
  arrivalKeyText,
  byEntityId,
  DEDUPE,
} from '../../../lib/adapters/identity-graph-held-rows.ts';
import { postgresIdentityGraphStore } from '../../../lib/adapters/identity-graph-stores.ts';
import type { ArrivalKey, ArrivalMember } from '../../../lib/identity-graph/ports.ts';
import { MERCHANT_ID, PINS, RUN, SCENARIO_RUN, TOPIC } from '../../support/identity-graph.ts';
import { scriptedPool } from '../../support/scripted-pool.ts';

/**
 * The identity graph's Postgres transaction (lib/adapters/identity-graph-stores.ts), its other writes, against a
 * scripted pool: entities, identifiers, edges and metrics merged and written once per table, the insert-once apply
 * failure row, checkpoints; and the held-rows definitions (identity-graph-held-rows.ts) on a bare client.
 */

const STREAM = `ieg.v0::${RUN}`;
const HASH = 'c'.repeat(64);
const TS = '2026-03-08T00:01:03.106979Z';
const EB = {
  topic: TOPIC.s3_event_stream_with_fraud_6B,
  partition: 3,
  offset: '49650000000000000001',
  offset_kind: 'kinesis_sequence' as const,
};
const MERCHANT = String(MERCHANT_ID);
const arrival = (arrival_seq: string): ArrivalKey => ({
  scenario_run_id: SCENARIO_RUN,
  merchant_id: MERCHANT,
  arrival_seq,
});
/** The unnest parameters of one row: an array of one value per column. */
const oneRow = (...values: unknown[]) => values.map((value) => [value]);
const member = (entity_type: string, suffix = '1'): ArrivalMember => ({
  entity_id: `${entity_type.replace('_id', '')}-${suffix}`,
  entity_type,
});

describe('the identity graph Postgres transaction: merged rows, failures and checkpoints', () => {
  it('entities, identifiers, edges and metrics merge in memory and are written once each, table by table', async () => {
    const db = scriptedPool();
    const pins = { ...PINS, parameter_hash: null, seed: 18_446_744_073_709_551_615n };
    const later = '2026-03-08T00:09:00.000000Z';
    await postgresIdentityGraphStore(db.pool, STREAM).inTransaction(async (t) => {
      await t.upsertEntity({ entity_id: 'account-1', entity_type: 'account_id', pins, seen_ts_utc: later });
      const again = { ...pins, run_id: null };
      await t.upsertEntity({ entity_id: 'account-1', entity_type: 'other', pins: again, seen_ts_utc: TS });
      const sighting = { pins, seen_ts_utc: TS, source_event_id: 'e-1' };
      await t.upsertIdentifier({
        ...sighting,
        identifier_type: 'account_id',
        identifier_value: 'account-1',
        entity_id: 'account-1',
        entity_type: 'account_id',
      });
      await t.upsertEdge({
        ...sighting,
        edge_id: 'edge-1',
        edge_type: 'uses',
        src_entity_id: 'party-1',
        dst_entity_id: 'account-1',
      });
      await t.countMetric(SCENARIO_RUN, 'events_seen');
      await t.countMetric(SCENARIO_RUN, 'events_seen', 2);
    });
    expect(db.log()).toEqual([
      'BEGIN',
      'INSERT ieg_edges',
      'INSERT ieg_entities',
      'INSERT ieg_identifiers',
      'INSERT ieg_metrics',
      'COMMIT',
    ]);
    const [entities] = db.sqlOf('INSERT INTO ieg_entities');
    expect(entities?.sql).toMatch(/SELECT \* FROM unnest\(\$1::text\[\], [\s\S]*\$12::text\[\]\)/);
    expect(entities?.sql).toMatch(
      /first_seen_ts_utc = LEAST\(ieg_entities.first_seen_ts_utc, EXCLUDED.first_seen_ts_utc\)/,
    );
    // The first sighting's type and pins (an absent one null, a 64-bit seed exact), first_seen the least, last_seen
    // the greatest.
    expect(entities?.params).toEqual(
      oneRow(
        STREAM,
        'account-1',
        'account_id',
        RUN,
        SCENARIO_RUN,
        'a'.repeat(64),
        null,
        'baseline_v1',
        '18446744073709551615',
        '1'.repeat(32),
        TS,
        later,
      ),
    );
    expect(db.sqlOf('INSERT INTO ieg_identifiers')[0]?.params).toEqual(
      oneRow(STREAM, 'account_id', 'account-1', 'account-1', 'account_id', SCENARIO_RUN, TS, TS, 'e-1'),
    );
    expect(db.sqlOf('INSERT INTO ieg_edges')[0]?.params).toEqual(
      oneRow(STREAM, 'edge-1', 'uses', 'party-1', 'account-1', SCENARIO_RUN, TS, TS, 'e-1'),
    );
    const [metrics] = db.sqlOf('INSERT INTO ieg_metrics');
    expect(metrics?.sql).toMatch(
      /DO UPDATE SET metric_value = ieg_metrics.metric_value \+ EXCLUDED.metric_value/,
    );
    expect(metrics?.params).toEqual([STREAM, SCENARIO_RUN, 'events_seen', 3]);
  });

  it('an apply failure is one insert-once row with canonical details and its event time', async () => {
    const db = scriptedPool();
    const failure = {
      failure_id: 'f'.repeat(32),
      reason_code: 'PAYLOAD_HASH_MISMATCH',
      details: { event_class: 'traffic_fraud', big: 18_446_744_073_709_551_615n, amount: 12.5 },
      platform_run_id: RUN,
      scenario_run_id: SCENARIO_RUN,
      topic: EB.topic,
      partition: 3,
      offset: EB.offset,
      offset_kind: EB.offset_kind,
      event_id: 'e-1',
      event_type: 's3_event_stream_with_fraud_6B',
      event_ts_utc: TS,
    };
    await postgresIdentityGraphStore(db.pool, STREAM).inTransaction(async (t) => {
      await t.recordApplyFailure(failure);
      await t.recordApplyFailure({ ...failure, reason_code: 'LATER', event_ts_utc: null });
    });
    expect(db.log()).toEqual(['BEGIN', 'INSERT ieg_apply_failures', 'COMMIT']);
    const [row] = db.sqlOf('INSERT INTO ieg_apply_failures');
    expect(row?.sql).toMatch(
      /\(failure_id, stream_id, .*"offset".*details_json, event_ts_utc\) VALUES \(\$1,/,
    );
    expect(row?.sql).toMatch(/ON CONFLICT \(failure_id\) DO NOTHING$/);
    expect(row?.params).toEqual([
      'f'.repeat(32),
      STREAM,
      RUN,
      SCENARIO_RUN,
      EB.topic,
      3,
      EB.offset,
      'kinesis_sequence',
      'e-1',
      's3_event_stream_with_fraud_6B',
      'PAYLOAD_HASH_MISMATCH',
      '{"amount":12.5,"big":18446744073709551615,"event_class":"traffic_fraud"}',
      TS,
    ]);
  });

  it('a checkpoint is read once (locked) and written before COMMIT', async () => {
    const updated = new Date('2026-03-08T00:02:00.000Z');
    const db = scriptedPool((sql) =>
      sql.includes('FROM ieg_checkpoints')
        ? {
            rows: [
              {
                stream_id: STREAM,
                topic: EB.topic,
                partition_id: 3,
                next_offset: '5',
                offset_kind: 'kinesis_sequence',
                watermark_ts_utc: TS,
                updated_at_utc: updated,
              },
            ],
          }
        : undefined,
    );
    const seen = await postgresIdentityGraphStore(db.pool, STREAM).inTransaction(async (t) => {
      const before = await t.readCheckpoint(EB.topic, 3);
      await t.writeCheckpoint({
        topic: EB.topic,
        partition: 3,
        next_offset: '6',
        offset_kind: 'kinesis_sequence',
        watermark_ts_utc: TS,
      });
      return { before, after: (await t.readCheckpoint(EB.topic, 3))?.next_offset };
    });
    expect(seen).toEqual({
      before: {
        topic: EB.topic,
        partition: 3,
        next_offset: '5',
        offset_kind: 'kinesis_sequence',
        watermark_ts_utc: TS,
        updated_at_utc: updated.toISOString(),
      },
      after: '6',
    });
    expect(db.log()).toEqual(['BEGIN', 'SELECT ieg_checkpoints', 'INSERT ieg_checkpoints', 'COMMIT']);
    expect(db.sqlOf('FROM ieg_checkpoints')[0]?.params).toEqual([[STREAM], [EB.topic], [3]]);
    expect(db.sqlOf('INSERT INTO ieg_checkpoints')[0]?.params).toEqual(
      oneRow(STREAM, EB.topic, 3, '6', 'kinesis_sequence', TS),
    );
  });
});

describe('the identity graph held-rows definitions, on a bare client', () => {
  it('key text and member order', () => {
    expect(arrivalKeyText(STREAM, arrival('7'))).toBe(JSON.stringify([STREAM, SCENARIO_RUN, MERCHANT, '7']));
    const sorted = [member('party_id'), member('account_id'), member('ip_id')].sort(byEntityId);
    expect(sorted).toEqual([member('account_id'), member('ip_id'), member('party_id')]);
    expect(byEntityId(member('ip_id'), { entity_id: 'ip-1', entity_type: 'other' })).toBe(0);
  });

  it('arrival loads gather members sorted; writes insert only the keys found absent and every added member', async () => {
    const row = (seq: string, m?: ArrivalMember) => ({ stream_id: STREAM, ...arrival(seq), ...m });
    const db = scriptedPool((sql) => {
      if (sql.includes('FROM ieg_arrival_keys')) return { rows: [row('7'), row('9')] };
      if (sql.includes('FROM ieg_arrival_members'))
        return { rows: [row('7', member('party_id')), row('7', member('account_id'))] };
      return undefined;
    });
    const client = await db.pool.connect();
    const [k7, k8, k9] = ['7', '8', '9'].map((seq) => arrivalKeyText(STREAM, arrival(seq)));
    // By entity id; a stored key without member rows has none.
    expect(await ARRIVALS.load(client, [k7 as string, k9 as string])).toEqual(
      new Map([
        [k7, { members: [member('account_id'), member('party_id')], added: [] }],
        [k9, { members: [], added: [] }],
      ]),
    );
    await ARRIVALS.write(client, [
      { key: k7 as string, row: { members: [member('ip_id')], added: [member('ip_id')] }, existed: true },
      {
        key: k8 as string,
        row: { members: [member('party_id')], added: [member('party_id')] },
        existed: false,
      },
      { key: k9 as string, row: { members: [], added: [] }, existed: true },
    ]);
    expect(db.log()).toEqual([
      'SELECT ieg_arrival_keys',
      'SELECT ieg_arrival_members',
      'INSERT ieg_arrival_keys',
      'INSERT ieg_arrival_members',
    ]);
    expect(db.sqlOf('INSERT INTO ieg_arrival_keys')[0]?.params).toEqual([
      [STREAM],
      [SCENARIO_RUN],
      [MERCHANT],
      ['8'],
    ]);
    expect(db.sqlOf('INSERT INTO ieg_arrival_members')[0]?.params).toEqual([
      [STREAM, STREAM],
      [SCENARIO_RUN, SCENARIO_RUN],
      [MERCHANT, MERCHANT],
      ['7', '8'],
      ['ip-1', 'party-1'],
      ['ip_id', 'party_id'],
    ]);
  });

  it('writes with nothing new send no statement', async () => {
    const db = scriptedPool();
    const client = await db.pool.connect();
    const key = arrivalKeyText(STREAM, arrival('7'));
    await ARRIVALS.write(client, [{ key, row: { members: [member('ip_id')], added: [] }, existed: true }]);
    await DEDUPE.write(client, [
      { key: JSON.stringify([STREAM, 'k']), row: { payload_hash: HASH }, existed: true },
    ]);
    expect(await DEDUPE.load(client, [JSON.stringify([STREAM, 'k'])])).toEqual(new Map());
    expect(db.log()).toEqual(['SELECT ieg_dedupe']);
  });
});
