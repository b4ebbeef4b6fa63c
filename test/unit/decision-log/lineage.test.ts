import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recipeId } from '../../../lib/contracts/decision-lane.ts';
import {
  AUDIT_RECORD_EVENT_TYPE,
  AuditRecordEvent,
  auditId,
  auditRecordDigest,
  auditRecordEvent,
  DECISION_LOG_TOPIC,
  type LineageChain,
} from '../../../lib/contracts/decision-log.ts';
import { auditDue, auditRecordOf } from '../../../lib/decision-log/audit.ts';
import { inletVerdict } from '../../../lib/decision-log/inlet.ts';
import {
  applyToChain,
  type ChainEvent,
  chainEventOf,
  type LineageApply,
} from '../../../lib/decision-log/lineage.ts';
import {
  busRecord,
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  outcomeEnvelope,
  pinsOf,
  RUN,
  SCENARIO_RUN,
} from './fixtures.ts';

/**
 * Lineage per decision_id (§3.4, §9 #3): reasons in any arrival order, conflicts that leave the chain as it was, the
 * unresolved-since stamp, and the audit record: due once whole, the same whatever the order.
 */

const D = decisionIdOf('lineage');
const NOW = '2026-12-07T10:01:00.000Z';
const LATER = '2026-12-07T10:02:00.000Z';

function eventOf(envelope: unknown, offset = 1): ChainEvent {
  const verdict = inletVerdict(busRecord(offset, envelope), { admittedTopics: [DECISION_LOG_TOPIC] });
  if (!verdict.accepted) throw new Error(`fixture rejected: ${verdict.reason} ${verdict.detail}`);
  return chainEventOf(verdict.candidate, {
    topic: DECISION_LOG_TOPIC,
    partition: 0,
    offset: String(offset),
    offset_kind: 'kinesis_sequence',
  });
}

const chainOf = (result: LineageApply): LineageChain => {
  if (result.status === 'CONFLICT') throw new Error(`unexpected conflict ${result.conflict}`);
  return result.chain;
};

describe('lineage of one decision', () => {
  it('outcome, then intent, then decision: {MISSING_DECISION, MISSING_INTENT_LINK}, {MISSING_DECISION}, RESOLVED', () => {
    const first = applyToChain(undefined, eventOf(outcomeEnvelope(D), 1), NOW);
    expect(first).toMatchObject({
      status: 'NEW',
      chain: {
        chain_status: 'UNRESOLVED',
        unresolved_reasons: ['MISSING_DECISION', 'MISSING_INTENT_LINK'],
        unresolved_since_utc: NOW,
      },
    });
    const second = applyToChain(chainOf(first), eventOf(intentEnvelope(D), 2), LATER);
    // Still unresolved: the stamp is the first one.
    expect(second).toMatchObject({
      status: 'NEW',
      chain: { unresolved_reasons: ['MISSING_DECISION'], unresolved_since_utc: NOW },
    });
    const third = applyToChain(chainOf(second), eventOf(decisionEnvelope(D), 3), LATER);
    expect(third).toMatchObject({
      status: 'NEW',
      chain: { chain_status: 'RESOLVED', unresolved_reasons: [], unresolved_since_utc: null },
    });
  });

  it('a decision alone is RESOLVED; its intent re-opens it (MISSING_OUTCOME_LINK) until the outcome', () => {
    const decided = chainOf(applyToChain(undefined, eventOf(decisionEnvelope(D)), NOW));
    expect(decided).toMatchObject({ chain_status: 'RESOLVED', unresolved_since_utc: null });
    expect(auditDue(decided)).toBe(false);
    const intended = chainOf(applyToChain(decided, eventOf(intentEnvelope(D), 2), LATER));
    expect(intended).toMatchObject({
      unresolved_reasons: ['MISSING_OUTCOME_LINK'],
      unresolved_since_utc: LATER,
    });
    const done = chainOf(applyToChain(intended, eventOf(outcomeEnvelope(D), 3), LATER));
    expect(done.chain_status).toBe('RESOLVED');
    expect(auditDue(done)).toBe(true);
    expect(auditDue({ ...done, audit_id: auditId(D, RUN) })).toBe(false);
  });

  it('the same event again is a DUPLICATE that changes nothing', () => {
    const chain = chainOf(applyToChain(undefined, eventOf(intentEnvelope(D)), NOW));
    expect(applyToChain(chain, eventOf(intentEnvelope(D), 9), LATER)).toEqual({ status: 'DUPLICATE', chain });
  });

  it.each([
    ['DECISION_LINK_CONFLICT', () => decisionEnvelope(D), () => decisionEnvelope(D, { variant: 'x' })],
    ['INTENT_LINK_CONFLICT', () => intentEnvelope(D), () => intentEnvelope(D, { variant: 'x' })],
    ['OUTCOME_LINK_CONFLICT', () => outcomeEnvelope(D), () => outcomeEnvelope(D, { variant: 'x' })],
    [
      'RUN_CONFIG_DIGEST_MISMATCH',
      () => decisionEnvelope(D),
      () => intentEnvelope(D, { runConfigDigest: '1'.repeat(64) }),
    ],
    [
      'RUN_SCOPE_MISMATCH',
      () => decisionEnvelope(D),
      () => intentEnvelope(D, { pins: pinsOf(RUN, { scenario_run_id: '3'.repeat(32) }) }),
    ],
  ])('%s: the chain is left as it was', (conflict, first, second) => {
    const chain = chainOf(applyToChain(undefined, eventOf(first()), NOW));
    expect(applyToChain(chain, eventOf(second(), 2), LATER)).toMatchObject({ status: 'CONFLICT', conflict });
    expect(chain.intents).toHaveLength(first().event_type === 'action_intent' ? 1 : 0);
  });

  it('two intents of one decision: unresolved until each has its outcome', () => {
    let chain = chainOf(applyToChain(undefined, eventOf(decisionEnvelope(D)), NOW));
    for (const [i, envelope] of [
      intentEnvelope(D, { actionKind: 'STEP_UP' }),
      intentEnvelope(D, { actionKind: 'QUEUE_REVIEW' }),
      outcomeEnvelope(D, { actionKind: 'STEP_UP' }),
    ].entries())
      chain = chainOf(applyToChain(chain, eventOf(envelope, i + 2), NOW));
    expect(chain.unresolved_reasons).toEqual(['MISSING_OUTCOME_LINK']);
    chain = chainOf(applyToChain(chain, eventOf(outcomeEnvelope(D, { actionKind: 'QUEUE_REVIEW' }), 9), NOW));
    expect(chain).toMatchObject({ chain_status: 'RESOLVED', intents: [{}, {}], outcomes: [{}, {}] });
  });
});

describe('audit record', () => {
  const events = [decisionEnvelope(D), intentEnvelope(D), outcomeEnvelope(D)];

  it('any arrival order ends RESOLVED with one and the same audit record', () => {
    const records = new Set<string>();
    fc.assert(
      fc.property(fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }), (order) => {
        let chain: LineageChain | undefined;
        for (const i of order) chain = chainOf(applyToChain(chain, eventOf(events[i], 10 + i), NOW));
        expect(chain?.chain_status).toBe('RESOLVED');
        records.add(auditRecordDigest(auditRecordOf(chain as LineageChain)));
      }),
    );
    expect(records.size).toBe(1);
  });

  it('audit_id is recipe dla.audit_id.v1 {decision_id, platform_run_id}; the record names the chain whole', () => {
    let chain: LineageChain | undefined;
    for (const [i, envelope] of events.entries())
      chain = chainOf(applyToChain(chain, eventOf(envelope, i + 1), NOW));
    const record = auditRecordOf(chain as LineageChain);
    expect(record.audit_id).toBe(recipeId('dla.audit_id.v1', { decision_id: D, platform_run_id: RUN }));
    expect(record).toMatchObject({
      decision_id: D,
      chain_status: 'RESOLVED',
      unresolved_reasons: [],
      pins: { platform_run_id: RUN, scenario_run_id: SCENARIO_RUN },
      decision: { action_kind: 'STEP_UP', event: { event_id: events[0]?.event_id, eb_ref: { offset: '1' } } },
      intents: [{ event: { event_id: events[1]?.event_id } }],
      outcomes: [{ status: 'EXECUTED', event: { event_id: events[2]?.event_id } }],
      resolved_at_utc: events[2]?.ts_utc,
    });
    const event = auditRecordEvent(record);
    expect(AuditRecordEvent.safeParse(event).success).toBe(true);
    expect(event).toMatchObject({
      event_id: record.audit_id,
      event_type: AUDIT_RECORD_EVENT_TYPE,
      parent_event_id: events[0]?.event_id,
      platform_run_id: RUN,
      payload: { record_digest: auditRecordDigest(record), intent_count: 1, outcome_statuses: ['EXECUTED'] },
    });
  });
});
