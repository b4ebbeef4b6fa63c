import type {
  ActionLayerStore,
  ClaimAnswer,
  OutcomePublisher,
  PublishRecord,
} from '../../../lib/action-layer/ports.ts';
import {
  type ActionLayerBusRecord,
  type ActionOutcomeEnvelope,
  type ActionOutcomePayload,
  SETTLED_PUBLISH_DECISIONS,
} from '../../../lib/contracts/action-layer.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import {
  ACTION_INTENT,
  type ActionIntentPayload,
  actionId,
  DECISION_FABRIC_ACTOR,
  DECISION_FABRIC_PRODUCER,
  intentEventId,
  intentIdempotencyKey,
  type RtdlPins,
} from '../../../lib/contracts/decision-lane.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';

/**
 * Records, ports and fakes for the Action Layer's tests: DF-shaped action_intent envelopes, an in-memory store
 * that keeps the store port's contract (as the Postgres adapter does), a scripted IG publisher, a stepping clock and
 * a sleeper that records its waits.
 */

export const RUN = 'platform_20261207T100000Z';
export const PINS: RtdlPins = {
  platform_run_id: RUN,
  scenario_run_id: 'a'.repeat(32),
  manifest_fingerprint: 'b'.repeat(64),
  parameter_hash: 'c'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
};
export const RTDL_TOPIC = 'fp.bus.rtdl.v1';

/** A DF intent for a source event (its ids by the §3.2 recipes); `overrides` replace payload fields. */
export function intentPayload(
  sourceEventId: string,
  overrides: Partial<ActionIntentPayload> = {},
): ActionIntentPayload {
  const pins = overrides.pins ?? PINS;
  const actionKind = overrides.action_kind ?? 'STEP_UP';
  const decisionId = sha256Hex(`decision:${sourceEventId}`).slice(0, 32);
  return {
    action_id: actionId(decisionId, actionKind),
    decision_id: decisionId,
    action_kind: actionKind,
    idempotency_key: intentIdempotencyKey(sourceEventId, actionKind, pins),
    pins,
    requested_at_utc: '2026-12-07T10:00:00.000000Z',
    actor_principal: DECISION_FABRIC_ACTOR,
    origin: 'DF',
    policy_rev: { policy_id: 'df.policy.v0', revision: 'r1' },
    run_config_digest: 'd'.repeat(64),
    reason_ref: `decision://${decisionId}`,
    action_payload: {
      source_event_id: sourceEventId,
      source_event_type: 's3_event_stream_with_fraud_6B',
      action_posture: 'NORMAL',
    },
    ...overrides,
  };
}

/** The intent's envelope as DF publishes it. */
export function intentEnvelope(payload: ActionIntentPayload, overrides: Record<string, unknown> = {}) {
  return {
    event_id: intentEventId(payload.action_payload.source_event_id, payload.action_kind, payload.pins),
    event_type: ACTION_INTENT,
    schema_version: 'v1',
    ts_utc: payload.requested_at_utc,
    manifest_fingerprint: payload.pins.manifest_fingerprint,
    parameter_hash: payload.pins.parameter_hash,
    seed: payload.pins.seed,
    scenario_id: payload.pins.scenario_id,
    platform_run_id: payload.pins.platform_run_id,
    scenario_run_id: payload.pins.scenario_run_id,
    parent_event_id: payload.decision_id,
    producer: DECISION_FABRIC_PRODUCER,
    payload,
    ...overrides,
  };
}

let nextOffset = 1000;
/** A bus record holding `envelope` at the next offset of partition 0. */
export const busRecord = (envelope: unknown): ActionLayerBusRecord => ({
  topic: RTDL_TOPIC,
  partition: 0,
  offset: String(nextOffset++),
  offset_kind: 'kinesis_sequence',
  envelope,
});

export const intentRecord = (payload: ActionIntentPayload) => busRecord(intentEnvelope(payload));

/** The Action Layer store's contract in memory; outcomes kept as canonical JSON, as Postgres keeps them. */
export function memoryStore() {
  const ledger = new Map<string, { intent_hash: string; outcome_id: string | null }>();
  const outcomes = new Map<string, { json: string; hash: string }>();
  const publishes = new Map<string, PublishRecord & { attempts: number }>();
  const counters: Record<string, number> = {};
  const store: ActionLayerStore = {
    async claim(claims) {
      return claims.map((c): ClaimAnswer => {
        const key = `${c.platform_run_id}|${c.scenario_run_id}|${c.semantic_key}`;
        const row = ledger.get(key);
        if (row === undefined) {
          ledger.set(key, { intent_hash: c.intent_hash, outcome_id: null });
          return { status: 'NEW' };
        }
        if (row.intent_hash !== c.intent_hash)
          return { status: 'HASH_MISMATCH', stored_intent_hash: row.intent_hash };
        const stored = row.outcome_id === null ? undefined : outcomes.get(row.outcome_id);
        return {
          status: 'DROP_DUPLICATE',
          outcome:
            stored === undefined || row.outcome_id === null
              ? undefined
              : {
                  outcome: parseJsonLossless(stored.json),
                  publish_decision: publishes.get(row.outcome_id)?.decision ?? null,
                },
        };
      });
    },
    async append(semanticKey, outcome, hash) {
      const stored = outcomes.get(outcome.outcome_id);
      if (stored && stored.hash !== hash) return 'HASH_MISMATCH';
      if (!stored) outcomes.set(outcome.outcome_id, { json: canonicalJson(outcome), hash });
      const key = `${outcome.pins.platform_run_id}|${outcome.pins.scenario_run_id}|${semanticKey}`;
      const row = ledger.get(key);
      if (row && row.outcome_id === null) row.outcome_id = outcome.outcome_id;
      return stored ? 'DUPLICATE' : 'NEW';
    },
    async recordPublish(records) {
      for (const r of records) {
        const stored = publishes.get(r.outcome_id);
        if (stored && SETTLED_PUBLISH_DECISIONS.has(stored.decision)) continue;
        publishes.set(r.outcome_id, { ...r, attempts: (stored?.attempts ?? 0) + 1 });
      }
    },
    async addMetrics(additions) {
      for (const [name, by] of Object.entries(additions)) counters[name] = (counters[name] ?? 0) + by;
    },
    metrics: async () => ({ ...counters }),
  };
  const outcome = (id: string) => {
    const stored = outcomes.get(id);
    return stored && (parseJsonLossless(stored.json) as ActionOutcomePayload);
  };
  return { store, ledger, outcomes, publishes, counters, outcome };
}

export type PublishScript = (envelopes: readonly ActionOutcomeEnvelope[]) => unknown[];
export const admitAll: PublishScript = (envelopes) =>
  envelopes.map((e) => ({ decision: 'ADMIT', receipt_ref: `s3://platform/receipts/${e.event_id}.json` }));
export const igUnavailable: PublishScript = () => {
  throw new Error('IG_PUSH_RETRY_EXHAUSTED:timeout');
};

/** A publisher whose answers `script` gives (or throws); every call's envelopes are kept. */
export function scriptedPublisher(script: PublishScript = admitAll) {
  const calls: ActionOutcomeEnvelope[][] = [];
  let current = script;
  const publisher: OutcomePublisher = {
    async publish(envelopes) {
      calls.push([...envelopes]);
      return current(envelopes);
    },
  };
  return {
    publisher,
    calls,
    answer: (next: PublishScript) => {
      current = next;
    },
  };
}

/** A clock that moves 1 ms per reading from `start`. */
export function steppingClock(start = '2026-12-07T10:00:01.000Z') {
  let at = new Date(start).getTime();
  return { now: () => new Date(at++) };
}

/** A sleeper that waits for nothing and keeps what it was asked. */
export function recordingSleeper() {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
    },
  };
}
