import { describe, expect, it } from 'vitest';
import { type CaseTriggerSettings, handleCaseTriggerBatch } from '../../../lib/case-trigger/intake.ts';
import { caseTriggerHealth, metricsSnapshot, RECORD_LANES } from '../../../lib/case-trigger/observability.ts';
import type { CaseTriggerBusRecord, CaseTriggerPorts } from '../../../lib/case-trigger/ports.ts';
import { IG_BATCH_LIMIT } from '../../../lib/case-trigger/publish.ts';
import { RUN } from '../decision-log/fixtures.ts';
import {
  admitAll,
  decisionIdOf,
  decisionRecord,
  harness,
  igUnavailable,
  outcomeOf,
  outcomeRecord,
  type PublishScript,
} from './factories.ts';

/**
 * The replay ledger and IG (downstream.md §4.1, §7.5): a trigger seen again is a replay (nothing published) once its
 * publish settled, and published again — the same envelope — while it has not; the same id with another payload is
 * quarantined with a CASE_TRIGGER_PAYLOAD_MISMATCH anomaly and never published; IG down fails the batch, and the
 * redelivery publishes the same envelopes once; IG's answers are counted, and requests hold at most 500 envelopes.
 */

const settings: CaseTriggerSettings = { requiredPlatformRunId: RUN, escalate: 'non_allow' };
const deliver = (ports: CaseTriggerPorts, records: CaseTriggerBusRecord[]) =>
  handleCaseTriggerBatch(records, ports, settings);

describe('replay', () => {
  it('the same batch again: REPLAY, nothing published, counted as duplicates; a repeat within a batch too', async () => {
    const { ig, ports, memory } = harness();
    const decision = decisionRecord('replay-1');
    const failed = outcomeRecord('replay-1', { status: 'FAILED' });
    const first = await deliver(ports, [decision, failed, decision]);
    expect(first.records.map((r) => [r.ledger, r.publish])).toEqual([
      ['NEW', 'ADMIT'],
      ['NEW', 'ADMIT'],
      ['BATCH_REPEAT', undefined],
    ]);
    const again = await deliver(ports, [decision, failed]);
    expect(again.records.map((r) => [r.ledger, r.publish])).toEqual([
      ['REPLAY', undefined],
      ['REPLAY', undefined],
    ]);
    expect(again.retry).toBe(false);
    expect(ig.calls.map((call) => call.length)).toEqual([2]);
    expect(memory.counters).toMatchObject({ triggers_seen: 5, published: 2, duplicates: 3 });
    expect(caseTriggerHealth(memory.counters)).toEqual({ health_state: 'GREEN', health_reasons: [] });
  });

  it('the same id with another payload: QUARANTINE, an anomaly, never published; health RED', async () => {
    const { ig, ports, memory } = harness();
    await deliver(ports, [decisionRecord('mm-1', { second: 4 })]);
    // Re-decided at another time: the same decision id, so the same case_trigger_id, but another payload hash.
    const changed = decisionRecord('mm-1', { second: 7 });
    const answer = await deliver(ports, [changed]);
    expect(answer.records.map((r) => [r.disposition, r.ledger, r.publish])).toEqual([
      ['TRIGGER', 'PAYLOAD_MISMATCH', undefined],
    ]);
    expect(ig.calls).toHaveLength(1);
    const stored = memory.trigger(answer.records[0]?.case_trigger_id as string);
    expect(stored?.observed_time).toBe('2026-12-07T10:00:04.000000Z');
    expect([...memory.anomalies.values()]).toEqual([
      {
        case_trigger_id: answer.records[0]?.case_trigger_id,
        source_ref_id: `decision:${decisionIdOf('mm-1')}`,
        platform_run_id: RUN,
        scenario_run_id: stored?.pins.scenario_run_id,
        stored_payload_hash: stored?.payload_hash,
        observed_payload_hash: expect.not.stringMatching(stored?.payload_hash as string),
        observed_at_utc: expect.stringMatching(/^2026-12-07T10:00:09\.\d{6}Z$/),
      },
    ]);
    expect(memory.counters).toMatchObject({ payload_mismatch: 1, quarantine: 1, published: 1 });
    expect(caseTriggerHealth(memory.counters)).toEqual({
      health_state: 'RED',
      health_reasons: ['QUARANTINE_NONZERO'],
    });
  });

  it('two payloads of one id in one batch: the first is published, the second quarantined', async () => {
    const { ig, ports, memory } = harness();
    const answer = await deliver(ports, [
      decisionRecord('mm-2', { second: 4 }),
      decisionRecord('mm-2', { second: 5 }),
    ]);
    expect(answer.records.map((r) => [r.ledger, r.publish])).toEqual([
      ['NEW', 'ADMIT'],
      ['PAYLOAD_MISMATCH', undefined],
    ]);
    expect(ig.calls.flat().map((e) => e.ts_utc)).toEqual(['2026-12-07T10:00:04.000000Z']);
    expect(memory.anomalies.size).toBe(1);
  });

  it('a parked outcome whose trigger is quarantined ends its wait as QUARANTINED', async () => {
    const { ports, memory } = harness();
    const failed = outcomeRecord('mm-3', { status: 'FAILED' });
    const outcome = outcomeOf(failed);
    await deliver(ports, [failed]);
    // Another payload under the trigger's id gets to the ledger first (an outcome re-completed at another time).
    await deliver(ports, [outcomeRecord('mm-3', { status: 'FAILED', second: 8 }), decisionRecord('mm-3')]);
    expect(memory.parked(outcome.outcome_id)?.raised?.disposition).toBe('QUARANTINED');
    expect(memory.counters).toMatchObject({ outcomes_released: 1, payload_mismatch: 1 });
  });
});

describe('IG', () => {
  it('down: AMBIGUOUS, the batch fails; redelivered, the same envelopes are published once; then nothing', async () => {
    const { ig, ports, memory } = harness(igUnavailable);
    const batch = [decisionRecord('down-1'), decisionRecord('down-2', { actionKind: 'DECLINE' })];
    const first = await deliver(ports, batch);
    expect(first.retry).toBe(true);
    expect(first.records.map((r) => [r.ledger, r.publish])).toEqual([
      ['NEW', 'AMBIGUOUS'],
      ['NEW', 'AMBIGUOUS'],
    ]);
    expect(first.published.map((p) => p.reason_code)).toEqual([
      expect.stringMatching(/^IG_UNAVAILABLE:IG_PUBLISH_AMBIGUOUS/),
      expect.stringMatching(/^IG_UNAVAILABLE:IG_PUBLISH_AMBIGUOUS/),
    ]);
    expect(caseTriggerHealth(memory.counters).health_reasons).toEqual(['PUBLISH_AMBIGUOUS_NONZERO']);

    ig.answer(admitAll);
    const retried = await deliver(ports, batch);
    expect(retried.retry).toBe(false);
    expect(retried.records.map((r) => [r.ledger, r.publish])).toEqual([
      ['REPUBLISHED', 'ADMIT'],
      ['REPUBLISHED', 'ADMIT'],
    ]);
    expect(ig.calls).toHaveLength(2);
    expect(ig.calls[1]).toEqual(ig.calls[0]);
    expect([...memory.publishes.values()].map((p) => [p.decision, p.attempts])).toEqual([
      ['ADMIT', 2],
      ['ADMIT', 2],
    ]);

    expect((await deliver(ports, batch)).records.map((r) => r.ledger)).toEqual(['REPLAY', 'REPLAY']);
    expect(ig.calls).toHaveLength(2);
    expect(memory.counters).toMatchObject({
      publish_ambiguous: 2,
      republished: 2,
      published: 2,
      duplicates: 2,
    });
  });

  it('DUPLICATE and QUARANTINE settle (counted); an unreadable answer is AMBIGUOUS and fails the batch', async () => {
    const answers = ['ADMIT', 'DUPLICATE', 'QUARANTINE', 'MAYBE'];
    const mixed: PublishScript = (envelopes) => envelopes.map((_, i) => ({ decision: answers[i] }));
    const { ig, ports, memory } = harness(mixed);
    const batch = [0, 1, 2, 3].map((i) => decisionRecord(`mixed-${i}`));
    const answer = await deliver(ports, batch);
    expect(answer.records.map((r) => r.publish)).toEqual(['ADMIT', 'DUPLICATE', 'QUARANTINE', 'AMBIGUOUS']);
    expect(answer.published[3]?.reason_code).toBe('IG_DECISION_UNKNOWN:MAYBE');
    expect(answer.retry).toBe(true);
    expect(memory.counters).toMatchObject({
      published: 1,
      duplicates: 1,
      quarantine: 1,
      publish_ambiguous: 1,
    });
    // Redelivered: only the AMBIGUOUS one is sent again; the settled ones are replays.
    ig.answer(admitAll);
    const again = await deliver(ports, batch);
    expect(again.records.map((r) => [r.ledger, r.publish])).toEqual([
      ['REPLAY', undefined],
      ['REPLAY', undefined],
      ['REPLAY', undefined],
      ['REPUBLISHED', 'ADMIT'],
    ]);
    expect(ig.calls.map((c) => c.map((e) => e.event_id))).toEqual([
      answer.records.map((r) => r.case_trigger_id),
      [answer.records[3]?.case_trigger_id],
    ]);

    const short = harness((envelopes) => envelopes.slice(1).map(() => ({ decision: 'ADMIT' })));
    const garbled = await deliver(short.ports, batch.slice(0, 2));
    expect(garbled.records.map((r) => r.publish)).toEqual(['AMBIGUOUS', 'AMBIGUOUS']);
    expect(garbled.published[0]?.reason_code).toBe('IG_ANSWER_INVALID: expected 2 answers');
  });

  it(`sends at most ${IG_BATCH_LIMIT} envelopes a request; once one request fails, the rest wait for the redelivery`, async () => {
    const batch = Array.from({ length: IG_BATCH_LIMIT + 20 }, (_, i) => decisionRecord(`many-${i}`));
    const { ig, ports, memory } = harness(igUnavailable);
    const first = await deliver(ports, batch);
    expect(first.retry).toBe(true);
    expect(ig.calls.map((c) => c.length)).toEqual([IG_BATCH_LIMIT]);
    expect(first.records.filter((r) => r.publish === undefined)).toHaveLength(20);
    ig.answer(admitAll);
    const again = await deliver(ports, batch);
    expect(again.retry).toBe(false);
    expect(ig.calls.slice(1).map((c) => c.length)).toEqual([IG_BATCH_LIMIT, 20]);
    expect(again.records.every((r) => r.ledger === 'REPUBLISHED' && r.publish === 'ADMIT')).toBe(true);
    expect(memory.counters).toMatchObject({
      published: IG_BATCH_LIMIT + 20,
      publish_ambiguous: IG_BATCH_LIMIT,
    });
  });
});

describe('observability', () => {
  it('names every counter, and the record lanes add up to the records of a batch', async () => {
    const { ports } = harness();
    const batch = [
      decisionRecord('lanes-1'),
      decisionRecord('lanes-2', { actionKind: 'ALLOW' }),
      outcomeRecord('lanes-1', { status: 'FAILED' }),
      outcomeRecord('lanes-3', { status: 'DENIED' }),
      outcomeRecord('lanes-1'),
    ];
    const { counts } = await deliver(ports, batch);
    const snapshot = metricsSnapshot(counts);
    expect(RECORD_LANES.reduce((n, lane) => n + snapshot[lane], 0)).toBe(batch.length);
    expect(snapshot).toMatchObject({
      decision_escalations: 1,
      skipped_decision_not_escalated: 1,
      action_failures: 1,
      outcomes_waiting_for_decision: 1,
      skipped_outcome_executed: 1,
      quarantine: 0,
    });
  });
});
