import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { graphEdgeId, graphEntityId } from '../../../lib/contracts/identity-graph.ts';
import {
  collectGraphStatus,
  DEFAULT_GRAPH_HEALTH_THRESHOLDS,
  deriveGraphHealth,
} from '../../../lib/identity-graph/health.ts';
import { applyIdentityGraphBatch } from '../../../lib/identity-graph/intake.ts';
import { linkedEntitiesQuery } from '../../../lib/identity-graph/query.ts';
import { graphRecord, PINS, SETTINGS } from '../../support/identity-graph.ts';
import { inMemoryIdentityGraphStore } from './in-memory-identity-graph-store.ts';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const GRAPH_PINS = { ...PINS, seed: 42 };
const idOf = (type: string, identifier: string, value: string) =>
  graphEntityId(type, identifier, value, GRAPH_PINS);
const FLOW = idOf('flow', 'flow_id', '9000000000000000001');
const ANCHOR = 's3_flow_anchor_with_fraud_6B';

describe('entity ids, edges', () => {
  it('entity_id follows the §2.2 recipe (a worked golden value)', () => {
    const preimage = [
      'flow:flow_id:9000000000000000001:platform_20260302T000000Z',
      'a'.repeat(64),
      'b'.repeat(64),
      '42',
      'baseline_v1',
      '2'.repeat(32),
      '1'.repeat(32),
    ].join('|');
    expect(FLOW).toBe(sha256(preimage));
    expect(FLOW).toBe('514860d95be337515bf8ed453a1035dc5ebdbe22db3125a1f0b2449e351223d0');
    // A falsy pin is "" in the scope key, as Python's `str(pin or "")`.
    expect(graphEntityId('ip', 'ip_id', 'x', { ...GRAPH_PINS, seed: 0, run_id: null })).toBe(
      sha256(
        `ip:ip_id:x:platform_20260302T000000Z|${'a'.repeat(64)}|${'b'.repeat(64)}||baseline_v1|${'2'.repeat(32)}|`,
      ),
    );
  });

  it('edge ids are the §1 recipe hash, first 32 hex', () => {
    const payload = { edge_type: 'flow_ip', src_entity_id: 's', dst_entity_id: 'd' };
    expect(graphEdgeId('flow_ip', 's', 'd')).toBe(
      sha256(canonicalJson({ recipe: 'ieg.edge_id.v1', payload })).slice(0, 32),
    );
  });

  it('arrival entities link to the flow of their anchor, whichever arrives first; edges are idempotent', async () => {
    const expected = ['account', 'device', 'instrument', 'ip', 'merchant', 'party'].map((t) => `flow_${t}`);
    for (const order of [
      ['s1_arrival_entities_6B', ANCHOR],
      [ANCHOR, 's1_arrival_entities_6B'],
    ]) {
      const store = inMemoryIdentityGraphStore();
      // The arrival entities carry other party/device ids than the anchor: those link to the flow too.
      const records = order.map((t) => graphRecord(t, { suffix: t === ANCHOR ? '1' : '2' }));
      await applyIdentityGraphBatch(store, [...records, ...records], SETTINGS);
      const edges = [...store.tables().edges.values()];
      expect(edges.every((e) => e.src_entity_id === FLOW)).toBe(true);
      expect(edges.map((e) => e.edge_type).sort()).toEqual(
        [...expected, ...expected.filter((t) => t !== 'flow_merchant')].sort(),
      );
      expect(edges.some((e) => e.dst_entity_id === idOf('party', 'party_id', 'party-2'))).toBe(true);
      expect(edges.some((e) => e.edge_type === 'flow_session')).toBe(false);
    }
  });

  it('traffic and arrival events add entities but no edges', async () => {
    const store = inMemoryIdentityGraphStore();
    await applyIdentityGraphBatch(
      store,
      [graphRecord('s3_event_stream_with_fraud_6B'), graphRecord('arrival_events_5B')],
      SETTINGS,
    );
    expect(store.tables().entities.size).toBe(2);
    expect(store.tables().edges.size).toBe(0);
  });
});

describe('linked entities within N hops (in-memory walk)', () => {
  /** Two flows sharing a device: flow 1 — device — flow 2 — its party. */
  async function twoFlows() {
    const store = inMemoryIdentityGraphStore();
    await applyIdentityGraphBatch(
      store,
      [
        graphRecord(ANCHOR, { suffix: 'a', arrivalSeq: 1, flowId: 'flow-1', payload: undefined }),
        graphRecord(ANCHOR, {
          arrivalSeq: 2,
          payload: {
            merchant_id: 5,
            arrival_seq: 2,
            flow_id: 'flow-2',
            device_id: 'device-a',
            party_id: 'p2',
          },
        }),
      ],
      SETTINGS,
    );
    return store;
  }

  it('answers by fewest hops, bounded by max_hops and limit', async () => {
    const store = await twoFlows();
    const device = idOf('device', 'device_id', 'device-a');
    const one = await linkedEntitiesQuery(store, { request_id: 'q1', entity_id: device, max_hops: 1 });
    expect(one).toMatchObject({ status: 'READY', entity_type: 'device', truncated: false });
    expect(one.linked.map((l) => [l.entity_type, l.hops])).toEqual([
      ['flow', 1],
      ['flow', 1],
    ]);
    const flowOne = idOf('flow', 'flow_id', 'flow-1');
    const three = await linkedEntitiesQuery(store, { request_id: 'q3', entity_id: flowOne, max_hops: 3 });
    const party2 = three.linked.find((l) => l.entity_id === idOf('party', 'party_id', 'p2'));
    expect(party2?.hops).toBe(3);
    expect(three.linked.find((l) => l.entity_id === device)?.hops).toBe(1);
    expect(three.linked.some((l) => l.entity_id === flowOne)).toBe(false);
    const cut = await linkedEntitiesQuery(store, {
      request_id: 'q4',
      entity_id: flowOne,
      max_hops: 3,
      limit: 2,
    });
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.linked).toHaveLength(2);
  });

  it('ENTITY_NOT_FOUND and INVALID_REQUEST', async () => {
    const store = await twoFlows();
    expect(
      await linkedEntitiesQuery(store, { request_id: 'q', entity_id: 'f'.repeat(64), max_hops: 2 }),
    ).toMatchObject({ status: 'ENTITY_NOT_FOUND', linked: [] });
    for (const bad of [
      { request_id: 'q', entity_id: FLOW, max_hops: 5 },
      { request_id: 'q', entity_id: 'x' },
      null,
    ])
      expect(await linkedEntitiesQuery(store, bad)).toMatchObject({ status: 'INVALID_REQUEST' });
  });
});

describe('health and status', () => {
  const t = DEFAULT_GRAPH_HEALTH_THRESHOLDS;
  const healthy = { watermarkAgeSeconds: 10, checkpointAgeSeconds: 10, applyFailureCount: 0, eventsSeen: 5 };

  it.each([
    [healthy, 'GREEN', []],
    [{ ...healthy, watermarkAgeSeconds: null }, 'AMBER', ['WATERMARK_MISSING']],
    [{ ...healthy, watermarkAgeSeconds: 150 }, 'AMBER', ['WATERMARK_LAGGING']],
    [{ ...healthy, watermarkAgeSeconds: 400 }, 'AMBER', ['WATERMARK_REPLAY_ADVISORY']],
    [{ ...healthy, watermarkAgeSeconds: 400, eventsSeen: 0 }, 'RED', ['WATERMARK_TOO_OLD']],
    [
      { ...healthy, watermarkAgeSeconds: 400, checkpointAgeSeconds: 130 },
      'RED',
      ['WATERMARK_TOO_OLD', 'CHECKPOINT_LAGGING'],
    ],
    [{ ...healthy, checkpointAgeSeconds: null }, 'AMBER', ['CHECKPOINT_MISSING']],
    [{ ...healthy, checkpointAgeSeconds: 300 }, 'RED', ['CHECKPOINT_TOO_OLD']],
    [{ ...healthy, applyFailureCount: 1 }, 'AMBER', ['APPLY_FAILURES_AMBER']],
    [{ ...healthy, applyFailureCount: 100 }, 'RED', ['APPLY_FAILURES_RED']],
  ] as const)('%o ⇒ %s %o', (input, state, reasons) => {
    expect(deriveGraphHealth(input, t)).toEqual({ state, reasons });
  });

  it('status: graph_version is sha256 of the canonical checkpoint basis; a failure makes it DEGRADED', async () => {
    const store = inMemoryIdentityGraphStore();
    const anchor = graphRecord(ANCHOR, { partition: 1 });
    const bad = graphRecord('some_new_event_type', { topic: 'fp.bus.traffic.fraud.v1' });
    await applyIdentityGraphBatch(store, [anchor, bad], SETTINGS);
    const status = await collectGraphStatus(store, {}, t, new Date('2026-03-08T00:00:30.000Z'));
    const basis = {
      stream_id: store.streamId,
      topics: {
        'fp.bus.context.flow_anchor.fraud.v1': {
          partitions: { '1': { next_offset: anchor.offset, offset_kind: 'kinesis_sequence' } },
        },
        'fp.bus.traffic.fraud.v1': {
          partitions: { '0': { next_offset: bad.offset, offset_kind: 'kinesis_sequence' } },
        },
      },
    };
    expect(status.graph_version?.version_id).toBe(sha256(canonicalJson(basis)));
    expect(status).toMatchObject({
      integrity_status: 'DEGRADED',
      apply_failure_count: 1,
      metrics: { events_seen: 2, mutating_applied: 1, unusable: 1 },
      health_state: 'AMBER',
      health_reasons: ['APPLY_FAILURES_AMBER'],
    });
  });
});
