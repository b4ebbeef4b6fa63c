import { describe, expect, it } from 'vitest';
import { DECISION_LOG_TOPIC } from '../../../lib/contracts/decision-log.ts';
import { type DecisionLogIntakeSettings, intakeDecisionLogBatch } from '../../../lib/decision-log/intake.ts';
import {
  collectDecisionLogObservability,
  DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
} from '../../../lib/decision-log/observability.ts';
import {
  busRecord,
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  OTHER_RUN,
  outcomeEnvelope,
  pinsOf,
  RUN,
} from './fixtures.ts';
import { memoryPorts } from './in-memory-decision-log-store.ts';

/**
 * §3.4 intake of batches against an in-memory store with the adapter's semantics, one behaviour per test, the
 * acceptance checks of §9 (#1 run scope, #3 lineage order, #4 replay divergence, #5 payload hash mismatch) and the
 * audit records: exactly one per resolved chain, none new on a replay.
 */

const settings: DecisionLogIntakeSettings = {
  requiredPlatformRunId: RUN,
  admittedTopics: [DECISION_LOG_TOPIC],
};
const D = decisionIdOf('intake');

async function health(ports: ReturnType<typeof memoryPorts>['ports']) {
  return collectDecisionLogObservability(ports.store, {
    platformRunId: RUN,
    scope: {},
    thresholds: DEFAULT_DECISION_LOG_HEALTH_THRESHOLDS,
    thresholdPolicyRef: 'test',
    recentAttempts: 10,
    now: ports.now(),
  });
}

describe('decision log intake', () => {
  it('#1 another run’s event: no candidate, no quarantine, offset advanced, attempt RUN_SCOPE_MISMATCH', async () => {
    const { ports, memory } = memoryPorts();
    const result = await intakeDecisionLogBatch(
      ports,
      [busRecord(7, decisionEnvelope(D, { pins: pinsOf(OTHER_RUN) }))],
      settings,
    );
    expect(result).toMatchObject({ advanced: true, blocked: null, records: [{ status: 'SKIPPED' }] });
    expect(memory.state.candidates).toEqual([]);
    expect(memory.state.quarantines).toEqual([]);
    expect(memory.state.chains.size).toBe(0);
    expect(memory.state.checkpoints).toMatchObject([
      { topic: DECISION_LOG_TOPIC, partition: 0, next_offset: '7' },
    ]);
    expect(memory.state.attempts).toMatchObject([
      {
        reason_code: 'RUN_SCOPE_MISMATCH',
        accepted: false,
        checkpoint_advanced: true,
        platform_run_id: OTHER_RUN,
      },
    ]);
  });

  it('#3 outcome, intent, decision in three batches: reasons shrink to RESOLVED; lineage_unresolved_total 1, 1, 0', async () => {
    const { ports } = memoryPorts();
    const steps = [
      [outcomeEnvelope(D), ['MISSING_DECISION', 'MISSING_INTENT_LINK'], 1],
      [intentEnvelope(D), ['MISSING_DECISION'], 1],
      [decisionEnvelope(D), [], 0],
    ] as const;
    for (const [i, [envelope, reasons, unresolved]] of steps.entries()) {
      const result = await intakeDecisionLogBatch(ports, [busRecord(i + 1, envelope)], settings);
      expect(result.records).toMatchObject([
        { status: 'ACCEPTED', write_status: 'NEW', unresolved_reasons: reasons },
      ]);
      expect((await ports.store.readChain(D))?.unresolved_reasons).toEqual(reasons);
      const observed = await health(ports);
      expect(observed.metrics.lineage_unresolved_total).toBe(unresolved);
      expect(
        (await ports.store.counts({ platformRunId: RUN, scenarioRunId: pinsOf().scenario_run_id }))
          .lineage_unresolved_total,
      ).toBe(unresolved);
    }
    expect((await ports.store.readChain(D))?.chain_status).toBe('RESOLVED');
  });

  it('a resolved chain yields exactly one audit record; the same batch replayed yields none new', async () => {
    const { ports, auditSink, memory } = memoryPorts();
    const batch = [
      busRecord(1, decisionEnvelope(D)),
      busRecord(2, intentEnvelope(D)),
      busRecord(3, outcomeEnvelope(D)),
    ];
    const first = await intakeDecisionLogBatch(ports, batch, settings);
    expect(first.auditRecords).toHaveLength(1);
    expect(first.auditRecords[0]).toMatchObject({ decision_id: D, chain_status: 'RESOLVED' });
    expect(auditSink.records.size).toBe(1);
    const replay = await intakeDecisionLogBatch(ports, batch, settings);
    expect(replay.auditRecords).toEqual([]);
    expect(replay.records.map((r) => (r.status === 'ACCEPTED' ? r.write_status : r.status))).toEqual([
      'DUPLICATE',
      'DUPLICATE',
      'DUPLICATE',
    ]);
    expect(auditSink.appends).toBe(1);
    expect(memory.state.chains.get(D)).toMatchObject({
      chain: { audit_id: first.auditRecords[0]?.audit_id },
      audit_record_digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(memory.state.candidates).toHaveLength(3);
  });

  it('an audited chain that changes later keeps its one record (write-once): no second record is built', async () => {
    const { ports, auditSink } = memoryPorts();
    const whole = [
      busRecord(1, decisionEnvelope(D)),
      busRecord(2, intentEnvelope(D)),
      busRecord(3, outcomeEnvelope(D)),
    ];
    expect((await intakeDecisionLogBatch(ports, whole, settings)).auditRecords).toHaveLength(1);
    const late = [
      busRecord(4, intentEnvelope(D, { actionKind: 'QUEUE_REVIEW' })),
      busRecord(5, outcomeEnvelope(D, { actionKind: 'QUEUE_REVIEW' })),
    ];
    const result = await intakeDecisionLogBatch(ports, late, settings);
    expect(result.auditRecords).toEqual([]);
    expect(await ports.store.readChain(D)).toMatchObject({ chain_status: 'RESOLVED', intents: [{}, {}] });
    expect(auditSink.appends).toBe(1);
  });

  it('a decision alone is resolved but not audited until its intent and outcome arrive', async () => {
    const { ports, auditSink } = memoryPorts();
    expect(
      (await intakeDecisionLogBatch(ports, [busRecord(1, decisionEnvelope(D))], settings)).auditRecords,
    ).toEqual([]);
    await intakeDecisionLogBatch(ports, [busRecord(2, intentEnvelope(D))], settings);
    const last = await intakeDecisionLogBatch(ports, [busRecord(3, outcomeEnvelope(D))], settings);
    expect(last.auditRecords.map((r) => r.decision_id)).toEqual([D]);
    expect(auditSink.records.size).toBe(1);
  });

  it('#4 the same offset redelivered with another payload: REPLAY_DIVERGENCE, not advanced, health RED', async () => {
    const { ports, memory } = memoryPorts();
    await intakeDecisionLogBatch(ports, [busRecord(5, intentEnvelope(D))], settings);
    const other = decisionIdOf('other');
    const result = await intakeDecisionLogBatch(
      ports,
      [busRecord(5, intentEnvelope(D, { variant: 'changed' })), busRecord(6, decisionEnvelope(other))],
      settings,
    );
    expect(result).toMatchObject({
      advanced: false,
      blocked: { index: 0, offset: '5', reason: 'REPLAY_DIVERGENCE' },
      records: [{ status: 'QUARANTINED', reason: 'REPLAY_DIVERGENCE', advanced: false }],
    });
    // The record after the divergent one is left for the retry.
    expect(await ports.store.readChain(other)).toBeUndefined();
    expect(memory.state.checkpoints).toMatchObject([{ next_offset: '5' }]);
    expect(memory.state.attempts.at(-1)).toMatchObject({
      reason_code: 'REPLAY_DIVERGENCE',
      checkpoint_advanced: false,
    });
    expect(memory.state.quarantines).toMatchObject([{ reason_code: 'REPLAY_DIVERGENCE', offset: '5' }]);
    const observed = await health(ports);
    expect(observed.metrics.replay_divergence_total).toBe(1);
    expect(observed.state).toBe('RED');
    expect(observed.reasons).toContain('REPLAY_DIVERGENCE_RED');
  });

  it('#5 the same (run, type, event_id) with another payload at a new offset: PAYLOAD_HASH_MISMATCH, advanced, AMBER', async () => {
    const { ports, memory } = memoryPorts();
    await intakeDecisionLogBatch(ports, [busRecord(1, decisionEnvelope(D))], settings);
    const result = await intakeDecisionLogBatch(
      ports,
      [busRecord(2, decisionEnvelope(D, { variant: 'v2' }))],
      settings,
    );
    expect(result).toMatchObject({
      advanced: true,
      records: [{ status: 'QUARANTINED', reason: 'PAYLOAD_HASH_MISMATCH', advanced: true }],
    });
    expect(memory.state.candidates).toHaveLength(1);
    expect(memory.state.checkpoints).toMatchObject([{ next_offset: '2' }]);
    const observed = await health(ports);
    expect(observed.metrics).toMatchObject({ quarantine_total: 1, replay_divergence_total: 0 });
    expect(observed.state).toBe('AMBER');
    expect(observed.reasons).toEqual(['QUARANTINE_AMBER']);
  });

  it('other rejects are quarantined once per offset and reason, and advanced', async () => {
    const { ports, memory } = memoryPorts();
    const batch = [
      busRecord(1, 'not an envelope'),
      busRecord(2, { ...decisionEnvelope(D), event_type: 'case_trigger' }),
    ];
    await intakeDecisionLogBatch(ports, batch, settings);
    await intakeDecisionLogBatch(ports, batch, settings);
    expect(memory.state.quarantines.map((q) => q.reason_code)).toEqual([
      'INVALID_ENVELOPE',
      'UNKNOWN_EVENT_FAMILY',
    ]);
    expect(memory.state.attempts).toHaveLength(4);
    expect(memory.state.checkpoints).toMatchObject([{ next_offset: '2' }]);
  });

  it('a lineage conflict is quarantined LINEAGE_CONFLICT and advanced; the chain keeps its first intent', async () => {
    const { ports, memory } = memoryPorts();
    await intakeDecisionLogBatch(ports, [busRecord(1, intentEnvelope(D))], settings);
    const conflicting = { ...intentEnvelope(D, { variant: 'z' }), event_id: 'another-intent-event' };
    const result = await intakeDecisionLogBatch(ports, [busRecord(2, conflicting)], settings);
    expect(result.records).toMatchObject([
      {
        status: 'QUARANTINED',
        reason: 'LINEAGE_CONFLICT',
        detail: expect.stringContaining('INTENT_LINK_CONFLICT'),
      },
    ]);
    expect((await ports.store.readChain(D))?.intents.map((i) => i.event.event_id)).toEqual([
      intentEnvelope(D).event_id,
    ]);
    expect(memory.state.checkpoints).toMatchObject([{ next_offset: '2' }]);
  });

  it('a store error fails the batch: nothing of it stays but WRITE_FAILED attempts; the retry applies it', async () => {
    const { ports, memory, auditSink } = memoryPorts();
    memory.control.failWrites = 1;
    const batch = [
      busRecord(1, decisionEnvelope(D)),
      busRecord(2, intentEnvelope(D)),
      busRecord(3, outcomeEnvelope(D)),
    ];
    await expect(intakeDecisionLogBatch(ports, batch, settings)).rejects.toThrow('connection lost');
    expect(memory.state.candidates).toEqual([]);
    expect(memory.state.checkpoints).toEqual([]);
    expect(memory.state.attempts.map((a) => [a.reason_code, a.detail])).toEqual([
      ['WRITE_FAILED', 'OPS_DB_UNAVAILABLE'],
      ['WRITE_FAILED', 'OPS_DB_UNAVAILABLE'],
      ['WRITE_FAILED', 'OPS_DB_UNAVAILABLE'],
    ]);
    expect(auditSink.records.size).toBe(0);
    expect((await health(ports)).reasons).toContain('APPEND_FAILURE_AMBER');
    const retried = await intakeDecisionLogBatch(ports, batch, settings);
    expect(retried.auditRecords).toHaveLength(1);
  });

  it('an audit sink error rolls the batch back: the retry resolves and audits the chain', async () => {
    const { ports, memory, auditSink } = memoryPorts();
    auditSink.fail = true;
    memory.control.failAttemptLog = true;
    const batch = [
      busRecord(1, decisionEnvelope(D)),
      busRecord(2, intentEnvelope(D)),
      busRecord(3, outcomeEnvelope(D)),
    ];
    await expect(intakeDecisionLogBatch(ports, batch, settings)).rejects.toThrow('audit bucket unavailable');
    expect(memory.state.chains.size).toBe(0);
    expect(memory.state.attempts).toEqual([]);
    auditSink.fail = false;
    expect((await intakeDecisionLogBatch(ports, batch, settings)).auditRecords).toHaveLength(1);
    expect((await ports.store.readChain(D))?.audit_id).toBe(auditSink.records.keys().next().value);
  });

  it('events of two decisions interleaved in one batch resolve both chains', async () => {
    const { ports } = memoryPorts();
    const E = decisionIdOf('second');
    const result = await intakeDecisionLogBatch(
      ports,
      [
        busRecord(1, outcomeEnvelope(E)),
        busRecord(2, decisionEnvelope(D)),
        busRecord(3, intentEnvelope(E)),
        busRecord(4, intentEnvelope(D)),
        busRecord(5, decisionEnvelope(E)),
        busRecord(6, outcomeEnvelope(D)),
      ],
      settings,
    );
    expect(result.auditRecords.map((r) => r.decision_id).sort()).toEqual([D, E].sort());
    expect((await health(ports)).metrics).toMatchObject({
      lineage_resolved_total: 2,
      lineage_unresolved_total: 0,
    });
  });
});
