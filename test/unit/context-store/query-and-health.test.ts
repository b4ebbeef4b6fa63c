import { describe, expect, it } from 'vitest';
import { applyContextBatch } from '../../../lib/context-store/intake.ts';
import {
  collectContextObservability,
  DEFAULT_CONTEXT_HEALTH_THRESHOLDS,
  deriveContextHealth,
} from '../../../lib/context-store/observability.ts';
import {
  fetchJoinFrameQuery,
  queryContext,
  resolveFlowBindingQuery,
} from '../../../lib/context-store/query.ts';
import { contextRecord, PINS, RUN, SCENARIO_RUN, SETTINGS } from '../../support/context-store.ts';
import { inMemoryContextStore } from './in-memory-context-store.ts';

const NOW = new Date('2026-03-08T00:05:00.000Z');
const FLOW = '9000000000000000001';
const KEY = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  merchant_id: '18446744073709551000',
  arrival_seq: 7,
};
const resolve = (store: ReturnType<typeof inMemoryContextStore>, pins: object = PINS, flow_id = FLOW) =>
  resolveFlowBindingQuery(store, { request_id: 'r1', pins, flow_id }, NOW);

describe('context store queries', () => {
  it('READY: arrival_event and flow_anchor of the same (merchant_id, arrival_seq)', async () => {
    const store = inMemoryContextStore();
    await applyContextBatch(
      store,
      [contextRecord('arrival_events_5B'), contextRecord('s3_flow_anchor_with_fraud_6B')],
      SETTINGS,
    );
    const answer = await resolve(store);
    expect(answer).toMatchObject({
      status: 'READY',
      reason_codes: ['READY'],
      flow_id: FLOW,
      join_frame_key: { ...KEY, arrival_seq: 7n },
      context_complete: true,
      flow_binding: { flow_id: FLOW },
    });
    expect(Object.keys(answer.context_refs ?? {}).sort()).toEqual(['arrival_events', 'flow_anchor']);
    expect(answer.evidence_refs.map((e) => e.kind)).toEqual([
      'flow_binding_source_event',
      'join_frame_source_event',
      'join_checkpoint',
    ]);
  });

  it('MISSING_BINDING for an unknown flow', async () => {
    expect(await resolve(inMemoryContextStore(), PINS, 'nope')).toMatchObject({
      status: 'MISSING_BINDING',
      reason_codes: ['FLOW_BINDING_NOT_FOUND'],
    });
  });

  it('MISSING_JOIN_FRAME / JOIN_FRAME_INCOMPLETE for a binding whose frame lacks the arrival event', async () => {
    const store = inMemoryContextStore();
    await applyContextBatch(store, [contextRecord('s3_flow_anchor_with_fraud_6B')], SETTINGS);
    expect(await resolve(store)).toMatchObject({
      status: 'MISSING_JOIN_FRAME',
      reason_codes: ['JOIN_FRAME_INCOMPLETE'],
      context_complete: false,
    });
  });

  it('MISSING_JOIN_FRAME / JOIN_FRAME_NOT_FOUND for a binding without a frame (and a join miss)', async () => {
    const source = inMemoryContextStore();
    await applyContextBatch(source, [contextRecord('s3_flow_anchor_with_fraud_6B')], SETTINGS);
    const binding = await source.readFlowBinding(RUN, SCENARIO_RUN, FLOW);
    const store = inMemoryContextStore();
    if (binding) store.seedBinding(binding);
    expect(await resolve(store)).toMatchObject({
      status: 'MISSING_JOIN_FRAME',
      reason_codes: ['JOIN_FRAME_NOT_FOUND'],
    });
    expect(await store.metrics({})).toMatchObject({ join_hits: 0, join_misses: 1 });
  });

  it('CONFLICT / PINS_MISMATCH when the request pins differ from the binding (both selectors)', async () => {
    const store = inMemoryContextStore();
    await applyContextBatch(store, [contextRecord('s3_flow_anchor_with_fraud_6B')], SETTINGS);
    const other = { ...PINS, manifest_fingerprint: 'f'.repeat(64) };
    expect(await resolve(store, other)).toMatchObject({
      status: 'CONFLICT',
      reason_codes: ['PINS_MISMATCH'],
    });
    expect(
      await fetchJoinFrameQuery(store, { request_id: 'r2', pins: other, join_frame_key: KEY }, NOW),
    ).toMatchObject({
      status: 'CONFLICT',
      reason_codes: ['PINS_MISMATCH'],
    });
    expect(await resolve(store, { ...PINS, run_id: 'e'.repeat(32) })).toMatchObject({ status: 'CONFLICT' });
  });

  it('fetch_join_frame: READY with the binding when the frame exists, JOIN_FRAME_NOT_FOUND otherwise', async () => {
    const store = inMemoryContextStore();
    await applyContextBatch(store, [contextRecord('arrival_events_5B')], SETTINGS);
    const found = await fetchJoinFrameQuery(
      store,
      { request_id: 'r3', pins: PINS, join_frame_key: KEY },
      NOW,
    );
    expect(found).toMatchObject({ status: 'READY', context_complete: false });
    expect(found.flow_binding).toBeUndefined();
    const missing = { ...KEY, arrival_seq: '8' };
    expect(
      await fetchJoinFrameQuery(store, { request_id: 'r4', pins: PINS, join_frame_key: missing }, NOW),
    ).toMatchObject({ status: 'MISSING_JOIN_FRAME', reason_codes: ['JOIN_FRAME_NOT_FOUND'] });
  });

  it.each([
    ['both selectors', { query_kind: 'resolve_flow_binding', flow_id: FLOW, join_frame_key: KEY }],
    ['no selector', { query_kind: 'fetch_join_frame' }],
    ['the other kind’s selector', { query_kind: 'fetch_join_frame', flow_id: FLOW }],
    ['unknown kind', { query_kind: 'drop_tables', flow_id: FLOW }],
    ['bad pins', { query_kind: 'resolve_flow_binding', flow_id: FLOW, pins: { platform_run_id: RUN } }],
  ])('INVALID_REQUEST: %s', async (_name, body) => {
    const answer = await queryContext(
      inMemoryContextStore(),
      { request_id: 'bad', pins: PINS, ...body },
      NOW,
    );
    expect(answer).toMatchObject({
      request_id: 'bad',
      status: 'INVALID_REQUEST',
      reason_codes: ['INVALID_REQUEST'],
    });
    expect(answer.detail).toBeTruthy();
  });

  it('INVALID_REQUEST for a value that is not an object', async () => {
    expect(await queryContext(inMemoryContextStore(), 'hello', NOW)).toMatchObject({
      request_id: 'invalid-request',
      status: 'INVALID_REQUEST',
    });
  });
});

describe('context store health and reconciliation', () => {
  const metrics = {
    join_hits: 0,
    join_misses: 0,
    binding_conflicts: 0,
    apply_failures: 0,
    apply_failures_hard: 0,
    late_context_applied: 0,
  };
  const t = DEFAULT_CONTEXT_HEALTH_THRESHOLDS;

  it('GREEN when fresh and clean; AMBER/RED by each rule; RED never lowered by a later AMBER', () => {
    expect(deriveContextHealth(metrics, 1, 1, t)).toEqual({ state: 'GREEN', reasons: [] });
    expect(deriveContextHealth(metrics, null, null, t)).toEqual({
      state: 'AMBER',
      reasons: ['WATERMARK_MISSING', 'CHECKPOINT_MISSING'],
    });
    expect(deriveContextHealth(metrics, 120, 1, t)).toMatchObject({
      state: 'AMBER',
      reasons: ['WATERMARK_OLD'],
    });
    expect(deriveContextHealth(metrics, 1, 300, t)).toMatchObject({
      state: 'RED',
      reasons: ['CHECKPOINT_TOO_OLD'],
    });
    expect(deriveContextHealth({ ...metrics, join_misses: 10 }, 1, 1, t).state).toBe('RED');
    expect(deriveContextHealth({ ...metrics, join_misses: 1 }, 1, 1, t).reasons).toEqual([
      'JOIN_MISSES_AMBER',
    ]);
    expect(deriveContextHealth({ ...metrics, binding_conflicts: 5 }, 1, 1, t).reasons).toEqual([
      'BINDING_CONFLICTS_RED',
    ]);
    expect(deriveContextHealth({ ...metrics, apply_failures_hard: 1 }, 1, 1, t).reasons).toEqual([
      'APPLY_FAILURES_AMBER',
    ]);
    expect(
      deriveContextHealth({ ...metrics, apply_failures: 3, late_context_applied: 3 }, 1, 1, t).state,
    ).toBe('GREEN');
    expect(deriveContextHealth({ ...metrics, apply_failures_hard: 1 }, 400, 1, t)).toEqual({
      state: 'RED',
      reasons: ['WATERMARK_TOO_OLD', 'APPLY_FAILURES_AMBER'],
    });
  });

  it('collects metrics, health and a reconciliation with the applied offset basis and anomalies', async () => {
    const store = inMemoryContextStore();
    await applyContextBatch(
      store,
      [
        contextRecord('arrival_events_5B', { tsUtc: '2026-03-08T00:04:00.000000Z' }),
        contextRecord('s3_flow_anchor_with_fraud_6B', { tsUtc: '2026-03-08T00:04:30.000000Z' }),
        contextRecord('arrival_events_5B', { payload: { merchant_id: 1 } }),
      ],
      SETTINGS,
    );
    const observed = await collectContextObservability(store, {
      platformRunId: RUN,
      thresholds: { ...t, amberCheckpointAgeSeconds: 1e12, redCheckpointAgeSeconds: 2e12 },
      thresholdPolicyRef: 'csfb.observability.v0',
      maxUnresolvedAnomalies: 10,
      now: NOW,
    });
    expect(observed.reconciliation).toMatchObject({
      stream_id: store.streamId,
      platform_run_id: RUN,
      metrics: { join_hits: 1, join_misses: 0, apply_failures: 1, apply_failures_hard: 1 },
      health_state: 'AMBER',
      health_reasons: ['APPLY_FAILURES_AMBER'],
      applied_offset_basis: { window_end_utc: '2026-03-08T00:04:30.000000Z' },
    });
    expect(observed.reconciliation.unresolved_anomalies.map((a) => a.reason_code)).toEqual([
      'JOIN_KEY_MISSING',
    ]);
    expect(observed.health).toMatchObject({ health_state: 'AMBER', watermark_age_seconds: 30 });
    expect(observed.metrics).toMatchObject({ metrics: { join_hits: 1 } });
  });
});
