import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresContextStore } from '../../../lib/adapters/context-store-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { applyContextBatch, applyContextRecord } from '../../../lib/context-store/intake.ts';
import {
  collectContextObservability,
  DEFAULT_CONTEXT_HEALTH_THRESHOLDS,
} from '../../../lib/context-store/observability.ts';
import { fetchJoinFrameQuery, resolveFlowBindingQuery } from '../../../lib/context-store/query.ts';
import { contextRecord, PINS, RUN, SCENARIO_RUN, SETTINGS } from '../../support/context-store.ts';

/** The Context Store core on the shared local cloud's Postgres (migration 0008), one stream id per test. */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 6 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const FLOW = '9000000000000000001';
const KEY = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  merchant_id: '18446744073709551000',
  arrival_seq: 7n,
};
const NOW = new Date('2026-03-08T00:05:00.000Z');
const freshStore = () => postgresContextStore(pool, `csfb.v0::${RUN}::test-${randomUUID()}`);

async function count(table: string, streamId: string): Promise<number> {
  const res = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE stream_id = $1`, [
    streamId,
  ]);
  return Number(res.rows[0]?.n);
}

describe('context store on Postgres', () => {
  it('merges the roles, binds the flow and answers READY with exact 64-bit ids', async () => {
    const store = freshStore();
    const outcomes = await applyContextBatch(
      store,
      [
        contextRecord('s1_arrival_entities_6B'),
        contextRecord('s3_flow_anchor_with_fraud_6B'),
        contextRecord('arrival_events_5B'),
      ],
      SETTINGS,
    );
    expect(outcomes.map((o) => o.status)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    const answer = await resolveFlowBindingQuery(store, { request_id: 'q1', pins: PINS, flow_id: FLOW }, NOW);
    expect(answer).toMatchObject({ status: 'READY', join_frame_key: KEY, context_complete: true });
    const frame = await store.readJoinFrame(KEY);
    expect(frame?.state.arrival_event?.merchant_id).toBe(18_446_744_073_709_551_000n);
    expect(frame?.state.flow_anchor?.amount).toBe(12.5);
    const fetched = await fetchJoinFrameQuery(
      store,
      { request_id: 'q2', pins: PINS, join_frame_key: KEY },
      NOW,
    );
    expect(fetched).toMatchObject({ status: 'READY', flow_id: FLOW });
    expect(
      await resolveFlowBindingQuery(store, { request_id: 'q3', pins: PINS, flow_id: 'x' }, NOW),
    ).toMatchObject({
      status: 'MISSING_BINDING',
    });
  });

  it('roles applied at the same time on two shards all land in the frame (row lock)', async () => {
    const store = freshStore();
    const records = [
      contextRecord('arrival_events_5B', { arrivalSeq: 11 }),
      contextRecord('s1_arrival_entities_6B', { arrivalSeq: 11 }),
      contextRecord('s3_flow_anchor_with_fraud_6B', { arrivalSeq: 11 }),
    ];
    await Promise.all(records.map((r) => applyContextRecord(store, r, SETTINGS)));
    const frame = await store.readJoinFrame({ ...KEY, arrival_seq: 11n });
    expect(frame?.state).toMatchObject({ context_complete: true, flow_id: FLOW });
    expect(frame?.state.arrival_entities).toBeDefined();
  });

  it('a redelivery changes nothing; a payload mismatch is an anomaly row and state is unchanged', async () => {
    const store = freshStore();
    const record = contextRecord('arrival_events_5B');
    await applyContextRecord(store, record, SETTINGS);
    const before = await store.readJoinFrame(KEY);
    expect(await applyContextRecord(store, record, SETTINGS)).toMatchObject({ status: 'DUPLICATE' });
    const changed = contextRecord('arrival_events_5B', {
      payload: { merchant_id: 18_446_744_073_709_551_000n, arrival_seq: 7, extra: 1 },
    });
    expect(await applyContextRecord(store, changed, SETTINGS)).toMatchObject({
      reason_code: 'INTAKE_PAYLOAD_HASH_MISMATCH',
    });
    expect(await store.readJoinFrame(KEY)).toEqual(before);
    expect(await count('csfb_intake_dedupe', store.streamId)).toBe(1);
    const [checkpoint] = await store.checkpoints();
    expect(checkpoint?.next_offset).toBe(changed.offset);
  });

  it('binding conflicts roll the record back, then write the failure and advance', async () => {
    const store = freshStore();
    await applyContextRecord(store, contextRecord('s3_flow_anchor_with_fraud_6B'), SETTINGS);
    const sameFlow = contextRecord('s3_flow_anchor_with_fraud_6B', { eventId: 'another', arrivalSeq: 8 });
    const sameKey = contextRecord('s2_flow_anchor_baseline_6B', { flowId: 'flow-2' });
    const outcomes = await applyContextBatch(store, [sameFlow, sameKey], SETTINGS);
    expect(outcomes.map((o) => (o.status === 'FAILED' ? o.reason_code : o.status))).toEqual([
      'FLOW_BINDING_PAYLOAD_HASH_MISMATCH',
      'FLOW_BINDING_JOIN_KEY_CONFLICT',
    ]);
    expect(await store.readJoinFrame({ ...KEY, arrival_seq: 8n })).toBeUndefined();
    expect(await count('csfb_join_frames', store.streamId)).toBe(1);
    expect(await count('csfb_intake_dedupe', store.streamId)).toBe(1);
    expect(await count('csfb_flow_bindings', store.streamId)).toBe(1);
    expect((await store.metrics({ platformRunId: RUN })).binding_conflicts).toBe(2);
  });

  it('late context is applied and counted; other runs are skipped with RUN_SCOPE_MISMATCH; reconciliation', async () => {
    const store = freshStore();
    await applyContextBatch(
      store,
      [
        contextRecord('arrival_events_5B', { tsUtc: '2026-03-08T00:04:00.000000Z' }),
        contextRecord('arrival_events_5B', { arrivalSeq: 3, tsUtc: '2026-03-08T00:01:00.000000Z' }),
        contextRecord('arrival_events_5B', { envelope: { platform_run_id: 'platform_20260303T000000Z' } }),
      ],
      SETTINGS,
    );
    const observed = await collectContextObservability(store, {
      thresholds: DEFAULT_CONTEXT_HEALTH_THRESHOLDS,
      thresholdPolicyRef: 'csfb.observability.v0',
      maxUnresolvedAnomalies: 10,
      now: NOW,
    });
    expect(observed.reconciliation.metrics).toEqual({
      join_hits: 0,
      join_misses: 0,
      binding_conflicts: 0,
      apply_failures: 2,
      apply_failures_hard: 1,
      late_context_applied: 1,
    });
    expect(observed.reconciliation.unresolved_anomalies.map((a) => a.reason_code).sort()).toEqual([
      'LATE_CONTEXT_EVENT',
      'RUN_SCOPE_MISMATCH',
    ]);
    expect(observed.reconciliation.applied_offset_basis).toMatchObject({
      window_end_utc: '2026-03-08T00:04:00.000000Z',
    });
    expect(observed.health).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['APPLY_FAILURES_AMBER'],
    });
  });
});
