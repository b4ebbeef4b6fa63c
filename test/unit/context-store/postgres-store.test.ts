import { afterEach, describe, expect, it, vi } from 'vitest';
import { postgresContextStore } from '../../../lib/adapters/context-store-stores.ts';
import { ConcurrentInsert } from '../../../lib/adapters/postgres/projector-store.ts';
import { mergeJoinFrame } from '../../../lib/context-store/join-frame.ts';
import type { IntakeRow, JoinFrameRecord } from '../../../lib/context-store/ports.ts';
import { canonicalJson, pyFloat } from '../../../lib/contracts/canonical-json.ts';
import type { JoinFrameKey } from '../../../lib/contracts/context-store.ts';
import { RUN, SCENARIO_RUN, TOPIC } from '../../support/context-store.ts';
import { type ScriptedCall, scriptedPool, storedAmong } from '../../support/scripted-pool.ts';

/**
 * The context store's Postgres transaction (lib/adapters/context-store-stores.ts) over its held rows
 * (context-store-held-rows.ts), against a scripted pool (the SQL itself runs in test/integration/context-store/):
 * prefetch in one unnest statement per table, intake dedupe outcomes and their insert expecting new rows (run again
 * on a conflict), join frames read back exactly and written as an upsert (stored row) or an insert (new row).
 */

const STREAM = `csfb.v0::${RUN}`;
const HASH = 'c'.repeat(64);
const OTHER = 'd'.repeat(64);
const TS = '2026-03-08T00:01:03.106979Z';
const MERCHANT = '18446744073709551000';
const EB = {
  topic: TOPIC.arrival_events_5B,
  partition: 1,
  offset: '49650000000000000001',
  offset_kind: 'kinesis_sequence' as const,
};
const key = (arrival_seq: bigint): JoinFrameKey => ({
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  merchant_id: MERCHANT,
  arrival_seq,
});
const INTAKE_COLUMNS = ['stream_id', 'platform_run_id', 'event_class', 'event_id'];
const FRAME_COLUMNS = ['stream_id', 'platform_run_id', 'scenario_run_id', 'merchant_id', 'arrival_seq'];
const intake = (event_id: string, payload_hash = HASH): IntakeRow => ({
  platform_run_id: RUN,
  event_class: 'context_arrival',
  event_id,
  payload_hash,
  eb_ref: EB,
  event_ts_utc: TS,
});
const storedIntake = (event_id: string) => ({ ...intake(event_id), stream_id: STREAM });

/** A frame with its arrival event (a 64-bit merchant id, a float written `12.0`) and, given a flow, its anchor. */
function frame(k: JoinFrameKey, flowId?: bigint): JoinFrameRecord {
  const payload = { merchant_id: BigInt(MERCHANT), arrival_seq: 7, amount: pyFloat(12) };
  let state = mergeJoinFrame(undefined, k, 'arrival_events_5B', payload, EB);
  if (flowId !== undefined)
    state = mergeJoinFrame(state, k, 's3_flow_anchor_with_fraud_6B', { ...payload, flow_id: flowId }, EB);
  const source_event = {
    event_id: `event-${k.arrival_seq}`,
    event_type: 'arrival_events_5B',
    ts_utc: TS,
    eb_ref: EB,
  };
  return { state, payload_hash: HASH, source_event };
}
/** The stored row of a frame (numeric arrival_seq read back as text); `record` undefined: a row no role filled. */
const frameRow = (k: JoinFrameKey, record: JoinFrameRecord | undefined) => ({
  stream_id: STREAM,
  ...k,
  arrival_seq: k.arrival_seq.toString(),
  payload_hash: record?.payload_hash ?? null,
  frame_json: record ? canonicalJson(record.state) : null,
  source_event_json: record ? canonicalJson(record.source_event) : null,
});
const selects = (calls: ScriptedCall[]) => calls.filter((c) => c.sql.startsWith('SELECT'));

afterEach(() => {
  vi.useRealTimers();
});

describe('the context store Postgres transaction: prefetch and intake rows', () => {
  it('prefetch loads each table once from unnest columns; later reads of those keys send no SELECT', async () => {
    const [small, big] = [key(7n), key(18_446_744_073_709_551_615n)];
    const db = scriptedPool((sql, params) => {
      if (sql.includes('FROM csfb_intake_dedupe'))
        return { rows: storedAmong(params, INTAKE_COLUMNS, [storedIntake('e-1')]) };
      if (sql.includes('FROM csfb_join_frames'))
        return { rows: storedAmong(params, FRAME_COLUMNS, [frameRow(small, frame(small, 5n))]) };
      return undefined;
    });
    const binding = { flow_id: '5', join_frame_key: small };
    const seen = await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => {
      await t.prefetch({
        intakes: [intake('e-2'), intake('e-1')],
        joinFrames: [small, big],
        bindings: [binding],
      });
      const loaded = selects(db.calls).length;
      const outcome = [
        await t.registerIntake(intake('e-1')),
        await t.registerIntake(intake('e-2')),
        (await t.lockJoinFrame(small))?.state.flow_id,
        await t.lockJoinFrame(big),
      ];
      return { loaded, after: selects(db.calls).length, outcome };
    });
    expect(seen).toEqual({ loaded: 3, after: 3, outcome: ['duplicate', 'inserted', '5', undefined] });
    expect(db.sqlOf('FROM csfb_intake_dedupe')[0]?.params).toEqual([
      [STREAM, STREAM],
      [RUN, RUN],
      ['context_arrival', 'context_arrival'],
      ['e-1', 'e-2'],
    ]);
    // Keys in key text order; arrival_seq as a decimal string cast to numeric; stored frames locked.
    const [frames] = db.sqlOf('FROM csfb_join_frames');
    expect(frames?.sql).toMatch(/\$5::numeric\[\]\)\)[\s\S]*FOR UPDATE$/);
    expect(frames?.params).toEqual([
      [STREAM, STREAM],
      [RUN, RUN],
      [SCENARIO_RUN, SCENARIO_RUN],
      [MERCHANT, MERCHANT],
      ['18446744073709551615', '7'],
    ]);
    expect(db.sqlOf('FROM csfb_flow_bindings')[0]?.params).toEqual([[STREAM], [RUN], [SCENARIO_RUN], ['5']]);
    expect(db.log().slice(4)).toEqual(['INSERT csfb_intake_dedupe', 'COMMIT']);
  });

  it('a stored hash is duplicate, another mismatch, an absent key inserted once, read back without a SELECT', async () => {
    const rows = [storedIntake('same'), storedIntake('changed')];
    const db = scriptedPool((sql, params) =>
      sql.includes('FROM csfb_intake_dedupe')
        ? { rows: storedAmong(params, INTAKE_COLUMNS, rows) }
        : undefined,
    );
    const outcomes = await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => [
      await t.registerIntake(intake('same')),
      await t.registerIntake(intake('changed', OTHER)),
      await t.registerIntake(intake('new')),
      await t.registerIntake(intake('new')),
      await t.registerIntake(intake('new', OTHER)),
    ]);
    expect(outcomes).toEqual(['duplicate', 'mismatch', 'inserted', 'duplicate', 'mismatch']);
    expect(selects(db.calls).map((c) => c.params[3])).toEqual([['same'], ['changed'], ['new']]);
    expect(db.log().slice(4)).toEqual(['INSERT csfb_intake_dedupe', 'COMMIT']);
    const [insert] = db.sqlOf('INSERT INTO csfb_intake_dedupe');
    expect(insert?.sql).toMatch(/offset_kind, first_seen_ts_utc\)[\s\S]*ON CONFLICT DO NOTHING RETURNING 1$/);
    expect(insert?.params).toEqual([
      [STREAM],
      [RUN],
      ['context_arrival'],
      ['new'],
      [HASH],
      [EB.topic],
      [1],
      [EB.offset],
      ['kinesis_sequence'],
      [TS],
    ]);
  });

  it('an intake row another transaction keeps inserting meanwhile: run again, then ConcurrentInsert (40001)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const db = scriptedPool((sql) =>
      sql.startsWith('INSERT INTO csfb_intake_dedupe') ? { rowCount: 0 } : undefined,
    );
    const running = postgresContextStore(db.pool, STREAM)
      .inTransaction((t) => t.registerIntake(intake('e-1')))
      .catch((error: unknown) => error);
    await vi.runAllTimersAsync();
    const error = await running;
    expect(error).toBeInstanceOf(ConcurrentInsert);
    expect(error).toMatchObject({ code: '40001' });
    const attempt = ['BEGIN', 'SELECT csfb_intake_dedupe', 'INSERT csfb_intake_dedupe', 'ROLLBACK'];
    expect(db.log()).toEqual(Array.from({ length: 6 }, () => attempt).flat());
  });
});

describe('the context store Postgres transaction: join frames', () => {
  it('a stored frame reads back exactly and is written again as an upsert', async () => {
    const k = key(7n);
    const stored = frame(k);
    const db = scriptedPool((sql, params) =>
      sql.includes('FROM csfb_join_frames')
        ? { rows: storedAmong(params, FRAME_COLUMNS, [frameRow(k, stored)]) }
        : undefined,
    );
    const next = { ...frame(k, 9_000_000_000_000_000_001n), payload_hash: OTHER };
    const found = await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => {
      const before = await t.lockJoinFrame(k);
      await t.writeJoinFrame(next);
      return { before, after: await t.lockJoinFrame(k) };
    });
    // arrival_seq a bigint again, the 64-bit merchant id exact, 12.0 still a float: the same canonical bytes.
    expect(found).toEqual({ before: stored, after: next });
    expect(found.before?.state.join_frame_key.arrival_seq).toBe(7n);
    expect(found.before?.state.arrival_event?.merchant_id).toBe(18_446_744_073_709_551_000n);
    expect(canonicalJson(found.before?.state)).toBe(frameRow(k, stored).frame_json);
    expect(db.log()).toEqual(['BEGIN', 'SELECT csfb_join_frames', 'INSERT csfb_join_frames', 'COMMIT']);
    const [write] = db.sqlOf('INSERT INTO csfb_join_frames');
    expect(write?.sql).toMatch(
      /ON CONFLICT \(stream_id, .*arrival_seq\) DO UPDATE SET payload_hash = EXCLUDED/,
    );
    expect(write?.params).toEqual([
      [STREAM],
      [RUN],
      [SCENARIO_RUN],
      [MERCHANT],
      ['7'],
      [OTHER],
      [canonicalJson(next.state)],
      [canonicalJson(next.source_event)],
      [true],
    ]);
    expect(canonicalJson(next.state)).toContain('"flow_id":"9000000000000000001"');
  });

  it('a stored row no role filled reads as no frame but is upserted; an absent one is inserted expecting new', async () => {
    const [empty, absent] = [key(8n), key(9n)];
    const db = scriptedPool((sql, params) =>
      sql.includes('FROM csfb_join_frames')
        ? { rows: storedAmong(params, FRAME_COLUMNS, [frameRow(empty, undefined)]) }
        : undefined,
    );
    const found = await postgresContextStore(db.pool, STREAM).inTransaction(async (t) => {
      const seen = [await t.lockJoinFrame(absent), await t.lockJoinFrame(empty)];
      await t.writeJoinFrame(frame(absent));
      await t.writeJoinFrame(frame(empty));
      return seen;
    });
    expect(found).toEqual([undefined, undefined]);
    const writes = db.sqlOf('INSERT INTO csfb_join_frames');
    expect(writes.map((w) => /DO UPDATE/.test(w.sql))).toEqual([true, false]);
    expect(writes[1]?.sql).toMatch(/ON CONFLICT DO NOTHING RETURNING 1$/);
    expect(writes.map((w) => w.params[4])).toEqual([['8'], ['9']]);
    expect(writes[1]?.params.slice(5)).toEqual([
      [HASH],
      [canonicalJson(frame(absent).state)],
      [canonicalJson(frame(absent).source_event)],
      [false],
    ]);
  });
});
