import { describe, expect, it } from 'vitest';
import {
  type CaseBusRecord,
  retryPendingLabels,
  takeInCaseTriggers,
} from '../../../lib/case-management/intake.ts';
import { writeExceptionOf } from '../../../lib/case-management/labels.ts';
import { caseManagementHealth } from '../../../lib/case-management/observability.ts';
import type { LabelWriter } from '../../../lib/case-management/ports.ts';
import type { LabelAssertionInput, LabelWriteResult } from '../../../lib/contracts/label-store.ts';
import { labelAssertionId } from '../../../lib/contracts/label-store.ts';
import { PlatformError } from '../../../lib/errors/platform-error.ts';
import {
  caseRecord,
  RUN,
  scriptedWriter,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from './factories.ts';
import { memoryCaseStore } from './memory-store.ts';

/**
 * The label handshake (downstream.md §4.2): LABEL_PENDING, then the label store's answer — ACCEPTED ⇒ LABEL_ACCEPTED,
 * REJECTED ⇒ LABEL_REJECTED with its reason; a write that throws leaves the label PENDING (LS_WRITE_EXCEPTION:<code>),
 * retried on the next delivery of its trigger or by the retry task, and rejected (RETRY_LIMIT_EXCEEDED) after the
 * third attempt. Case management never says ACCEPTED before the label store did.
 */

function harness(writer: LabelWriter) {
  const memory = memoryCaseStore();
  const ports = { store: memory.store, labels: writer, clock: steppingClock() };
  const run = (records: CaseBusRecord[]) =>
    takeInCaseTriggers(records, ports, { requiredPlatformRunId: RUN });
  return { memory, ports, run };
}

const labelEvents = (timeline: { timeline_event_type: string }[]) =>
  timeline.map((e) => e.timeline_event_type).filter((t) => t.startsWith('LABEL_'));

describe('label handshake', () => {
  it('a write that throws stays PENDING, is retried on redelivery and by the task, and is rejected after 3 attempts', async () => {
    const writer = scriptedWriter(['THROW', 'THROW', 'THROW']);
    const { memory, ports, run } = harness(writer.writer);
    const trigger = triggerPayload('evt-1');
    const record = caseRecord(triggerEnvelope(trigger));

    const first = await run([record]);
    expect(first.labels).toMatchObject({ pending: 1, exceptions: 1, accepted: 0 });
    const emission = [...memory.tables.emissions.values()][0];
    expect(emission).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      last_error: 'LS_WRITE_EXCEPTION:OPS_DB_UNAVAILABLE',
    });
    let view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING']);
    expect(view?.case.label_status).toBe('PENDING');

    // The next delivery of the trigger finds its label pending and writes it again.
    const redelivered = await run([record]);
    expect(redelivered.records[0]?.disposition).toBe('DUPLICATE_TRIGGER');
    expect(redelivered.labels).toMatchObject({ pending: 1, exceptions: 1 });
    expect(emission?.attempts).toBe(2);

    // The retry task: the third attempt throws too ⇒ REJECTED RETRY_LIMIT_EXCEEDED.
    const retried = await retryPendingLabels(ports, RUN, 100);
    expect(retried).toMatchObject({ written: 1, rejected: 1, pending: 0, exceptions: 1 });
    expect(emission).toMatchObject({
      status: 'REJECTED',
      attempts: 3,
      reason_code: 'RETRY_LIMIT_EXCEEDED',
      last_error: 'LS_WRITE_EXCEPTION:OPS_DB_UNAVAILABLE',
    });
    view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING', 'LABEL_REJECTED']);
    expect(view?.timeline.at(-1)?.payload).toMatchObject({
      reason_code: 'RETRY_LIMIT_EXCEEDED',
      detail: 'LS_WRITE_EXCEPTION:OPS_DB_UNAVAILABLE',
    });
    expect(view?.case.label_status).toBe('REJECTED');

    // Every attempt was the same assertion; nothing is pending any more.
    expect(new Set(writer.inputs.map((input) => labelAssertionId(input))).size).toBe(1);
    expect(writer.inputs).toHaveLength(3);
    expect(await retryPendingLabels(ports, RUN, 100)).toMatchObject({ written: 0 });
    expect(await ports.store.counts(RUN)).toMatchObject({
      labels_pending: 0,
      labels_rejected: 1,
      labels_accepted: 0,
      label_write_exceptions: 3,
    });
  });

  it('a write that throws once is accepted on the next attempt: LABEL_ACCEPTED, one label', async () => {
    const writer = scriptedWriter(['THROW', 'ACCEPT']);
    const { ports, run } = harness(writer.writer);
    const trigger = triggerPayload('evt-1');
    await run([caseRecord(triggerEnvelope(trigger))]);
    expect(caseManagementHealth(await ports.store.counts(RUN)).labels_pending).toBe(1);
    expect(await retryPendingLabels(ports, RUN, 100)).toMatchObject({ written: 1, accepted: 1 });
    const view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING', 'LABEL_ACCEPTED']);
    expect(await ports.store.counts(RUN)).toMatchObject({ labels_pending: 0, labels_accepted: 1 });
  });

  it('REJECTED by the label store ⇒ LABEL_REJECTED with its reason, and never written again', async () => {
    const writer = scriptedWriter(['REJECT']);
    const { memory, ports, run } = harness(writer.writer);
    const trigger = triggerPayload('evt-1');
    await run([caseRecord(triggerEnvelope(trigger))]);
    const view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING', 'LABEL_REJECTED']);
    expect(view?.timeline.at(-1)?.payload).toMatchObject({ reason_code: 'MISSING_EVIDENCE_REFS' });
    expect([...memory.tables.emissions.values()][0]).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MISSING_EVIDENCE_REFS',
      attempts: 1,
    });
    expect(await retryPendingLabels(ports, RUN, 100)).toMatchObject({ written: 0 });
    expect(writer.inputs).toHaveLength(1);
  });

  it('an answer that is not a write result counts as an exception (the label stays PENDING)', async () => {
    const writer: LabelWriter = { write: async () => ({ status: 'MAYBE' }) as unknown as LabelWriteResult };
    const { memory, run } = harness(writer);
    await run([caseRecord(triggerEnvelope(triggerPayload('evt-1')))]);
    const emission = [...memory.tables.emissions.values()][0];
    expect(emission?.status).toBe('PENDING');
    expect(emission?.last_error).toMatch(/^LS_WRITE_EXCEPTION:ANSWER_INVALID /);
  });

  it('CM says nothing is accepted while the label store has not answered', async () => {
    let answer: (result: LabelWriteResult) => void = () => undefined;
    let called: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => {
      called = resolve;
    });
    const writer: LabelWriter = {
      write: () =>
        new Promise((resolve) => {
          answer = resolve;
          called();
        }),
    };
    const { ports, run } = harness(writer);
    const trigger = triggerPayload('evt-1');
    const intake = run([caseRecord(triggerEnvelope(trigger))]);
    await asked;
    let view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING']);
    expect(view?.case.label_status).toBe('PENDING');
    answer({ status: 'ACCEPTED', reason_code: 'ASSERTION_COMMITTED_NEW' });
    await intake;
    view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING', 'LABEL_ACCEPTED']);
  });

  it('writeMany that throws: each label written alone, only the one that throws stays PENDING', async () => {
    const inputs: LabelAssertionInput[] = [];
    const writer: LabelWriter = {
      writeMany: async () => {
        throw new Error('batch refused');
      },
      write: async (input) => {
        inputs.push(input);
        if (input.label_subject_key.event_id === 'evt-2') throw new PlatformError('LS_DOWN', 'down');
        return { status: 'ACCEPTED', reason_code: 'ASSERTION_COMMITTED_NEW' };
      },
    };
    const { memory, run } = harness(writer);
    const answer = await run(
      ['evt-1', 'evt-2', 'evt-3'].map((e) => caseRecord(triggerEnvelope(triggerPayload(e)))),
    );
    expect(answer.labels).toMatchObject({ accepted: 2, pending: 1, exceptions: 1 });
    expect(inputs.map((i) => i.label_subject_key.event_id)).toEqual(['evt-1', 'evt-2', 'evt-3']);
    expect(
      [...memory.tables.emissions.values()].map((e) => [
        e.input.label_subject_key.event_id,
        e.status,
        e.last_error,
      ]),
    ).toEqual([
      ['evt-1', 'ACCEPTED', null],
      ['evt-2', 'PENDING', 'LS_WRITE_EXCEPTION:LS_DOWN'],
      ['evt-3', 'ACCEPTED', null],
    ]);
  });

  it('two retries of one pending label at once: one settles it, the other is superseded', async () => {
    const writer = scriptedWriter(['THROW']);
    const { ports, run } = harness(writer.writer);
    const trigger = triggerPayload('evt-1');
    await run([caseRecord(triggerEnvelope(trigger))]);
    const [a, b] = await Promise.all([
      retryPendingLabels(ports, RUN, 10),
      retryPendingLabels(ports, RUN, 10),
    ]);
    expect([a.accepted + b.accepted, a.superseded + b.superseded]).toEqual([1, 1]);
    const view = await ports.store.caseView(trigger.case_id);
    expect(labelEvents(view?.timeline ?? [])).toEqual(['LABEL_PENDING', 'LABEL_ACCEPTED']);
  });

  it('pending labels raise health: AMBER at 10, RED at 50', async () => {
    const writer = scriptedWriter(Array(50).fill('THROW'));
    const { ports, run } = harness(writer.writer);
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => caseRecord(triggerEnvelope(triggerPayload(`evt-${from + i}`))));
    await run(batch(0, 9));
    expect(caseManagementHealth(await ports.store.counts(RUN)).health_state).toBe('GREEN');
    await run(batch(9, 1));
    expect(caseManagementHealth(await ports.store.counts(RUN))).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['PENDING_LABELS_AMBER'],
    });
    await run(batch(10, 40));
    expect(caseManagementHealth(await ports.store.counts(RUN))).toMatchObject({
      health_state: 'RED',
      health_reasons: ['PENDING_LABELS_RED'],
      labels_pending: 50,
    });
  });

  it('names a write exception by its reason code, else its name', () => {
    expect(writeExceptionOf(new PlatformError('OPS_DB_UNAVAILABLE', 'x'))).toBe(
      'LS_WRITE_EXCEPTION:OPS_DB_UNAVAILABLE',
    );
    expect(writeExceptionOf(new TypeError('x'))).toBe('LS_WRITE_EXCEPTION:TypeError');
    expect(writeExceptionOf('a string')).toBe('LS_WRITE_EXCEPTION:UNKNOWN');
    expect(writeExceptionOf({ code: 'has spaces in it', name: 'RangeError' })).toBe(
      'LS_WRITE_EXCEPTION:RangeError',
    );
  });
});
