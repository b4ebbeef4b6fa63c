import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ACTION_LAYER_POLICY_V0, authorizeIntent } from '../../../lib/action-layer/authz.ts';
import { faultInjectingExecutor } from '../../../lib/action-layer/executor.ts';
import { handleActionIntents } from '../../../lib/action-layer/intake.ts';
import { deniedOutcome } from '../../../lib/action-layer/outcome.ts';
import type { SemanticClaim } from '../../../lib/action-layer/ports.ts';
import { postgresActionLayerStore } from '../../../lib/adapters/action-layer-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { intentHash, outcomeHash, semanticKey } from '../../../lib/contracts/action-layer.ts';
import {
  admitAll,
  igUnavailable,
  intentPayload,
  intentRecord,
  PINS,
  recordingSleeper,
  scriptedPublisher,
  steppingClock,
} from '../../unit/action-layer/factories.ts';

/**
 * The Action Layer's store on the shared local cloud's Postgres (migration 0017), one stream id per test: the
 * semantic ledger's claims (NEW, duplicate with its recorded outcome and publish decision, hash mismatch; one
 * winner when two claim at once), the outcome append with its hash guard and ledger link, publish decisions (an
 * AMBIGUOUS one replaced, a settled one kept), counters, and a whole batch through the intake: an AMBIGUOUS publish
 * retried without a second execution.
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 4 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const streamId = () => `al.v0::${PINS.platform_run_id}::test-${randomUUID()}`;
const NORMAL = { mode: 'NORMAL', allow_execution: true, reason: '' };

function claimOf(sourceEventId: string, overrides: Parameters<typeof intentPayload>[1] = {}): SemanticClaim {
  const intent = intentPayload(sourceEventId, overrides);
  return {
    platform_run_id: intent.pins.platform_run_id,
    scenario_run_id: intent.pins.scenario_run_id,
    semantic_key: semanticKey(intent.pins, intent.idempotency_key),
    idempotency_key: intent.idempotency_key,
    action_id: intent.action_id,
    decision_id: intent.decision_id,
    intent_hash: intentHash(intent),
    first_seen_at_utc: '2026-12-07T10:00:01.000000Z',
  };
}

describe('action layer store on Postgres', () => {
  it('claims: NEW once; then a duplicate (with its outcome and publish decision) or a hash mismatch', async () => {
    const store = postgresActionLayerStore(pool, streamId());
    const a = claimOf('evt-a');
    const b = claimOf('evt-b');
    expect(await store.claim([a, b])).toEqual([{ status: 'NEW' }, { status: 'NEW' }]);
    expect(await store.claim([a])).toEqual([{ status: 'DROP_DUPLICATE', outcome: undefined }]);

    const intent = intentPayload('evt-a');
    const outcome = deniedOutcome(
      intent,
      authorizeIntent(intent, ACTION_LAYER_POLICY_V0, undefined),
      new Date('2026-12-07T10:00:02Z'),
    );
    expect(await store.append(a.semantic_key, outcome, outcomeHash(outcome))).toBe('NEW');
    await store.recordPublish([
      {
        outcome_id: outcome.outcome_id,
        decision: 'AMBIGUOUS',
        receipt_ref: null,
        reason_code: 'IG_UNAVAILABLE',
      },
    ]);
    const changed = { ...b, intent_hash: 'f'.repeat(64) };
    expect(await store.claim([a, changed, claimOf('evt-c')])).toEqual([
      { status: 'DROP_DUPLICATE', outcome: { outcome, publish_decision: 'AMBIGUOUS' } },
      { status: 'HASH_MISMATCH', stored_intent_hash: b.intent_hash },
      { status: 'NEW' },
    ]);
    // Another stream (another run's scope) has a ledger of its own.
    expect(await postgresActionLayerStore(pool, streamId()).claim([a])).toEqual([{ status: 'NEW' }]);
  });

  it('two deliveries claiming the same intent at once: exactly one is NEW', async () => {
    const stream = streamId();
    const claims = ['evt-1', 'evt-2', 'evt-3'].map((id) => claimOf(id));
    const [first, second] = await Promise.all([
      postgresActionLayerStore(pool, stream).claim(claims),
      postgresActionLayerStore(pool, stream).claim([...claims].reverse()),
    ]);
    const newOnes = [...(first ?? []), ...(second ?? [])].filter((c) => c.status === 'NEW');
    expect(newOnes).toHaveLength(3);
    expect([...(first ?? []), ...(second ?? [])].filter((c) => c.status === 'DROP_DUPLICATE')).toHaveLength(
      3,
    );
  });

  it('append: NEW, the same outcome DUPLICATE, another under the same id HASH_MISMATCH (nothing overwritten)', async () => {
    const stream = streamId();
    const store = postgresActionLayerStore(pool, stream);
    const seed = 2n ** 60n + 7n;
    const intent = intentPayload('evt-append', { pins: { ...PINS, seed } });
    const claim = claimOf('evt-append', { pins: { ...PINS, seed } });
    await store.claim([claim]);
    const authz = authorizeIntent(intent, ACTION_LAYER_POLICY_V0, NORMAL);
    const outcome = deniedOutcome(intent, authz, new Date('2026-12-07T10:00:02Z'));
    expect(await store.append(claim.semantic_key, outcome, outcomeHash(outcome))).toBe('NEW');
    expect(await store.append(claim.semantic_key, outcome, outcomeHash(outcome))).toBe('DUPLICATE');
    const later = { ...outcome, completed_at_utc: '2026-12-07T10:05:00.000000Z' };
    expect(await store.append(claim.semantic_key, later, outcomeHash(later))).toBe('HASH_MISMATCH');
    const [answer] = await store.claim([claim]);
    // The stored outcome comes back exactly, a uint64 seed beyond 2^53 included.
    expect(answer).toEqual({ status: 'DROP_DUPLICATE', outcome: { outcome, publish_decision: null } });
    const rows = await pool.query('SELECT outcome_id FROM al_semantic_ledger WHERE stream_id = $1', [stream]);
    expect(rows.rows).toEqual([{ outcome_id: outcome.outcome_id }]);
  });

  it('publish decisions: AMBIGUOUS is replaced by the next answer, a settled one is kept; counters add up', async () => {
    const stream = streamId();
    const store = postgresActionLayerStore(pool, stream);
    const [x, y] = ['a'.repeat(32), 'b'.repeat(32)];
    await store.recordPublish([
      { outcome_id: x, decision: 'AMBIGUOUS', receipt_ref: null, reason_code: 'IG_UNAVAILABLE:timeout' },
      { outcome_id: y, decision: 'ADMIT', receipt_ref: 's3://r/y', reason_code: null },
    ]);
    await store.recordPublish([
      { outcome_id: x, decision: 'DUPLICATE', receipt_ref: 's3://r/x', reason_code: null },
      { outcome_id: y, decision: 'AMBIGUOUS', receipt_ref: null, reason_code: 'IG_UNAVAILABLE:timeout' },
    ]);
    const rows = await pool.query(
      `SELECT outcome_id, publish_decision, receipt_ref, reason_code, attempts FROM al_outcome_publish
       WHERE stream_id = $1 ORDER BY outcome_id`,
      [stream],
    );
    expect(rows.rows).toEqual([
      {
        outcome_id: x,
        publish_decision: 'DUPLICATE',
        receipt_ref: 's3://r/x',
        reason_code: null,
        attempts: 2,
      },
      { outcome_id: y, publish_decision: 'ADMIT', receipt_ref: 's3://r/y', reason_code: null, attempts: 1 },
    ]);
    await store.addMetrics({ intake_total: 2, publish_admit_total: 1, outcome_failed_total: 0 });
    await store.addMetrics({ intake_total: 3 });
    expect(await store.metrics()).toEqual({ intake_total: 5, publish_admit_total: 1 });
  });

  it('a batch through the intake: AMBIGUOUS publish, redelivered, same outcome ids, executed once', async () => {
    const store = postgresActionLayerStore(pool, streamId());
    const executor = faultInjectingExecutor({ STEP_UP: ['RETRYABLE_ERROR'] });
    const ig = scriptedPublisher(igUnavailable);
    const ports = {
      store,
      executor,
      publisher: ig.publisher,
      clock: steppingClock(),
      sleeper: recordingSleeper(),
    };
    const settings = { requiredPlatformRunId: PINS.platform_run_id, policy: ACTION_LAYER_POLICY_V0 };
    const batch = [
      intentRecord(intentPayload('evt-i1')),
      intentRecord(intentPayload('evt-i2', { action_kind: 'txn_refund' })),
      intentRecord(intentPayload('evt-i1')),
    ];
    const first = await handleActionIntents(batch, NORMAL, ports, settings);
    expect(first.retry).toBe(true);
    expect(first.records.map((r) => [r.disposition, r.status, r.publish])).toEqual([
      ['OUTCOME', 'EXECUTED', 'AMBIGUOUS'],
      ['OUTCOME', 'DENIED', 'AMBIGUOUS'],
      ['DUPLICATE_DROPPED', undefined, undefined],
    ]);
    ig.answer(admitAll);
    const again = await handleActionIntents(batch, NORMAL, ports, settings);
    expect(again.retry).toBe(false);
    expect(again.records.map((r) => [r.disposition, r.outcome_id, r.publish])).toEqual([
      ['REPUBLISHED', first.records[0]?.outcome_id, 'ADMIT'],
      ['REPUBLISHED', first.records[1]?.outcome_id, 'ADMIT'],
      ['DUPLICATE_DROPPED', undefined, undefined],
    ]);
    // One intent executed (two attempts: a retryable error, then the commit); the denied one never.
    expect(executor.requests.map((r) => [r.action_payload.source_event_id, r.attempt_seq])).toEqual([
      ['evt-i1', 1],
      ['evt-i1', 2],
    ]);
    expect(ig.calls[1]?.map((e) => e.event_id)).toEqual(ig.calls[0]?.map((e) => e.event_id));
    expect(await store.metrics()).toMatchObject({
      intake_total: 2,
      outcome_executed_total: 1,
      outcome_denied_total: 1,
      publish_ambiguous_total: 2,
      publish_admit_total: 2,
      duplicate_dropped_total: 2,
      execution_attempts_total: 2,
    });
    const third = await handleActionIntents(batch, NORMAL, ports, settings);
    expect(third.records.every((r) => r.disposition === 'DUPLICATE_DROPPED')).toBe(true);
    expect(ig.calls).toHaveLength(2);
  });
});
