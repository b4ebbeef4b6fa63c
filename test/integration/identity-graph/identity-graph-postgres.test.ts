import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresIdentityGraphStore } from '../../../lib/adapters/identity-graph-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { graphEntityId } from '../../../lib/contracts/identity-graph.ts';
import { collectGraphStatus, DEFAULT_GRAPH_HEALTH_THRESHOLDS } from '../../../lib/identity-graph/health.ts';
import { applyIdentityGraphBatch, applyIdentityGraphRecord } from '../../../lib/identity-graph/intake.ts';
import { linkedEntitiesQuery } from '../../../lib/identity-graph/query.ts';
import { graphRecord, PINS, RUN, SETTINGS } from '../../support/identity-graph.ts';

/** The identity graph core on the shared local cloud's Postgres (migration 0009), one stream id per test. */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 6 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const ANCHOR = 's3_flow_anchor_with_fraud_6B';
const NOW = new Date('2026-03-08T00:05:00.000Z');
const idOf = (type: string, identifier: string, value: string) =>
  graphEntityId(type, identifier, value, PINS);
const freshStore = () => postgresIdentityGraphStore(pool, `ieg.v0::${RUN}::test-${randomUUID()}`);

async function count(table: string, streamId: string): Promise<number> {
  const res = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE stream_id = $1`, [
    streamId,
  ]);
  return Number(res.rows[0]?.n);
}

describe('identity graph on Postgres', () => {
  it('applies entities, identifiers and edges; a redelivery changes nothing; a mismatch is a failure row', async () => {
    const store = freshStore();
    const anchor = graphRecord(ANCHOR);
    const outcomes = await applyIdentityGraphBatch(
      store,
      [anchor, graphRecord('s3_event_stream_with_fraud_6B'), anchor, graphRecord('decision_response')],
      SETTINGS,
    );
    expect(outcomes.map((o) => o.status)).toEqual(['APPLIED', 'APPLIED', 'DUPLICATE', 'IRRELEVANT']);
    expect(await count('ieg_entities', store.streamId)).toBe(7);
    expect(await count('ieg_identifiers', store.streamId)).toBe(7);
    expect(await count('ieg_edges', store.streamId)).toBe(6);
    const changed = graphRecord(ANCHOR, { suffix: 'x', eventId: anchor.envelope.event_id as string });
    expect(await applyIdentityGraphRecord(store, changed, SETTINGS)).toMatchObject({
      reason_code: 'PAYLOAD_HASH_MISMATCH',
    });
    expect(await count('ieg_entities', store.streamId)).toBe(7);
    expect(await count('ieg_dedupe', store.streamId)).toBe(2);
    const status = await collectGraphStatus(
      store,
      { platformRunId: RUN },
      DEFAULT_GRAPH_HEALTH_THRESHOLDS,
      NOW,
    );
    expect(status).toMatchObject({
      integrity_status: 'DEGRADED',
      apply_failure_count: 1,
      metrics: {
        events_seen: 5,
        mutating_applied: 2,
        duplicate: 1,
        irrelevant: 1,
        payload_mismatch: 1,
        unusable: 0,
      },
    });
    expect(status.graph_version?.version_id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('first_seen = min and last_seen = max of the event times', async () => {
    const store = freshStore();
    const flow = (eventId: string, tsUtc: string) =>
      graphRecord('s3_event_stream_with_fraud_6B', { eventId, tsUtc });
    await applyIdentityGraphBatch(
      store,
      [
        flow('b', '2026-03-08T00:04:00.000000Z'),
        flow('a', '2026-03-08T00:01:00.000000Z'),
        flow('c', '2026-03-08T00:02:00.000000Z'),
      ],
      SETTINGS,
    );
    expect(await store.readEntity(idOf('flow', 'flow_id', '9000000000000000001'))).toMatchObject({
      first_seen_ts_utc: '2026-03-08T00:01:00.000000Z',
      last_seen_ts_utc: '2026-03-08T00:04:00.000000Z',
    });
  });

  it('an anchor and its arrival entities applied at once on two shards still link (arrival key lock)', async () => {
    const store = freshStore();
    await Promise.all([
      applyIdentityGraphRecord(store, graphRecord(ANCHOR, { arrivalSeq: 11, partition: 0 }), SETTINGS),
      applyIdentityGraphRecord(
        store,
        graphRecord('s1_arrival_entities_6B', { arrivalSeq: 11, suffix: '2', partition: 1 }),
        SETTINGS,
      ),
    ]);
    // Six from the anchor, five more from the arrival's own party/account/instrument/device/ip.
    expect(await count('ieg_edges', store.streamId)).toBe(11);
  });

  it('linked entities within N hops by the recursive walk, bounded and nearest first', async () => {
    const store = freshStore();
    // flow-1 and flow-2 share device-a; flow-2 has party p2; flow-3 shares p2.
    const anchor = (seq: number, flow: string, extra: Record<string, unknown>) =>
      graphRecord(ANCHOR, {
        arrivalSeq: seq,
        payload: { merchant_id: `m${seq}`, arrival_seq: seq, flow_id: flow, ...extra },
      });
    await applyIdentityGraphBatch(
      store,
      [
        anchor(1, 'flow-1', { device_id: 'device-a' }),
        anchor(2, 'flow-2', { device_id: 'device-a', party_id: 'p2' }),
        anchor(3, 'flow-3', { party_id: 'p2' }),
      ],
      SETTINGS,
    );
    const flowOne = idOf('flow', 'flow_id', 'flow-1');
    const ask = (maxHops: number, limit?: number) =>
      linkedEntitiesQuery(store, {
        request_id: 'q',
        entity_id: flowOne,
        max_hops: maxHops,
        ...(limit ? { limit } : {}),
      });
    const hopsOf = async (maxHops: number) =>
      Object.fromEntries((await ask(maxHops)).linked.map((l) => [l.entity_id, l.hops]));
    const device = idOf('device', 'device_id', 'device-a');
    const flowTwo = idOf('flow', 'flow_id', 'flow-2');
    const party = idOf('party', 'party_id', 'p2');
    const flowThree = idOf('flow', 'flow_id', 'flow-3');
    expect(await hopsOf(1)).toEqual({ [device]: 1, [idOf('merchant', 'merchant_id', 'm1')]: 1 });
    const four = await hopsOf(4);
    expect([four[device], four[flowTwo], four[party], four[flowThree]]).toEqual([1, 2, 3, 4]);
    expect(four[flowOne]).toBeUndefined();
    const all = await ask(4);
    expect(all.linked.map((l) => l.hops)).toEqual([...all.linked.map((l) => l.hops)].sort((a, b) => a - b));
    expect(await ask(4, 3)).toMatchObject({
      status: 'READY',
      truncated: true,
      linked: all.linked.slice(0, 3),
    });
  });

  it('failure rows are deterministic; other runs are RUN_SCOPE_MISMATCH and the checkpoint advances', async () => {
    const store = freshStore();
    const other = graphRecord(ANCHOR, { envelope: { platform_run_id: 'platform_20260303T000000Z' } });
    await applyIdentityGraphRecord(store, other, SETTINGS);
    await applyIdentityGraphRecord(store, other, SETTINGS);
    expect(await count('ieg_apply_failures', store.streamId)).toBe(1);
    expect(await count('ieg_entities', store.streamId)).toBe(0);
    const [checkpoint] = await store.checkpoints();
    expect(checkpoint?.next_offset).toBe(other.offset);
  });
});
