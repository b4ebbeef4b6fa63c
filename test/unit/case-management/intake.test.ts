import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type CaseBusRecord, takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import { caseManagementHealth, metricsSnapshot } from '../../../lib/case-management/observability.ts';
import type { LabelWriter } from '../../../lib/case-management/ports.ts';
import { caseTimelineEventId } from '../../../lib/contracts/case-management.ts';
import { type CaseTriggerPayload, caseTriggerPayloadHash } from '../../../lib/contracts/case-trigger.ts';
import { labelAssertionId } from '../../../lib/contracts/label-store.ts';
import {
  CASE_TOPIC,
  caseRecord,
  changedTrigger,
  OTHER_RUN,
  RUN,
  scriptedWriter,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from './factories.ts';
import { memoryCaseStore, rowCounts } from './memory-store.ts';

/**
 * Case management's intake (downstream.md §4.2, §9 #17) on in-memory ports: a new trigger opens its case, writes its
 * timeline and has its label accepted; a replay writes nothing; the same id with another hash is an anomaly; a tampered
 * or broken trigger is quarantined, one of another run skipped — none of them throws.
 */

function harness(writer: LabelWriter = scriptedWriter().writer) {
  const memory = memoryCaseStore();
  const ports = { store: memory.store, labels: writer, clock: steppingClock() };
  const run = (records: CaseBusRecord[]) =>
    takeInCaseTriggers(records, ports, { requiredPlatformRunId: RUN });
  return { memory, ports, run };
}

/** A payload whose hash is re-derived from its (changed) content. */
const rehashed = (p: CaseTriggerPayload): CaseTriggerPayload => ({
  ...p,
  payload_hash: caseTriggerPayloadHash(p),
});

const types = (timeline: { timeline_event_type: string }[]) => timeline.map((e) => e.timeline_event_type);

describe('case management intake: a new trigger', () => {
  it('opens the case; CASE_TRIGGERED, evidence, LABEL_PENDING, LABEL_ACCEPTED; the label is FRAUD_SUSPECTED AUTO', async () => {
    const writer = scriptedWriter();
    const { memory, ports, run } = harness(writer.writer);
    const trigger = triggerPayload('evt-1');
    const answer = await run([caseRecord(triggerEnvelope(trigger))]);

    expect(answer.records.map((r) => r.disposition)).toEqual(['NEW_TRIGGER']);
    const view = await ports.store.caseView(trigger.case_id);
    expect(view?.case).toMatchObject({
      case_id: trigger.case_id,
      case_subject_key: trigger.case_subject_key,
      trigger_count: 1,
      label_status: 'ACCEPTED',
    });
    expect(types(view?.timeline ?? [])).toEqual([
      'CASE_TRIGGERED',
      'EVIDENCE_ATTACHED',
      'EVIDENCE_ATTACHED',
      'LABEL_PENDING',
      'LABEL_ACCEPTED',
    ]);
    const triggered = caseTimelineEventId(trigger.case_id, 'CASE_TRIGGERED', trigger.case_trigger_id);
    const pending = caseTimelineEventId(trigger.case_id, 'LABEL_PENDING', trigger.case_trigger_id);
    expect(view?.timeline[0]?.case_timeline_event_id).toBe(triggered);
    expect(view?.timeline[3]?.case_timeline_event_id).toBe(pending);

    expect(writer.inputs).toHaveLength(1);
    const label = writer.inputs[0];
    expect(label).toEqual({
      case_timeline_event_id: pending,
      label_subject_key: { platform_run_id: RUN, event_id: 'evt-1' },
      pins: trigger.pins,
      label_type: 'fraud_disposition',
      label_value: 'FRAUD_SUSPECTED',
      effective_time: trigger.observed_time,
      observed_time: trigger.observed_time,
      source_type: 'AUTO',
      actor_id: 'SYSTEM::case_mgmt_worker',
      evidence_refs: [
        { ref_type: 'CASE_EVENT', ref_id: triggered },
        { ref_type: 'DECISION', ref_id: 'dec-evt-1' },
        { ref_type: 'DLA_AUDIT_RECORD', ref_id: 'audit_dec-evt-1' },
      ],
    });
    const accepted = view?.timeline[4];
    expect(accepted?.source_ref_id).toBe(labelAssertionId(label as never));
    expect(accepted?.payload).toMatchObject({ reason_code: 'ASSERTION_COMMITTED_NEW' });

    const counts = metricsSnapshot(await ports.store.counts(RUN));
    expect(counts).toMatchObject({
      case_triggers: 1,
      cases_created: 1,
      timeline_events_appended: 5,
      label_assertions: 1,
      labels_pending: 0,
      labels_accepted: 1,
      labels_rejected: 0,
      payload_mismatches: 0,
      quarantined: 0,
      skipped: 0,
    });
    expect(caseManagementHealth(counts)).toMatchObject({ health_state: 'GREEN', health_reasons: [] });
    expect(rowCounts(memory.tables)).toMatchObject({ intake: 1, cases: 1, emissions: 1, quarantine: 0 });
  });

  it('a replayed trigger (redelivery, or the same event at a new offset) writes no row and no second label', async () => {
    const writer = scriptedWriter();
    const { memory, ports, run } = harness(writer.writer);
    const envelope = triggerEnvelope(triggerPayload('evt-1'));
    const first = caseRecord(envelope);
    await run([first]);
    const before = rowCounts(memory.tables);
    const timelineBefore = structuredClone(memory.tables.timeline);

    const again = await run([first, caseRecord(envelope)]);
    expect(again.records.map((r) => r.disposition)).toEqual(['DUPLICATE_TRIGGER', 'DUPLICATE_TRIGGER']);
    expect(rowCounts(memory.tables)).toEqual(before);
    expect(memory.tables.timeline).toEqual(timelineBefore);
    expect(writer.inputs).toHaveLength(1);
    expect(await ports.store.counts(RUN)).toMatchObject({
      case_triggers: 1,
      duplicates: 2,
      labels_accepted: 1,
    });
  });

  it('the same case_trigger_id with another payload hash: TRIGGER_PAYLOAD_MISMATCH, no case row, an anomaly', async () => {
    const writer = scriptedWriter();
    const { memory, ports, run } = harness(writer.writer);
    const trigger = triggerPayload('evt-1');
    await run([caseRecord(triggerEnvelope(trigger))]);
    const before = rowCounts(memory.tables);

    const changed = changedTrigger(trigger);
    expect(changed.case_trigger_id).toBe(trigger.case_trigger_id);
    expect(changed.payload_hash).not.toBe(trigger.payload_hash);
    const answer = await run([caseRecord(triggerEnvelope(changed))]);
    expect(answer.records[0]).toMatchObject({
      disposition: 'TRIGGER_PAYLOAD_MISMATCH',
      case_trigger_id: trigger.case_trigger_id,
    });
    expect(rowCounts(memory.tables)).toEqual({ ...before, quarantine: 1 });
    expect([...memory.tables.quarantine.values()][0]).toMatchObject({
      reason_code: 'TRIGGER_PAYLOAD_MISMATCH',
      case_trigger_id: trigger.case_trigger_id,
      detail: `stored payload_hash ${trigger.payload_hash}, delivered ${changed.payload_hash}`,
    });
    expect(writer.inputs).toHaveLength(1);
    const counts = await ports.store.counts(RUN);
    expect(counts).toMatchObject({ payload_mismatches: 1, case_triggers: 1 });
    expect(caseManagementHealth(counts)).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['ANOMALIES_AMBER'],
    });
  });

  it('within one batch: the first sighting is taken in, a repeat is a duplicate, another hash a mismatch', async () => {
    const { memory, run } = harness();
    const trigger = triggerPayload('evt-1');
    const answer = await run([
      caseRecord(triggerEnvelope(trigger)),
      caseRecord(triggerEnvelope(trigger)),
      caseRecord(triggerEnvelope(changedTrigger(trigger))),
    ]);
    expect(answer.records.map((r) => r.disposition)).toEqual([
      'NEW_TRIGGER',
      'DUPLICATE_TRIGGER',
      'TRIGGER_PAYLOAD_MISMATCH',
    ]);
    expect(rowCounts(memory.tables)).toMatchObject({ intake: 1, cases: 1, emissions: 1, quarantine: 1 });
  });

  it('a second trigger on the case (ACTION_FAILURE after DECISION_ESCALATION): no second case, trigger_count 2, its own label', async () => {
    const writer = scriptedWriter();
    const { ports, run } = harness(writer.writer);
    const escalation = triggerPayload('evt-1');
    const failure = triggerPayload('evt-1', {
      type: 'ACTION_FAILURE',
      ref: 'outcome-1',
      observed_time: '2026-12-07T10:00:05.000000Z',
    });
    expect(failure.case_id).toBe(escalation.case_id);
    await run([caseRecord(triggerEnvelope(escalation))]);
    await run([caseRecord(triggerEnvelope(failure))]);

    const view = await ports.store.caseView(escalation.case_id);
    expect(view?.case).toMatchObject({
      trigger_count: 2,
      first_observed_time: escalation.observed_time,
      last_observed_time: failure.observed_time,
    });
    const triggered = view?.timeline.filter((e) => e.timeline_event_type === 'CASE_TRIGGERED');
    expect(triggered?.map((e) => e.source_ref_id)).toEqual([
      escalation.case_trigger_id,
      failure.case_trigger_id,
    ]);
    expect(types(view?.timeline ?? []).filter((t) => t.startsWith('LABEL_'))).toEqual([
      'LABEL_PENDING',
      'LABEL_ACCEPTED',
      'LABEL_PENDING',
      'LABEL_ACCEPTED',
    ]);
    const ids = writer.inputs.map((input) => labelAssertionId(input));
    expect(new Set(ids).size).toBe(2);
    expect(await ports.store.counts(RUN)).toMatchObject({
      cases_created: 1,
      case_triggers: 2,
      label_assertions: 2,
    });
  });
});

describe('case management intake: records not taken in', () => {
  it('tampered ids or hash, missing evidence, a broken contract: quarantined with evidence, never thrown', async () => {
    const { memory, ports, run } = harness();
    const good = triggerPayload('evt-1');
    const tampered = [
      { ...good, case_trigger_id: 'f'.repeat(32) },
      { ...good, case_id: 'e'.repeat(32) },
      { ...good, payload_hash: '0'.repeat(64) },
      rehashed({ ...good, evidence_refs: [{ ref_type: 'DECISION', ref_id: 'dec-evt-1' }] }),
    ];
    const records = [
      ...tampered.map((p) => caseRecord(triggerEnvelope(p as never, { event_id: p.case_trigger_id }))),
      caseRecord(undefined, { data: 'not json {' }),
      caseRecord({ ...triggerEnvelope(good), event_type: 'decision_response' }),
      caseRecord({ ...triggerEnvelope(good), payload: { ...good, pins: undefined } }),
      caseRecord(triggerEnvelope(good, { event_id: 'a'.repeat(32) })),
    ];
    const answer = await run(records);
    expect(answer.records.map((r) => r.disposition)).toEqual(Array(records.length).fill('QUARANTINED'));
    expect([...memory.tables.quarantine.values()].map((q) => q.reason_code)).toEqual([
      'CASE_TRIGGER_ID_MISMATCH',
      'CASE_ID_MISMATCH',
      'PAYLOAD_HASH_MISMATCH',
      'EVIDENCE_MISSING',
      'TRIGGER_CONTRACT_INVALID',
      'TRIGGER_CONTRACT_INVALID',
      'TRIGGER_CONTRACT_INVALID',
      'ENVELOPE_EVENT_ID_MISMATCH',
    ]);
    const broken = [...memory.tables.quarantine.values()][4];
    expect(broken).toMatchObject({
      data_base64: Buffer.from('not json {').toString('base64'),
      data_bytes: 10,
      data_sha256: createHash('sha256').update('not json {').digest('hex'),
    });
    expect(rowCounts(memory.tables)).toMatchObject({ intake: 0, cases: 0, timeline: 0, emissions: 0 });
    const counts = await ports.store.counts(RUN);
    expect(counts.quarantined).toBe(records.length);
    expect(caseManagementHealth(counts)).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['ANOMALIES_AMBER'],
    });

    // The same records delivered again: one row each still (keyed by their bus position).
    await run(records);
    expect((await ports.store.counts(RUN)).quarantined).toBe(records.length);
  });

  it('hostile text (a control character in a key or an event_id) never reaches a row as it is', async () => {
    const { memory, run } = harness();
    const good = triggerPayload('evt-1');
    await run([
      caseRecord({ ...triggerEnvelope(good), 'bad\u0000key': 1 }),
      caseRecord({ ...triggerEnvelope(good), event_id: 'id\u0000', extra: true }),
    ]);
    const rows = [...memory.tables.quarantine.values()];
    expect(rows.map((q) => q.reason_code)).toEqual(['TRIGGER_CONTRACT_INVALID', 'TRIGGER_CONTRACT_INVALID']);
    for (const q of rows)
      expect([...`${q.detail}${q.event_id}`].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(rows[0]?.detail).toContain('bad?key');
    expect(rows[1]?.event_id).toBeNull();
  });

  it('a trigger of another run is skipped and counted: no row, no label', async () => {
    const writer = scriptedWriter();
    const { memory, ports, run } = harness(writer.writer);
    const other = triggerPayload('evt-1', { run: OTHER_RUN });
    const answer = await run([caseRecord(triggerEnvelope(other))]);
    expect(answer.records[0]).toMatchObject({
      disposition: 'RUN_SCOPE_SKIPPED',
      detail: `RUN_SCOPE_SKIPPED: ${OTHER_RUN}`,
    });
    expect(rowCounts(memory.tables)).toEqual({
      intake: 0,
      cases: 0,
      timeline: 0,
      emissions: 0,
      quarantine: 0,
    });
    expect(writer.inputs).toEqual([]);
    expect(await ports.store.counts(RUN)).toMatchObject({ skipped: 1, quarantined: 0 });
  });

  it('records keep their place: answers in stream order with their topic and offset', async () => {
    const { run } = harness();
    const records = [
      caseRecord(triggerEnvelope(triggerPayload('evt-1')), { offset: '7' }),
      caseRecord(undefined, { data: '[]', offset: '8' }),
      caseRecord(triggerEnvelope(triggerPayload('evt-2', { run: OTHER_RUN })), { offset: '9' }),
    ];
    const answer = await run(records);
    expect(answer.records.map((r) => [r.topic, r.offset, r.disposition])).toEqual([
      [CASE_TOPIC, '7', 'NEW_TRIGGER'],
      [CASE_TOPIC, '8', 'QUARANTINED'],
      [CASE_TOPIC, '9', 'RUN_SCOPE_SKIPPED'],
    ]);
  });
});

describe('case management intake: a batch costs a handful of store calls', () => {
  it('500 triggers: one takeIn, one settle, one writeMany of 500', async () => {
    const writer = scriptedWriter([], { batch: true });
    const { memory, run } = harness(writer.writer);
    const records = Array.from({ length: 500 }, (_, i) =>
      caseRecord(triggerEnvelope(triggerPayload(`evt-${i}`))),
    );
    const answer = await run(records);
    expect(answer.labels).toMatchObject({ accepted: 500, pending: 0, exceptions: 0 });
    expect(memory.calls).toEqual({ takeIn: 1, settle: 1 });
    expect(writer.batches).toEqual([500]);
    expect(rowCounts(memory.tables)).toMatchObject({ cases: 500, emissions: 500 });
  });
});
