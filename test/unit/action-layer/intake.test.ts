import { describe, expect, it } from 'vitest';
import { ACTION_LAYER_POLICY_V0, type ExecutionPosture } from '../../../lib/action-layer/authz.ts';
import { faultInjectingExecutor, type ScriptedFault } from '../../../lib/action-layer/executor.ts';
import { handleActionIntents } from '../../../lib/action-layer/intake.ts';
import type { ActionLayerStore } from '../../../lib/action-layer/ports.ts';
import {
  type ActionLayerBusRecord,
  executionOutcomeId,
  semanticKey,
} from '../../../lib/contracts/action-layer.ts';
import type { ActionIntentPayload } from '../../../lib/contracts/decision-lane.ts';
import {
  admitAll,
  busRecord,
  igUnavailable,
  intentEnvelope,
  intentPayload,
  intentRecord,
  memoryStore,
  PINS,
  recordingSleeper,
  scriptedPublisher,
  steppingClock,
} from './factories.ts';

/**
 * A batch of fp.bus.rtdl.v1 records through the Action Layer's intake (downstream.md §3.3, §9 #10–#12) against the
 * in-memory store, a fault-injecting executor and a scripted IG: one execution per intent however often it comes,
 * quarantine on a changed payload, denied outcomes published, the retry engine's terminals, and a publish that stays
 * AMBIGUOUS failing the batch so that its redelivery republishes the same outcome without executing again.
 */

const NORMAL: ExecutionPosture = { mode: 'NORMAL', allow_execution: true, reason: '' };
const settings = { requiredPlatformRunId: PINS.platform_run_id, policy: ACTION_LAYER_POLICY_V0 };

function harness(
  faults: Record<string, ScriptedFault[]> = {},
  store: ActionLayerStore = memoryStore().store,
) {
  const executor = faultInjectingExecutor(faults);
  const ig = scriptedPublisher();
  const sleeper = recordingSleeper();
  const ports = { store, executor, publisher: ig.publisher, clock: steppingClock(), sleeper };
  // An explicit undefined posture is "none could be read", not the default.
  const deliver = (records: ActionLayerBusRecord[], ...posture: [ExecutionPosture | undefined] | []) =>
    handleActionIntents(records, posture.length === 0 ? NORMAL : posture[0], ports, settings);
  return { executor, ig, sleeper, deliver };
}

const published = (ig: ReturnType<typeof scriptedPublisher>) => ig.calls.flat().map((e) => e.payload);

describe('idempotency (§9 #10)', () => {
  it('the same intent twice: one EXECUTED outcome with a deterministic id; the duplicate dropped, not executed', async () => {
    const memory = memoryStore();
    const { executor, ig, deliver } = harness({}, memory.store);
    const intent = intentPayload('evt-1');
    const first = await deliver([intentRecord(intent)]);
    const outcomeId = executionOutcomeId(intent, {
      terminal_state: 'EXECUTED',
      reason_code: 'EXECUTED',
      final_attempt_seq: 1,
    });
    expect(first.records).toMatchObject([
      { disposition: 'OUTCOME', status: 'EXECUTED', outcome_id: outcomeId, publish: 'ADMIT', executed: true },
    ]);
    expect(first.retry).toBe(false);
    const second = await deliver([
      intentRecord({ ...intent, requested_at_utc: '2026-12-07T10:09:00.000000Z' }),
    ]);
    expect(second.records).toMatchObject([
      { disposition: 'DUPLICATE_DROPPED', detail: 'SEMANTIC_DUPLICATE' },
    ]);
    expect(second.records[0]?.executed).toBeUndefined();
    expect(executor.requests).toHaveLength(1);
    expect(executor.requests[0]?.idempotency_token).toBe(semanticKey(intent.pins, intent.idempotency_key));
    expect(published(ig).map((o) => [o.outcome_id, o.status])).toEqual([[outcomeId, 'EXECUTED']]);
    expect(await memory.store.metrics()).toMatchObject({
      intake_total: 1,
      outcome_executed_total: 1,
      publish_admit_total: 1,
      duplicate_dropped_total: 1,
      execution_attempts_total: 1,
    });
  });

  it('the same intent twice in one batch: executed once, one envelope published', async () => {
    const { executor, ig, deliver } = harness();
    const intent = intentPayload('evt-2');
    const answer = await deliver([intentRecord(intent), intentRecord(intent)]);
    expect(answer.records.map((r) => r.disposition)).toEqual(['OUTCOME', 'DUPLICATE_DROPPED']);
    expect(executor.requests).toHaveLength(1);
    expect(ig.calls).toHaveLength(1);
    expect(ig.calls[0]).toHaveLength(1);
  });

  it('the same idempotency_key with another payload: QUARANTINE SEMANTIC_PAYLOAD_HASH_MISMATCH, not executed', async () => {
    const memory = memoryStore();
    const { executor, ig, deliver } = harness({}, memory.store);
    const intent = intentPayload('evt-3');
    const changed: ActionIntentPayload = { ...intent, run_config_digest: 'e'.repeat(64) };
    await deliver([intentRecord(intent)]);
    const later = await deliver([intentRecord(changed)]);
    expect(later.records).toMatchObject([
      { disposition: 'SEMANTIC_PAYLOAD_HASH_MISMATCH', detail: 'SEMANTIC_PAYLOAD_HASH_MISMATCH' },
    ]);
    // Within one batch too: the repeat is judged against the first sighting.
    const fresh = intentPayload('evt-4');
    const together = await deliver([
      intentRecord(fresh),
      intentRecord({ ...fresh, action_payload: { ...fresh.action_payload, action_posture: 'STEP_UP_ONLY' } }),
    ]);
    expect(together.records.map((r) => r.disposition)).toEqual(['OUTCOME', 'SEMANTIC_PAYLOAD_HASH_MISMATCH']);
    expect(executor.requests.map((r) => r.action_payload.source_event_id)).toEqual(['evt-3', 'evt-4']);
    expect(published(ig)).toHaveLength(2);
    expect(await memory.store.metrics()).toMatchObject({
      semantic_mismatch_total: 2,
      publish_quarantine_total: 2,
    });
  });
});

describe('authz (§9 #11): a denied intent is not executed, and its DENIED outcome is published', () => {
  it.each([
    ['an action kind off the list', { action_kind: 'txn_refund' }, NORMAL, 'AUTHZ_ACTION_KIND_DENY'],
    [
      'an actor off the list',
      { actor_principal: 'SYSTEM::someone_else' },
      NORMAL,
      'AUTHZ_ACTOR_PRINCIPAL_DENY',
    ],
    ['no posture', {}, undefined, 'POSTURE_MISSING_FAIL_SAFE'],
    [
      'a degraded posture',
      {},
      { mode: 'DEGRADED_1', allow_execution: false, reason: '' },
      'POSTURE_BLOCK:DEGRADED_1;POSTURE_BLOCKED',
    ],
  ] as const)('%s', async (_, overrides, posture, reason) => {
    const { executor, ig, deliver } = harness();
    const answer = await deliver([intentRecord(intentPayload('evt-deny', overrides))], posture);
    expect(answer.records).toMatchObject([{ disposition: 'OUTCOME', status: 'DENIED', publish: 'ADMIT' }]);
    expect(executor.requests).toHaveLength(0);
    expect(published(ig)).toMatchObject([
      { status: 'DENIED', reason, attempt_seq: 1, outcome_payload: { terminal_state: 'DENIED' } },
    ]);
    expect(answer.counts).toMatchObject({ intake_total: 1, outcome_denied_total: 1 });
  });
});

describe('execution terminals', () => {
  it('RETRYABLE then success: EXECUTED after 2 attempts, a 100 ms wait', async () => {
    const { ig, sleeper, deliver } = harness({ STEP_UP: ['RETRYABLE_ERROR'] });
    const answer = await deliver([intentRecord(intentPayload('evt-r'))]);
    expect(answer.records).toMatchObject([{ status: 'EXECUTED' }]);
    expect(published(ig)).toMatchObject([{ status: 'EXECUTED', attempt_seq: 2 }]);
    expect(sleeper.waits).toEqual([100]);
    expect(answer.counts).toMatchObject({ execution_attempts_total: 2, execution_retries_total: 1 });
  });

  it('PERMANENT: FAILED PERMANENT_ERROR; UNKNOWN_COMMIT: FAILED UNCERTAIN_COMMIT', async () => {
    const { ig, deliver } = harness({ DECLINE: ['PERMANENT_ERROR'], QUEUE_REVIEW: ['UNKNOWN_COMMIT'] });
    const answer = await deliver([
      intentRecord(intentPayload('evt-p', { action_kind: 'DECLINE' })),
      intentRecord(intentPayload('evt-u', { action_kind: 'QUEUE_REVIEW' })),
    ]);
    expect(answer.records.map((r) => r.status)).toEqual(['FAILED', 'FAILED']);
    expect(published(ig)).toMatchObject([
      { reason: 'PERMANENT_ERROR:SIMULATED_PERMANENT_ERROR', outcome_payload: { terminal_state: 'FAILED' } },
      {
        reason: 'UNCERTAIN_COMMIT:SIMULATED_UNKNOWN_COMMIT',
        outcome_payload: { terminal_state: 'UNCERTAIN_COMMIT' },
      },
    ]);
    expect(answer.counts).toMatchObject({ outcome_failed_total: 2, unknown_commit_total: 1 });
  });
});

describe('publish (§9 #12)', () => {
  it('AMBIGUOUS: the batch must be retried; its redelivery republishes the same outcome id without executing', async () => {
    const memory = memoryStore();
    const { executor, ig, deliver } = harness({}, memory.store);
    const batch = [intentRecord(intentPayload('evt-a1')), intentRecord(intentPayload('evt-a2'))];
    ig.answer(igUnavailable);
    const first = await deliver(batch);
    expect(first.retry).toBe(true);
    expect(first.records.map((r) => r.publish)).toEqual(['AMBIGUOUS', 'AMBIGUOUS']);
    expect(first.published[0]?.reason_code).toBe('IG_UNAVAILABLE:IG_PUSH_RETRY_EXHAUSTED:timeout');
    const ids = first.records.map((r) => r.outcome_id);

    ig.answer(admitAll);
    const again = await deliver(batch);
    expect(again.retry).toBe(false);
    expect(again.records).toMatchObject([
      { disposition: 'REPUBLISHED', detail: 'AMBIGUOUS', outcome_id: ids[0], publish: 'ADMIT' },
      { disposition: 'REPUBLISHED', detail: 'AMBIGUOUS', outcome_id: ids[1], publish: 'ADMIT' },
    ]);
    expect(executor.requests).toHaveLength(2);
    expect(ig.calls.map((call) => call.map((e) => e.event_id))).toEqual([ids, ids]);
    expect(memory.publishes.get(ids[0] as string)).toMatchObject({ decision: 'ADMIT', attempts: 2 });

    const third = await deliver(batch);
    expect(third.records.map((r) => r.disposition)).toEqual(['DUPLICATE_DROPPED', 'DUPLICATE_DROPPED']);
    expect(ig.calls).toHaveLength(2);
    expect(await memory.store.metrics()).toMatchObject({
      intake_total: 2,
      outcome_executed_total: 2,
      publish_ambiguous_total: 2,
      publish_admit_total: 2,
      republished_total: 2,
    });
  });

  it.each(['ADMIT', 'DUPLICATE', 'QUARANTINE'] as const)(
    '%s settles the publish: no retry',
    async (decision) => {
      const memory = memoryStore();
      const { ig, deliver } = harness({}, memory.store);
      ig.answer((envelopes) => envelopes.map(() => ({ decision })));
      const batch = [intentRecord(intentPayload(`evt-${decision}`))];
      const answer = await deliver(batch);
      expect(answer).toMatchObject({ retry: false, records: [{ publish: decision }] });
      expect((await deliver(batch)).records[0]?.disposition).toBe('DUPLICATE_DROPPED');
      expect(ig.calls).toHaveLength(1);
    },
  );

  it('an answer IG does not give (unknown decision, wrong count) fails closed: AMBIGUOUS, retry', async () => {
    const { ig, deliver } = harness();
    ig.answer((envelopes) => envelopes.map(() => ({ decision: 'MAYBE' })));
    const unknown = await deliver([intentRecord(intentPayload('evt-x1'))]);
    expect(unknown).toMatchObject({
      retry: true,
      published: [{ decision: 'AMBIGUOUS', reason_code: 'IG_DECISION_UNKNOWN:MAYBE' }],
    });
    ig.answer(() => []);
    const short = await deliver([intentRecord(intentPayload('evt-x2'))]);
    expect(short.published[0]?.decision).toBe('AMBIGUOUS');
  });

  it('a batch that failed before its outcomes were published: appended ones republished, the unappended one resumed', async () => {
    const memory = memoryStore();
    let appends = 0;
    let failSecondAppend = true;
    const store: ActionLayerStore = {
      ...memory.store,
      append: async (...args) => {
        if (++appends === 2 && failSecondAppend) throw new Error('OPS_DB_UNAVAILABLE');
        return memory.store.append(...args);
      },
    };
    const { executor, ig, deliver } = harness({}, store);
    const batch = [intentRecord(intentPayload('evt-kept')), intentRecord(intentPayload('evt-resume'))];
    await expect(deliver(batch)).rejects.toThrow('OPS_DB_UNAVAILABLE');
    expect(ig.calls).toHaveLength(0);
    failSecondAppend = false;
    const again = await deliver(batch);
    expect(again.records).toMatchObject([
      { disposition: 'REPUBLISHED', detail: 'PUBLISH_NOT_RECORDED', publish: 'ADMIT' },
      { disposition: 'OUTCOME', detail: 'RESUMED_CLAIM', publish: 'ADMIT', executed: true },
    ]);
    // The resumed intent runs again with the same idempotency token, so a real effect provider dedupes it.
    expect(executor.requests.map((r) => r.action_payload.source_event_id)).toEqual([
      'evt-kept',
      'evt-resume',
      'evt-resume',
    ]);
    expect(new Set(executor.requests.slice(1).map((r) => r.idempotency_token)).size).toBe(1);
    expect(published(ig)).toHaveLength(2);
    // The failed delivery wrote no counters; the redelivery counts both intents once.
    expect(await memory.store.metrics()).toMatchObject({
      intake_total: 2,
      outcome_executed_total: 2,
      publish_admit_total: 2,
      execution_attempts_total: 2,
    });
  });
});

describe('the inlet: what is not an in-scope action_intent @v1 advances untouched', () => {
  it('other events, other versions, broken records and other runs: no execution, no publish call', async () => {
    const { executor, ig, deliver } = harness();
    const intent = intentPayload('evt-i');
    const answer = await deliver([
      busRecord({ ...intentEnvelope(intent), event_type: 'decision_response' }),
      busRecord(intentEnvelope(intent, { schema_version: 'v2' })),
      busRecord(undefined),
      busRecord(intentEnvelope(intent, { manifest_fingerprint: 'nope' })),
      busRecord(intentEnvelope({ ...intent, decision_id: 'not-hex' } as ActionIntentPayload)),
      intentRecord(
        intentPayload('evt-other-run', { pins: { ...PINS, platform_run_id: 'platform_20261208T000000Z' } }),
      ),
    ]);
    expect(answer.records.map((r) => [r.disposition, r.detail?.split(':')[0]])).toEqual([
      ['IRRELEVANT', 'decision_response@v1'],
      ['IRRELEVANT', 'action_intent@v2'],
      ['INVALID', 'ENVELOPE_INVALID'],
      ['INVALID', 'ENVELOPE_INVALID'],
      ['INVALID', 'INTENT_CONTRACT_INVALID'],
      ['RUN_SCOPE_SKIPPED', 'platform_20261208T000000Z'],
    ]);
    expect(executor.requests).toHaveLength(0);
    expect(ig.calls).toHaveLength(0);
    expect(answer).toMatchObject({
      retry: false,
      counts: { irrelevant_total: 2, invalid_total: 3, run_scope_skipped_total: 1 },
    });
  });

  it('without a required run, every run is in scope', async () => {
    const executor = faultInjectingExecutor({});
    const ig = scriptedPublisher();
    const ports = {
      store: memoryStore().store,
      executor,
      publisher: ig.publisher,
      clock: steppingClock(),
      sleeper: recordingSleeper(),
    };
    const other = intentPayload('evt-o', { pins: { ...PINS, platform_run_id: 'platform_20261208T000000Z' } });
    const answer = await handleActionIntents([intentRecord(other)], NORMAL, ports, {
      requiredPlatformRunId: undefined,
      policy: ACTION_LAYER_POLICY_V0,
    });
    expect(answer.records[0]?.status).toBe('EXECUTED');
  });
});
