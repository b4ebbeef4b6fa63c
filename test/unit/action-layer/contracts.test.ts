import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACTION_LAYER_POLICY_V0, authorizeIntent } from '../../../lib/action-layer/authz.ts';
import { executeWithRetries, noopExecutor } from '../../../lib/action-layer/executor.ts';
import { deniedOutcome, executionOutcome, outcomeEnvelope } from '../../../lib/action-layer/outcome.ts';
import {
  ActionOutcomeEnvelope,
  ActionOutcomePayload,
  actionLayerStreamId,
  deniedOutcomeId,
  executionOutcomeId,
  intentHash,
  outcomeHash,
  semanticKey,
} from '../../../lib/contracts/action-layer.ts';
import { intentPayload, PINS, RUN, recordingSleeper } from './factories.ts';

/**
 * The Action Layer's wire shapes and hashes (lib/contracts/action-layer.ts): the semantic key and intent hash the
 * ledger guards, the outcome id recipes (written out here by hand, so a change of recipe fails), and the outcome
 * and its envelope as IG receives them.
 */

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const intent = intentPayload('evt-1');
const NORMAL = { mode: 'NORMAL', allow_execution: true, reason: '' };
const completedAt = new Date('2026-12-07T10:00:02.123Z');

async function executed() {
  const authz = authorizeIntent(intent, ACTION_LAYER_POLICY_V0, NORMAL);
  const terminal = await executeWithRetries(
    { action_kind: intent.action_kind, action_payload: intent.action_payload, idempotency_token: 'k' },
    { executor: noopExecutor(), sleeper: recordingSleeper() },
    ACTION_LAYER_POLICY_V0.retry,
  );
  return executionOutcome(intent, terminal, authz, completedAt);
}

describe('semantic key and intent hash', () => {
  it('semantic_key is sha256 of canonical {idempotency_key, platform_run_id, scenario_run_id}', () => {
    const expected = sha256(
      `{"idempotency_key":"${intent.idempotency_key}","platform_run_id":"${RUN}","scenario_run_id":"${PINS.scenario_run_id}"}`,
    );
    expect(semanticKey(intent.pins, intent.idempotency_key)).toBe(expected);
    expect(semanticKey({ ...intent.pins, scenario_run_id: 'e'.repeat(32) }, intent.idempotency_key)).not.toBe(
      expected,
    );
  });

  it('the intent hash ignores requested_at_utc and reason_ref, and sees the action, actor and payload', () => {
    const base = intentHash(intent);
    expect(intentHash({ ...intent, requested_at_utc: '2026-12-07T11:00:00.000000Z', reason_ref: 'x' })).toBe(
      base,
    );
    expect(intentHash({ ...intent, actor_principal: 'HUMAN::someone' })).not.toBe(base);
    expect(
      intentHash({ ...intent, action_payload: { ...intent.action_payload, action_posture: 'STEP_UP_ONLY' } }),
    ).not.toBe(base);
    // A seed beyond 2^53 (a bigint from the lossless parse) hashes as the same integer written as a number would.
    expect(intentHash({ ...intent, pins: { ...intent.pins, seed: 42n } })).toBe(base);
  });
});

describe('outcome ids', () => {
  it('an executed outcome id is sha256 of canonical {action_id, decision_id, final_attempt_seq, idempotency_key, reason_code, terminal_state}[:32]', async () => {
    const outcome = await executed();
    const preimage =
      `{"action_id":"${intent.action_id}","decision_id":"${intent.decision_id}","final_attempt_seq":1,` +
      `"idempotency_key":"${intent.idempotency_key}","reason_code":"EXECUTED","terminal_state":"EXECUTED"}`;
    expect(outcome.outcome_id).toBe(sha256(preimage).slice(0, 32));
    expect(
      executionOutcomeId(intent, { terminal_state: 'FAILED', reason_code: 'EXECUTED', final_attempt_seq: 1 }),
    ).not.toBe(outcome.outcome_id);
  });

  it('a denied outcome id covers status DENIED, the policy rev and the reason; it does not depend on time', () => {
    const authz = authorizeIntent({ ...intent, action_kind: 'txn_refund' }, ACTION_LAYER_POLICY_V0, NORMAL);
    const a = deniedOutcome(intent, authz, completedAt);
    const b = deniedOutcome(intent, authz, new Date('2027-01-01T00:00:00Z'));
    expect(a.outcome_id).toBe(b.outcome_id);
    expect(a.outcome_id).toBe(deniedOutcomeId(intent, authz.policy_rev, 'AUTHZ_ACTION_KIND_DENY'));
    const rev = authz.policy_rev;
    const preimage =
      `{"action_id":"${intent.action_id}","authz_policy_rev":{"content_digest":"${rev.content_digest}",` +
      `"policy_id":"al.authz.v0","revision":"r1"},"decision_id":"${intent.decision_id}",` +
      `"idempotency_key":"${intent.idempotency_key}","reason":"AUTHZ_ACTION_KIND_DENY","status":"DENIED"}`;
    expect(a.outcome_id).toBe(sha256(preimage).slice(0, 32));
    expect(outcomeHash(a)).not.toBe(outcomeHash(b));
  });
});

describe('the action_outcome payload and envelope', () => {
  it('an executed outcome parses and carries lineage, governance and the attempts', async () => {
    const outcome = await executed();
    expect(ActionOutcomePayload.parse(outcome)).toEqual(outcome);
    expect(outcome).toMatchObject({
      decision_id: intent.decision_id,
      action_id: intent.action_id,
      status: 'EXECUTED',
      completed_at_utc: '2026-12-07T10:00:02.123000Z',
      attempt_seq: 1,
      reason: 'EXECUTED',
      outcome_payload: {
        terminal_state: 'EXECUTED',
        final_provider_code: 'NOOP_COMMITTED',
        final_provider_ref: 'noop:k',
        governance: { execution_profile_ref: 'policy://al.authz.v0@r1#mode=NORMAL', origin: 'DF' },
      },
    });
    expect(outcome.outcome_payload.attempts).toHaveLength(1);
  });

  it('the envelope: event_id = outcome_id, parent = decision_id, ts = completed_at, producer action_layer, pins on top', async () => {
    const outcome = await executed();
    const envelope = outcomeEnvelope(outcome);
    expect(envelope).toMatchObject({
      event_id: outcome.outcome_id,
      event_type: 'action_outcome',
      schema_version: 'v1',
      ts_utc: outcome.completed_at_utc,
      parent_event_id: intent.decision_id,
      producer: 'action_layer',
      platform_run_id: RUN,
      scenario_run_id: PINS.scenario_run_id,
      manifest_fingerprint: PINS.manifest_fingerprint,
      seed: 42,
      scenario_id: 'baseline_v1',
    });
    expect(envelope.payload).toEqual(outcome);
  });

  it('a status that disagrees with its terminal, an unknown field, or an envelope that names another event is refused', async () => {
    const outcome = await executed();
    expect(ActionOutcomePayload.safeParse({ ...outcome, status: 'DENIED' }).success).toBe(false);
    expect(ActionOutcomePayload.safeParse({ ...outcome, extra: 1 }).success).toBe(false);
    const failed = {
      ...outcome,
      status: 'FAILED',
      outcome_payload: { ...outcome.outcome_payload, terminal_state: 'UNCERTAIN_COMMIT' },
    };
    expect(ActionOutcomePayload.safeParse(failed).success).toBe(true);
    const envelope = outcomeEnvelope(outcome);
    expect(ActionOutcomeEnvelope.safeParse({ ...envelope, event_id: 'f'.repeat(32) }).success).toBe(false);
    expect(ActionOutcomeEnvelope.safeParse({ ...envelope, unknown_field: 'x' }).success).toBe(false);
  });

  it('stream ids are al.v0::<platform_run_id>', () => {
    expect(actionLayerStreamId(RUN)).toBe(`al.v0::${RUN}`);
  });
});
