import { describe, expect, it } from 'vitest';
import {
  BINDINGS_BY_FLOW,
  bindingOf,
  flowKeyText,
  frameKeyText,
  frameOf,
  JOIN_FRAMES,
  keyParams,
  lossless,
} from '../../../lib/adapters/context-store-held-rows.ts';
import { postgresContextStore } from '../../../lib/adapters/context-store-stores.ts';
import { inBatchTransaction } from '../../../lib/adapters/postgres/projector-store.ts';
import { mergeJoinFrame } from '../../../lib/context-store/join-frame.ts';
import type { JoinFrameRecord } from '../../../lib/context-store/ports.ts';
import { canonicalJson, PyFloat } from '../../../lib/contracts/canonical-json.ts';
import {
  type FlowBinding,
  flowBindingHash,
  type JoinFrameKey,
} from '../../../lib/contracts/context-store.ts';
import { PINS, RUN, SCENARIO_RUN, TOPIC } from '../../support/context-store.ts';
import { scriptedPool } from '../../support/scripted-pool.ts';

/**
 * The context store's Postgres transaction (lib/adapters/context-store-stores.ts), its other writes, against a
 * scripted pool: flow bindings (unchanged, hash mismatch, join key conflict with the frame as it stood before the
 * record, inserted once at COMMIT), the insert-once apply failure row, counters and checkpoints; and the held-rows
 * helpers (context-store-held-rows.ts): key text, row parsing, writes with nothing to write.
 */

const STREAM = `csfb.v0::${RUN}`;
const TS = '2026-03-08T00:01:03.106979Z';
const MERCHANT = '18446744073709551000';
const FLOW = '9000000000000000001';
const KEY: JoinFrameKey = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  merchant_id: MERCHANT,
  arrival_seq: 7n,
};
const EB = {
  topic: TOPIC.s3_flow_anchor_with_fraud_6B,
  partition: 2,
  offset: '49650000000000000009',
  offset_kind: 'kinesis_sequence' as const,
};
const SOURCE = { event_id: 'anchor-1', event_type: 's3_flow_anchor_with_fraud_6B', ts_utc: TS, eb_ref: EB };
const binding = (flow_id = FLOW, event_id = 'anchor-1'): FlowBinding => ({
  flow_id,
  join_frame_key: KEY,
  source_event: { ...SOURCE, event_id },
  authoritative_source_event_type: 's3_flow_anchor_with_fraud_6B',
  payload_hash: flowBindingHash(flow_id, KEY, event_id),
  pins: PINS,
  bound_at_utc: TS,
});
/** A frame whose flow anchor names `flowId`. */
function anchored(flowId: string): JoinFrameRecord {
  const payload = { merchant_id: BigInt(MERCHANT), arrival_seq: 7, flow_id: BigInt(flowId) };
  const state = mergeJoinFrame(undefined, KEY, 's3_flow_anchor_with_fraud_6B', payload, EB);
  return { state, payload_hash: 'e'.repeat(64), source_event: SOURCE };
}
/** Answers the binding and the frame stored for KEY (each optional). */
const stored = (b?: FlowBinding, f?: JoinFrameRecord) => (sql: string) => {
  if (sql.includes('FROM csfb_flow_bindings') && b)
    return { rows: [{ stream_id: STREAM, ...KEY, flow_id: b.flow_id, payload_hash: b.payload_hash }] };
  if (sql.includes('FROM csfb_join_frames') && f) {
    const json = { frame_json: canonicalJson(f.state), source_event_json: canonicalJson(f.source_event) };
    return { rows: [{ stream_id: STREAM, ...KEY, arrival_seq: '7', payload_hash: f.payload_hash, ...json }] };
  }
  return undefined;
};

describe('the context store Postgres transaction: flow bindings', () => {
  it('a stored binding of the flow: the same hash is unchanged, another a mismatch; nothing is written', async () => {
    const db = scriptedPool(stored(binding()));
    const outcomes = await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => [
      await t.insertFlowBinding(binding()),
      await t.insertFlowBinding(binding(FLOW, 'another-anchor')),
    ]);
    expect(outcomes).toEqual(['unchanged', 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH']);
    expect(db.log()).toEqual(['BEGIN', 'SELECT csfb_flow_bindings', 'COMMIT']);
    expect(db.sqlOf('FROM csfb_flow_bindings')[0]?.params).toEqual([[STREAM], [RUN], [SCENARIO_RUN], [FLOW]]);
  });

  it('no binding of the flow but the stored frame names another flow: a join key conflict; nothing is written', async () => {
    const db = scriptedPool(stored(undefined, anchored('9000000000000000002')));
    const outcome = await postgresContextStore(db.pool, STREAM).inTransaction((t) =>
      t.insertFlowBinding(binding()),
    );
    expect(outcome).toBe('FLOW_BINDING_JOIN_KEY_CONFLICT');
    expect(db.log()).toEqual(['BEGIN', 'SELECT csfb_flow_bindings', 'SELECT csfb_join_frames', 'COMMIT']);
  });

  it('otherwise inserted, read back as unchanged, and written once at COMMIT expecting a new row', async () => {
    const db = scriptedPool(stored(undefined, anchored(FLOW)));
    const outcomes = await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => [
      await t.insertFlowBinding(binding()),
      await t.insertFlowBinding(binding()),
    ]);
    expect(outcomes).toEqual(['inserted', 'unchanged']);
    expect(db.log()).toEqual([
      'BEGIN',
      'SELECT csfb_flow_bindings',
      'SELECT csfb_join_frames',
      'INSERT csfb_flow_bindings',
      'COMMIT',
    ]);
    const [insert] = db.sqlOf('INSERT INTO csfb_flow_bindings');
    expect(insert?.sql).toMatch(/ON CONFLICT DO NOTHING RETURNING 1$/);
    expect(insert?.params).toEqual([
      [STREAM],
      [RUN],
      [SCENARIO_RUN],
      [FLOW],
      [MERCHANT],
      ['7'],
      ['s3_flow_anchor_with_fraud_6B'],
      [binding().payload_hash],
      [canonicalJson(binding())],
      [TS],
    ]);
  });

  it('the frame consulted is the one before this record: an earlier record’s counts, the record’s own does not', async () => {
    const db = scriptedPool();
    const outcomes = await inBatchTransaction(db.pool, async (scope) => {
      const store = postgresContextStore(scope, STREAM);
      const own = await store.inTransaction(async (t) => {
        await t.writeJoinFrame(anchored('9000000000000000002'));
        return t.insertFlowBinding(binding(FLOW));
      });
      const later = await store.inTransaction((t) => t.insertFlowBinding(binding('9000000000000000003')));
      return [own, later];
    });
    expect(outcomes).toEqual(['inserted', 'FLOW_BINDING_JOIN_KEY_CONFLICT']);
    expect(db.sqlOf('INSERT INTO csfb_flow_bindings')[0]?.params[3]).toEqual([FLOW]);
  });
});

describe('the context store Postgres transaction: failures, counters, checkpoints', () => {
  it('apply failures are insert-once rows with canonical details; late_applied only for applied late context', async () => {
    const db = scriptedPool();
    const failure = (failure_id: string, reason_code: string, applied: boolean) => ({
      failure_id,
      reason_code,
      details: { applied, merchant_id: BigInt(MERCHANT), amount: 12.5 },
      platform_run_id: RUN,
      scenario_run_id: null,
      topic: EB.topic,
      partition: 2,
      offset: EB.offset,
      offset_kind: EB.offset_kind,
      event_id: 'anchor-1',
      event_type: null,
    });
    await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => {
      await t.recordApplyFailure(failure('b'.repeat(32), 'LATE_CONTEXT_EVENT', true));
      await t.recordApplyFailure(failure('a'.repeat(32), 'JOIN_KEY_MISSING', true));
      await t.recordApplyFailure(failure('c'.repeat(32), 'LATE_CONTEXT_EVENT', false));
      await t.recordApplyFailure(failure('b'.repeat(32), 'LATE_CONTEXT_EVENT', false));
    });
    expect(db.log()).toEqual(['BEGIN', 'INSERT csfb_join_apply_failures', 'COMMIT']);
    const [rows] = db.sqlOf('INSERT INTO csfb_join_apply_failures');
    expect(rows?.sql).toMatch(/details_json, late_applied\) VALUES \(\$1, [^)]*\$13\), \(\$14,/);
    expect(rows?.sql).toMatch(/ON CONFLICT \(failure_id\) DO NOTHING$/);
    // In failure_id order; a failure recorded twice keeps its first row.
    const row = (id: string, reason: string, applied: boolean, late: boolean) => {
      const details = `{"amount":12.5,"applied":${applied},"merchant_id":18446744073709551000}`;
      const place = [EB.topic, 2, EB.offset, 'kinesis_sequence', 'anchor-1', null];
      return [id.repeat(32), STREAM, RUN, null, ...place, reason, details, late];
    };
    expect(rows?.params).toEqual([
      ...row('a', 'JOIN_KEY_MISSING', true, false),
      ...row('b', 'LATE_CONTEXT_EVENT', true, true),
      ...row('c', 'LATE_CONTEXT_EVENT', false, false),
    ]);
  });

  it('counters add 1 per name a call names; a checkpoint is written before COMMIT', async () => {
    const db = scriptedPool();
    await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => {
      await t.incrementCounters(['seen', 'applied', 'seen']);
      await t.incrementCounters(['seen']);
      expect(await t.readCheckpoint(EB.topic, 2)).toBeUndefined();
      await t.writeCheckpoint({
        topic: EB.topic,
        partition: 2,
        next_offset: '10',
        offset_kind: 'kinesis_sequence',
        watermark_ts_utc: TS,
      });
    });
    expect(db.log()).toEqual([
      'BEGIN',
      'SELECT csfb_join_checkpoints',
      'INSERT csfb_join_checkpoints',
      'INSERT csfb_counters',
      'COMMIT',
    ]);
    expect(db.sqlOf('INSERT INTO csfb_counters')[0]?.params).toEqual([
      STREAM,
      'applied',
      1,
      STREAM,
      'seen',
      2,
    ]);
    expect(db.sqlOf('INSERT INTO csfb_join_checkpoints')[0]?.params).toEqual([
      [STREAM],
      [EB.topic],
      [2],
      ['10'],
      ['kinesis_sequence'],
      [TS],
    ]);
  });
});

describe('the context store held-rows helpers', () => {
  it('key params and key text: arrival_seq a decimal string', () => {
    const big = { ...KEY, arrival_seq: 18_446_744_073_709_551_615n };
    expect(keyParams(big)).toEqual([RUN, SCENARIO_RUN, MERCHANT, '18446744073709551615']);
    expect(frameKeyText(STREAM, big)).toBe(
      JSON.stringify([STREAM, RUN, SCENARIO_RUN, MERCHANT, '18446744073709551615']),
    );
    expect(flowKeyText(STREAM, big, FLOW)).toBe(JSON.stringify([STREAM, RUN, SCENARIO_RUN, FLOW]));
  });

  it('lossless keeps 64-bit integers and integral floats; frames and bindings parse back with a bigint arrival_seq', () => {
    const parsed = lossless<Record<string, unknown>>('{"id":18446744073709551615,"amount":12.0,"n":7}');
    expect(parsed).toEqual({ id: 18_446_744_073_709_551_615n, amount: new PyFloat(12), n: 7 });
    expect(canonicalJson(parsed)).toBe('{"amount":12.0,"id":18446744073709551615,"n":7}');
    const record = anchored(FLOW);
    const row = {
      payload_hash: 'e'.repeat(64),
      frame_json: canonicalJson(record.state),
      source_event_json: canonicalJson(SOURCE),
    };
    expect(frameOf(row)).toEqual(record);
    expect(frameOf(row)?.state.join_frame_key.arrival_seq).toBe(7n);
    expect([
      frameOf(undefined),
      frameOf({ ...row, payload_hash: null }),
      frameOf({ ...row, source_event_json: null }),
    ]).toEqual([undefined, undefined, undefined]);
    const parsedBinding = bindingOf({ binding_json: canonicalJson(binding()) });
    expect(parsedBinding).toEqual(binding());
    expect(parsedBinding?.join_frame_key.arrival_seq).toBe(7n);
    expect(bindingOf(undefined)).toBeUndefined();
  });

  it('writes with nothing to write send no statement', async () => {
    const db = scriptedPool();
    const client = await db.pool.connect();
    await JOIN_FRAMES.write(client, [
      { key: frameKeyText(STREAM, KEY), row: { record: undefined }, existed: false },
    ]);
    await BINDINGS_BY_FLOW.write(client, [
      { key: flowKeyText(STREAM, KEY, FLOW), row: { payload_hash: 'e'.repeat(64) }, existed: true },
    ]);
    expect(await BINDINGS_BY_FLOW.load(client, [flowKeyText(STREAM, KEY, FLOW)])).toEqual(new Map());
    expect(db.log()).toEqual(['SELECT csfb_flow_bindings']);
  });
});
