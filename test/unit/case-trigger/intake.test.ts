import { describe, expect, it } from 'vitest';
import { type CaseTriggerSettings, handleCaseTriggerBatch } from '../../../lib/case-trigger/intake.ts';
import type { CaseTriggerBusRecord, CaseTriggerPorts } from '../../../lib/case-trigger/ports.ts';
import { caseId, caseTriggerIdentityFault } from '../../../lib/contracts/case-trigger.ts';
import { intentEnvelope, OTHER_RUN, pinsOf, RUN } from '../decision-log/fixtures.ts';
import {
  decisionIdOf,
  decisionRecord,
  harness,
  outcomeOf,
  outcomeRecord,
  recordOf,
  sourceEventOf,
} from './factories.ts';

/**
 * A batch of fp.bus.rtdl.v1 records through the case trigger's intake (downstream.md §4.1, §9 #11, #16) on the
 * in-memory store and a scripted IG: which decisions escalate (non-ALLOW by default, every one under `every_decision`),
 * ACTION_FAILURE for failed and denied outcomes on their decision's case, outcomes parked until their decision arrives,
 * the inlet's skips, and the records' answers.
 */

const settings: CaseTriggerSettings = { requiredPlatformRunId: RUN, escalate: 'non_allow' };
const deliver = (ports: CaseTriggerPorts, records: CaseTriggerBusRecord[], s = settings) =>
  handleCaseTriggerBatch(records, ports, s);

/** The case of a source event of the run, as every reader derives it. */
const caseOf = (name: string) =>
  caseId({ platform_run_id: RUN, event_class: 'traffic_fraud', event_id: sourceEventOf(name) });

describe('decisions (§9 #16)', () => {
  it('each non-ALLOW decision is one DECISION_ESCALATION on its source event case, published with its envelope', async () => {
    const { ig, ports, memory } = harness();
    const kinds = ['STEP_UP', 'QUEUE_REVIEW', 'DECLINE'];
    const batch = kinds.map((kind, i) => decisionRecord(`esc-${i}`, { actionKind: kind, second: 4 + i }));
    const answer = await deliver(ports, batch);

    expect(answer.retry).toBe(false);
    expect(
      answer.records.map((r) => [r.disposition, r.trigger_type, r.case_id, r.ledger, r.publish]),
    ).toEqual(kinds.map((_, i) => ['TRIGGER', 'DECISION_ESCALATION', caseOf(`esc-${i}`), 'NEW', 'ADMIT']));
    expect(ig.calls).toHaveLength(1);
    const envelopes = ig.calls[0] ?? [];
    expect(envelopes.map((e) => e.payload.trigger_payload)).toEqual(
      kinds.map((kind) => ({
        source_contract: 'decision_response',
        decision_kind: 'fraud_decision_v0',
        decision_action_kind: kind,
      })),
    );
    const [first] = envelopes;
    const decisionId = decisionIdOf('esc-0');
    const pins = pinsOf();
    expect(first).toEqual({
      event_id: first?.payload.case_trigger_id,
      event_type: 'case_trigger',
      schema_version: 'v1',
      ts_utc: '2026-12-07T10:00:04.000000Z',
      manifest_fingerprint: pins.manifest_fingerprint,
      parameter_hash: pins.parameter_hash,
      seed: pins.seed,
      scenario_id: pins.scenario_id,
      platform_run_id: RUN,
      scenario_run_id: pins.scenario_run_id,
      parent_event_id: `decision:${decisionId}`,
      producer: 'case_trigger',
      payload: expect.objectContaining({
        case_id: caseOf('esc-0'),
        trigger_type: 'DECISION_ESCALATION',
        source_ref_id: `decision:${decisionId}`,
        case_subject_key: {
          platform_run_id: RUN,
          event_class: 'traffic_fraud',
          event_id: sourceEventOf('esc-0'),
        },
        pins,
        observed_time: '2026-12-07T10:00:04.000000Z',
        evidence_refs: [
          { ref_type: 'DECISION', ref_id: decisionId },
          { ref_type: 'DLA_AUDIT_RECORD', ref_id: `audit_${decisionId}` },
        ],
      }),
    });
    // Every reader re-derives the ids and hash from the content, and finds the evidence the policy asks for.
    for (const e of envelopes) expect(caseTriggerIdentityFault(e.payload)).toBeUndefined();
    expect(memory.counters).toMatchObject({ triggers_seen: 3, decision_escalations: 3, published: 3 });
  });

  it('an ALLOW decision raises nothing by default, but its source is recorded; under every_decision it escalates', async () => {
    const byDefault = harness();
    const allow = decisionRecord('allow-1', { actionKind: 'ALLOW' });
    const quiet = await deliver(byDefault.ports, [allow]);
    expect(quiet.records.map((r) => [r.disposition, r.detail])).toEqual([['NOT_ESCALATED', 'ALLOW']]);
    expect(byDefault.ig.calls).toEqual([]);
    expect(byDefault.memory.ledger.size).toBe(0);
    expect(byDefault.memory.sources.get(decisionIdOf('allow-1'))?.source_event_id).toBe(
      sourceEventOf('allow-1'),
    );
    expect(byDefault.memory.counters).toEqual({ skipped_decision_not_escalated: 1 });

    const every = harness();
    const loud = await deliver(every.ports, [allow], { ...settings, escalate: 'every_decision' });
    expect(loud.records.map((r) => [r.disposition, r.trigger_type, r.case_id])).toEqual([
      ['TRIGGER', 'DECISION_ESCALATION', caseOf('allow-1')],
    ]);
    expect(every.ig.calls.flat().map((e) => e.payload.trigger_payload.decision_action_kind)).toEqual([
      'ALLOW',
    ]);
  });
});

describe('outcomes (§9 #11, #16)', () => {
  it('EXECUTED raises nothing; FAILED and DENIED raise ACTION_FAILURE on the case of their decision', async () => {
    const { ig, ports, memory } = harness();
    await deliver(ports, [decisionRecord('out-1'), decisionRecord('out-2', { actionKind: 'ALLOW' })]);
    const executed = outcomeRecord('out-1');
    const denied = outcomeRecord('out-1', { status: 'DENIED', actionKind: 'WIRE_FUNDS' });
    const failed = outcomeRecord('out-2', { status: 'FAILED' });
    const answer = await deliver(ports, [executed, denied, failed]);

    expect(answer.records.map((r) => [r.disposition, r.trigger_type, r.case_id, r.publish])).toEqual([
      ['OUTCOME_EXECUTED', undefined, undefined, undefined],
      ['TRIGGER', 'ACTION_FAILURE', caseOf('out-1'), 'ADMIT'],
      ['TRIGGER', 'ACTION_FAILURE', caseOf('out-2'), 'ADMIT'],
    ]);
    // The decision's escalation and the outcome's failure share a case.
    const escalation = ig.calls[0]?.[0]?.payload;
    expect(escalation?.case_id).toBe(answer.records[1]?.case_id);
    const deniedOutcome = outcomeOf(denied);
    const deniedTrigger = ig.calls[1]?.[0]?.payload;
    expect(deniedTrigger).toMatchObject({
      source_ref_id: `action_outcome:${deniedOutcome.outcome_id}`,
      observed_time: deniedOutcome.completed_at_utc,
      evidence_refs: [
        { ref_type: 'ACTION_OUTCOME', ref_id: deniedOutcome.outcome_id },
        { ref_type: 'DLA_AUDIT_RECORD', ref_id: `audit_${deniedOutcome.outcome_id}` },
      ],
      trigger_payload: {
        source_contract: 'action_outcome',
        status: 'DENIED',
        action_id: deniedOutcome.action_id,
        action_kind: 'WIRE_FUNDS',
      },
    });
    expect(ig.calls[1]?.[0]?.parent_event_id).toBe(`action_outcome:${deniedOutcome.outcome_id}`);
    expect(caseTriggerIdentityFault(deniedTrigger as never)).toBeUndefined();
    expect(memory.counters).toMatchObject({ skipped_outcome_executed: 1, action_failures: 2, published: 3 });
  });

  it('an outcome whose decision comes later in the same batch finds it (sources are recorded first)', async () => {
    const { ports } = harness();
    const answer = await deliver(ports, [
      outcomeRecord('same-1', { status: 'FAILED' }),
      decisionRecord('same-1'),
    ]);
    expect(answer.records.map((r) => [r.disposition, r.trigger_type, r.case_id])).toEqual([
      ['TRIGGER', 'ACTION_FAILURE', caseOf('same-1')],
      ['TRIGGER', 'DECISION_ESCALATION', caseOf('same-1')],
    ]);
    expect(answer.released).toEqual([]);
  });

  it('an outcome before its decision is parked, then raised once by the batch that brings the decision', async () => {
    const { ig, ports, memory } = harness();
    const failed = outcomeRecord('early-1', { status: 'FAILED' });
    const outcomeId = outcomeOf(failed).outcome_id;
    const early = await deliver(ports, [failed, outcomeRecord('early-2')]);
    expect(early.records.map((r) => [r.disposition, r.detail])).toEqual([
      ['WAITING_FOR_DECISION', decisionIdOf('early-1')],
      ['OUTCOME_EXECUTED', 'EXECUTED'],
    ]);
    expect(ig.calls).toEqual([]);
    expect(memory.parked(outcomeId)?.raised).toBeUndefined();
    expect(memory.counters).toMatchObject({ outcomes_waiting_for_decision: 1 });

    // Its decision is an ALLOW one: nothing to escalate, but the parked failure is now on the decision's case.
    const decision = decisionRecord('early-1', { actionKind: 'ALLOW' });
    const late = await deliver(ports, [decision]);
    expect(late.records.map((r) => r.disposition)).toEqual(['NOT_ESCALATED']);
    expect(late.released).toEqual([
      { outcome_id: outcomeId, case_trigger_id: expect.any(String), ledger: 'NEW', publish: 'ADMIT' },
    ]);
    const raised = ig.calls.flat().map((e) => e.payload);
    expect(raised.map((t) => [t.trigger_type, t.case_id, t.source_ref_id])).toEqual([
      ['ACTION_FAILURE', caseOf('early-1'), `action_outcome:${outcomeId}`],
    ]);
    expect(memory.parked(outcomeId)?.raised).toEqual({
      case_trigger_id: raised[0]?.case_trigger_id,
      disposition: 'PUBLISHED',
    });
    expect(memory.counters).toMatchObject({ outcomes_released: 1, triggers_seen: 1, published: 1 });

    // The decision redelivered releases nothing more; the outcome redelivered is a replay.
    expect((await deliver(ports, [decision])).released).toEqual([]);
    const again = await deliver(ports, [failed]);
    expect(again.records.map((r) => [r.disposition, r.ledger, r.publish])).toEqual([
      ['TRIGGER', 'REPLAY', undefined],
    ]);
    expect(ig.calls).toHaveLength(1);
  });

  it('a decision recorded by another batch while the outcome is being parked: the re-check raises it', async () => {
    const { ig, ports, memory } = harness();
    const decision = decisionRecord('race-1');
    const failed = outcomeRecord('race-1', { status: 'DENIED' });
    // The decision's batch runs whole between the outcome's first look-up and its park (it finds nothing parked).
    let decisionBatch: Awaited<ReturnType<typeof deliver>> | undefined;
    const racing = {
      ...ports,
      store: {
        ...ports.store,
        park: async (outcomes: Parameters<typeof ports.store.park>[0]) => {
          decisionBatch = await deliver(ports, [decision]);
          return ports.store.park(outcomes);
        },
      },
    };
    const outcomeBatch = await deliver(racing, [failed]);
    expect(decisionBatch?.released).toEqual([]);
    expect(outcomeBatch.records.map((r) => [r.disposition, r.trigger_type, r.case_id, r.publish])).toEqual([
      ['TRIGGER', 'ACTION_FAILURE', caseOf('race-1'), 'ADMIT'],
    ]);
    expect(ig.calls.flat().map((e) => e.payload.trigger_type)).toEqual([
      'DECISION_ESCALATION',
      'ACTION_FAILURE',
    ]);
    // Its park ends with the trigger it raised itself.
    expect(memory.parked(outcomeOf(failed).outcome_id)?.raised?.disposition).toBe('PUBLISHED');
  });
});

describe('the inlet', () => {
  it('skips and counts other types, versions, topics, broken records and other runs; records nothing of them', async () => {
    const { ig, ports, memory } = harness();
    const decision = decisionRecord('skip-1').envelope as Record<string, unknown>;
    const payload = decision.payload as Record<string, unknown>;
    const otherRun = decisionRecord('skip-2', { pins: pinsOf(OTHER_RUN) });
    const batch = [
      recordOf(intentEnvelope(decisionIdOf('skip-1'))),
      recordOf({ ...decision, schema_version: 'v2' }),
      recordOf(decision, 'fp.bus.traffic.fraud.v1'),
      recordOf(undefined),
      recordOf([decision]),
      recordOf({ ...decision, ts_utc: 'yesterday' }),
      recordOf({ ...decision, payload: { ...payload, decision_id: 'not-hex' } }),
      recordOf({ ...(outcomeRecord('skip-1', { status: 'FAILED' }).envelope as object), payload: {} }),
      otherRun,
      outcomeRecord('skip-2', { status: 'FAILED', pins: pinsOf(OTHER_RUN) }),
    ];
    const answer = await deliver(ports, batch);
    expect(answer.records.map((r) => r.disposition)).toEqual([
      'IRRELEVANT',
      'IRRELEVANT',
      'IRRELEVANT',
      'INVALID',
      'INVALID',
      'INVALID',
      'INVALID',
      'INVALID',
      'RUN_SCOPE_SKIPPED',
      'RUN_SCOPE_SKIPPED',
    ]);
    expect(answer.records.map((r) => r.detail?.split(':')[0])).toEqual([
      'action_intent@v1',
      'decision_response@v2',
      'TOPIC',
      'ENVELOPE_INVALID',
      'ENVELOPE_INVALID',
      'ENVELOPE_INVALID',
      'DECISION_CONTRACT_INVALID',
      'OUTCOME_CONTRACT_INVALID',
      OTHER_RUN,
      OTHER_RUN,
    ]);
    expect(answer.records[8]?.event_id).toBe((otherRun.envelope as { event_id: string }).event_id);
    expect(ig.calls).toEqual([]);
    expect([memory.sources.size, memory.waiting.size, memory.ledger.size]).toEqual([0, 0, 0]);
    expect(memory.counters).toEqual({ skipped_irrelevant: 3, skipped_invalid: 5, skipped_run_scope: 2 });
  });

  it('with no run required, every run is in scope', async () => {
    const { ports } = harness();
    const answer = await deliver(ports, [decisionRecord('any-1', { pins: pinsOf(OTHER_RUN) })], {
      requiredPlatformRunId: undefined,
      escalate: 'non_allow',
    });
    expect(answer.records.map((r) => [r.disposition, r.publish])).toEqual([['TRIGGER', 'ADMIT']]);
  });
});
