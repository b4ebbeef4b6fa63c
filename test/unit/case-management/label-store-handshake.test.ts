import { describe, expect, it } from 'vitest';
import { takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import type { LabelWriter } from '../../../lib/case-management/ports.ts';
import { labelAssertionId } from '../../../lib/contracts/label-store.ts';
import { writeLabelAssertion, writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { inMemoryLabelStore } from '../label-store/fakes.ts';
import { caseRecord, RUN, steppingClock, triggerEnvelope, triggerPayload } from './factories.ts';
import { memoryCaseStore } from './memory-store.ts';

/**
 * §9 #17 end to end in process: case management's label goes through the label store's real writer (on its in-memory
 * port, as the adapter wires it on Postgres): the label store holds fraud_disposition = FRAUD_SUSPECTED (AUTO) for the
 * case's subject, and a label written again after a lost answer is the label store's REPLAY_MATCH, not a second label.
 */

function labelStoreWriter(store: ReturnType<typeof inMemoryLabelStore>, o: { loseAnswers?: number } = {}) {
  let lose = o.loseAnswers ?? 0;
  const writer: LabelWriter = {
    write: (input) => writeLabelAssertion(store, input),
    async writeMany(inputs) {
      const results = await writeLabelAssertions(store, inputs);
      // The label store committed, but its answer never reached case management.
      if (lose-- > 0) throw new Error('connection reset');
      return results;
    },
  };
  return writer;
}

describe('case management ⇄ label store (in process)', () => {
  it('a new trigger: the label store holds FRAUD_SUSPECTED (AUTO) for the subject, LABEL_ACCEPTED on the case', async () => {
    const ls = inMemoryLabelStore();
    const memory = memoryCaseStore();
    const ports = { store: memory.store, labels: labelStoreWriter(ls), clock: steppingClock() };
    const a = triggerPayload('evt-1');
    const b = triggerPayload('evt-2');
    await takeInCaseTriggers([caseRecord(triggerEnvelope(a)), caseRecord(triggerEnvelope(b))], ports, {
      requiredPlatformRunId: RUN,
    });

    const held = await ls.assertionsOfEvent({ platform_run_id: RUN, event_id: 'evt-1' });
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      label_type: 'fraud_disposition',
      label_value: 'FRAUD_SUSPECTED',
      source_type: 'AUTO',
      actor_id: 'SYSTEM::case_mgmt_worker',
      observed_time: a.observed_time,
      effective_time: a.observed_time,
    });
    const view = await memory.store.caseView(a.case_id);
    const accepted = view?.timeline.find((e) => e.timeline_event_type === 'LABEL_ACCEPTED');
    expect(accepted?.source_ref_id).toBe(held[0]?.label_assertion_id);
    expect(accepted?.payload).toMatchObject({ reason_code: 'ASSERTION_COMMITTED_NEW' });
    expect(ls.calls.claim).toBe(1);
  });

  it('an answer lost after the label store committed: the retry is its REPLAY_MATCH, one assertion', async () => {
    const ls = inMemoryLabelStore();
    const memory = memoryCaseStore();
    const ports = {
      store: memory.store,
      labels: labelStoreWriter(ls, { loseAnswers: 1 }),
      clock: steppingClock(),
    };
    const a = triggerPayload('evt-1');
    const b = triggerPayload('evt-2');
    // writeMany commits and throws; each label is then written alone: the label store answers REPLAY_MATCH.
    await takeInCaseTriggers([caseRecord(triggerEnvelope(a)), caseRecord(triggerEnvelope(b))], ports, {
      requiredPlatformRunId: RUN,
    });
    expect(ls.tables.assertions.size).toBe(2);
    const view = await memory.store.caseView(a.case_id);
    const accepted = view?.timeline.find((e) => e.timeline_event_type === 'LABEL_ACCEPTED');
    expect(accepted?.payload).toMatchObject({ reason_code: 'ASSERTION_REPLAY_MATCH' });
    const input = [...memory.tables.emissions.values()][0]?.input;
    expect(input && ls.tables.assertions.get(labelAssertionId(input))?.replay_count).toBe(1);
  });
});
