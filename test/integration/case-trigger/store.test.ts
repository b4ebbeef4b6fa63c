import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresCaseTriggerStore } from '../../../lib/adapters/case-trigger-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { handleCaseTriggerBatch } from '../../../lib/case-trigger/intake.ts';
import type { DecisionSource, LedgerClaim } from '../../../lib/case-trigger/ports.ts';
import { decisionEscalation } from '../../../lib/case-trigger/triggers.ts';
import type { ActionOutcomePayload } from '../../../lib/contracts/action-layer.ts';
import type { DecisionResponsePayload } from '../../../lib/contracts/decision-lane.ts';
import {
  admitAll,
  decisionRecord,
  igUnavailable,
  outcomeOf,
  outcomeRecord,
  scriptedPublisher,
  steppingClock,
} from '../../unit/case-trigger/factories.ts';
import {
  decisionEnvelope,
  decisionIdOf,
  outcomeEnvelope,
  pinsOf,
  RUN,
} from '../../unit/decision-log/fixtures.ts';

/**
 * The case trigger's store on the shared local cloud's Postgres (migration 0020), one stream id per test: the decision
 * → source map and the parked outcomes (insert-once, exact JSON back, a wait ended once), the replay ledger's claims
 * (NEW, SEEN with the recorded publish decision, PAYLOAD_MISMATCH; one winner when two claim at once), publish
 * decisions (AMBIGUOUS replaced, settled kept), anomalies and counters; and batches through the intake: an outcome
 * parked then raised, IG down then the same envelopes once, and an outcome and its decision in two batches at once.
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 6 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const streamId = () => `case_trigger.v0::${RUN}::test-${randomUUID()}`;
const settings = { requiredPlatformRunId: RUN, escalate: 'non_allow' as const };
const decisionOf = (name: string, o: Parameters<typeof decisionEnvelope>[1] = {}) =>
  decisionEnvelope(decisionIdOf(name), o).payload as unknown as DecisionResponsePayload;
const outcomeOfSource = (name: string, o: Parameters<typeof outcomeEnvelope>[1] = {}) =>
  outcomeEnvelope(decisionIdOf(name), o).payload as unknown as ActionOutcomePayload;

function claimOf(name: string, o: Parameters<typeof decisionEnvelope>[1] = {}): LedgerClaim {
  const trigger = decisionEscalation(decisionOf(name, o));
  return {
    case_trigger_id: trigger.case_trigger_id,
    case_id: trigger.case_id,
    trigger_type: trigger.trigger_type,
    source_ref_id: trigger.source_ref_id,
    platform_run_id: trigger.pins.platform_run_id,
    scenario_run_id: trigger.pins.scenario_run_id,
    payload_hash: trigger.payload_hash,
    payload: trigger,
    first_seen_at_utc: '2026-12-07T10:00:09.000000Z',
  };
}

describe('case trigger store on Postgres', () => {
  it('decision sources: insert-once, looked up by id; another stream has its own', async () => {
    const store = postgresCaseTriggerStore(pool, streamId());
    const source = (name: string, event = `source-${name}`): DecisionSource => ({
      decision_id: decisionIdOf(name),
      platform_run_id: RUN,
      scenario_run_id: pinsOf().scenario_run_id,
      source_event_id: event,
    });
    await store.recordDecisionSources([source('a'), source('b'), source('a', 'other')]);
    await store.recordDecisionSources([source('b', 'later')]);
    const found = await store.decisionSources([decisionIdOf('a'), decisionIdOf('b'), decisionIdOf('c')]);
    expect(found.sort((x, y) => (x.source_event_id < y.source_event_id ? -1 : 1))).toEqual([
      source('a'),
      source('b'),
    ]);
    expect(await postgresCaseTriggerStore(pool, streamId()).decisionSources([decisionIdOf('a')])).toEqual([]);
  });

  it('parked outcomes: insert-once, the exact outcome back (a uint64 seed too), a wait ended once', async () => {
    const store = postgresCaseTriggerStore(pool, streamId());
    const seed = 2n ** 60n + 7n;
    const failed = outcomeOfSource('p-1', { status: 'FAILED', pins: pinsOf(RUN, { seed }) });
    const denied = outcomeOfSource('p-2', { status: 'DENIED' });
    expect(await store.park([failed, denied, failed])).toEqual(
      expect.arrayContaining([failed.outcome_id, denied.outcome_id]),
    );
    expect(await store.park([failed])).toEqual([]);
    expect(await store.waitingFor([decisionIdOf('p-1')])).toEqual([failed]);
    await store.markRaised([
      { outcome_id: failed.outcome_id, case_trigger_id: 'a'.repeat(32), disposition: 'PUBLISHED' },
    ]);
    await store.markRaised([
      { outcome_id: failed.outcome_id, case_trigger_id: 'b'.repeat(32), disposition: 'REPLAY' },
    ]);
    expect(await store.waitingFor([decisionIdOf('p-1'), decisionIdOf('p-2')])).toEqual([denied]);
    const rows = await pool.query(
      'SELECT case_trigger_id, raised_disposition FROM ct_waiting_outcomes WHERE outcome_id = $1',
      [failed.outcome_id],
    );
    expect(rows.rows).toEqual([{ case_trigger_id: 'a'.repeat(32), raised_disposition: 'PUBLISHED' }]);
  });

  it('ledger claims: NEW once; then SEEN with its publish decision, or PAYLOAD_MISMATCH', async () => {
    const store = postgresCaseTriggerStore(pool, streamId());
    const a = claimOf('l-a');
    const b = claimOf('l-b');
    expect(await store.claim([a, b])).toEqual([{ status: 'NEW' }, { status: 'NEW' }]);
    expect(await store.claim([a])).toEqual([{ status: 'SEEN', publish_decision: null }]);
    await store.recordPublish([
      {
        case_trigger_id: a.case_trigger_id,
        decision: 'AMBIGUOUS',
        receipt_ref: null,
        reason_code: 'IG_UNAVAILABLE',
      },
    ]);
    const changed = claimOf('l-b', { second: 7 });
    expect(changed.case_trigger_id).toBe(b.case_trigger_id);
    expect(await store.claim([a, changed, claimOf('l-c')])).toEqual([
      { status: 'SEEN', publish_decision: 'AMBIGUOUS' },
      { status: 'PAYLOAD_MISMATCH', stored_payload_hash: b.payload_hash },
      { status: 'NEW' },
    ]);
    const stored = await pool.query('SELECT payload_json FROM ct_replay_ledger WHERE case_trigger_id = $1', [
      b.case_trigger_id,
    ]);
    expect(JSON.parse(stored.rows[0]?.payload_json).observed_time).toBe(b.payload.observed_time);
  });

  it('two deliveries claiming the same triggers at once: exactly one NEW each', async () => {
    const stream = streamId();
    const claims = ['r-1', 'r-2', 'r-3'].map((name) => claimOf(name));
    const [first, second] = await Promise.all([
      postgresCaseTriggerStore(pool, stream).claim(claims),
      postgresCaseTriggerStore(pool, stream).claim([...claims].reverse()),
    ]);
    const all = [...(first ?? []), ...(second ?? [])];
    expect(all.filter((c) => c.status === 'NEW')).toHaveLength(3);
    expect(all.filter((c) => c.status === 'SEEN')).toHaveLength(3);
  });

  it('publish decisions: AMBIGUOUS replaced by the next answer, a settled one kept; anomalies once; counters add up', async () => {
    const stream = streamId();
    const store = postgresCaseTriggerStore(pool, stream);
    const [x, y] = ['a'.repeat(32), 'b'.repeat(32)];
    await store.recordPublish([
      { case_trigger_id: x, decision: 'AMBIGUOUS', receipt_ref: null, reason_code: 'IG_UNAVAILABLE:timeout' },
      { case_trigger_id: y, decision: 'ADMIT', receipt_ref: null, reason_code: null },
    ]);
    await store.recordPublish([
      { case_trigger_id: x, decision: 'DUPLICATE', receipt_ref: null, reason_code: null },
      { case_trigger_id: y, decision: 'AMBIGUOUS', receipt_ref: null, reason_code: 'IG_UNAVAILABLE:timeout' },
    ]);
    const rows = await pool.query(
      `SELECT case_trigger_id, publish_decision, reason_code, attempts FROM ct_trigger_publish
       WHERE stream_id = $1 ORDER BY case_trigger_id`,
      [stream],
    );
    expect(rows.rows).toEqual([
      { case_trigger_id: x, publish_decision: 'DUPLICATE', reason_code: null, attempts: 2 },
      { case_trigger_id: y, publish_decision: 'ADMIT', reason_code: null, attempts: 1 },
    ]);
    const anomaly = {
      case_trigger_id: x,
      source_ref_id: 'decision:x',
      platform_run_id: RUN,
      scenario_run_id: pinsOf().scenario_run_id,
      stored_payload_hash: 'c'.repeat(64),
      observed_payload_hash: 'd'.repeat(64),
      observed_at_utc: '2026-12-07T10:00:09.000000Z',
    };
    await store.recordAnomalies([anomaly, anomaly]);
    await store.recordAnomalies([anomaly]);
    const anomalies = await pool.query(
      'SELECT reason_code, anomaly_family, stored_payload_hash FROM ct_anomalies WHERE stream_id = $1',
      [stream],
    );
    expect(anomalies.rows).toEqual([
      {
        reason_code: 'CASE_TRIGGER_PAYLOAD_MISMATCH',
        anomaly_family: 'CORRIDOR_ANOMALY',
        stored_payload_hash: 'c'.repeat(64),
      },
    ]);
    await store.addMetrics({ triggers_seen: 2, published: 1, quarantine: 0 });
    await store.addMetrics({ triggers_seen: 3 });
    expect(await store.metrics()).toEqual({ triggers_seen: 5, published: 1 });
  });
});

describe('batches through the intake on Postgres', () => {
  it('an outcome parked, IG down when its decision comes, redelivered: the same envelopes once, the wait ended', async () => {
    const store = postgresCaseTriggerStore(pool, streamId());
    const ig = scriptedPublisher(igUnavailable);
    const ports = { store, publisher: ig.publisher, clock: steppingClock() };
    const failed = outcomeRecord('i-1', { status: 'FAILED' });
    const parked = await handleCaseTriggerBatch([failed], ports, settings);
    expect(parked.records.map((r) => r.disposition)).toEqual(['WAITING_FOR_DECISION']);
    expect(ig.calls).toEqual([]);

    const batch = [decisionRecord('i-1', { actionKind: 'DECLINE' })];
    const first = await handleCaseTriggerBatch(batch, ports, settings);
    expect(first.retry).toBe(true);
    expect(ig.calls.map((c) => c.map((e) => e.payload.trigger_type))).toEqual([
      ['DECISION_ESCALATION', 'ACTION_FAILURE'],
    ]);
    ig.answer(admitAll);
    const again = await handleCaseTriggerBatch(batch, ports, settings);
    expect(again.retry).toBe(false);
    expect(again.released.map((r) => [r.outcome_id, r.ledger, r.publish])).toEqual([
      [outcomeOf(failed).outcome_id, 'REPUBLISHED', 'ADMIT'],
    ]);
    expect(ig.calls[1]).toEqual(ig.calls[0]);
    const third = await handleCaseTriggerBatch(batch, ports, settings);
    expect([third.released, ig.calls.length]).toEqual([[], 2]);
    expect(await store.waitingFor([decisionIdOf('i-1')])).toEqual([]);
    expect(await store.metrics()).toMatchObject({
      outcomes_waiting_for_decision: 1,
      outcomes_released: 2,
      publish_ambiguous: 2,
      republished: 2,
      published: 2,
      duplicates: 1,
    });
  });

  it('an outcome and its decision in two batches at once: its ACTION_FAILURE is raised and settled, never lost', async () => {
    for (let round = 0; round < 8; round++) {
      const stream = streamId();
      const ig = scriptedPublisher(admitAll);
      const portsOf = () => ({
        store: postgresCaseTriggerStore(pool, stream),
        publisher: ig.publisher,
        clock: steppingClock(),
      });
      const name = `race-${round}`;
      const failed = outcomeRecord(name, { status: 'DENIED' });
      await Promise.all([
        handleCaseTriggerBatch([failed], portsOf(), settings),
        handleCaseTriggerBatch([decisionRecord(name)], portsOf(), settings),
      ]);
      const ledger = await pool.query(
        `SELECT l.trigger_type, p.publish_decision FROM ct_replay_ledger l
         JOIN ct_trigger_publish p USING (stream_id, case_trigger_id) WHERE l.stream_id = $1 ORDER BY l.trigger_type`,
        [stream],
      );
      expect(ledger.rows, `round ${round}`).toEqual([
        { trigger_type: 'ACTION_FAILURE', publish_decision: 'ADMIT' },
        { trigger_type: 'DECISION_ESCALATION', publish_decision: 'ADMIT' },
      ]);
      expect(await portsOf().store.waitingFor([decisionIdOf(name)]), `round ${round}`).toEqual([]);
    }
  });
});
