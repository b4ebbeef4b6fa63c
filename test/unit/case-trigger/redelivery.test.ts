import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleCaseTriggerBatch } from '../../../lib/case-trigger/intake.ts';
import type { CaseTriggerBusRecord } from '../../../lib/case-trigger/ports.ts';
import { caseId } from '../../../lib/contracts/case-trigger.ts';
import { RUN } from '../decision-log/fixtures.ts';
import {
  admitAll,
  decisionRecord,
  harness,
  igUnavailable,
  outcomeOf,
  outcomeRecord,
  sourceEventOf,
} from './factories.ts';

/**
 * At-least-once delivery in any order, as a property: a few decisions (ALLOW or not) and their outcomes (EXECUTED,
 * FAILED, DENIED) come in batches of any make-up and order — outcomes before their decisions, repeats within and
 * across batches — while IG is up or down. Once IG is back and the failed batches are redelivered, the case topic
 * holds exactly one trigger per non-ALLOW decision and per failed or denied outcome, each on its decision's case, each
 * settled ADMIT; none for ALLOW decisions or EXECUTED outcomes; and no trigger was ever sent again after it settled.
 */

const SOURCES = ['p-0', 'p-1', 'p-2', 'p-3'];
const caseOf = (name: string) =>
  caseId({ platform_run_id: RUN, event_class: 'traffic_fraud', event_id: sourceEventOf(name) });

const world = fc.record({
  kinds: fc.array(fc.constantFrom('ALLOW', 'STEP_UP', 'DECLINE'), { minLength: 4, maxLength: 4 }),
  statuses: fc.array(fc.constantFrom<'EXECUTED' | 'FAILED' | 'DENIED'>('EXECUTED', 'FAILED', 'DENIED'), {
    minLength: 4,
    maxLength: 4,
  }),
  batches: fc.array(
    fc.record({ picks: fc.array(fc.nat({ max: 7 }), { minLength: 1, maxLength: 5 }), igUp: fc.boolean() }),
    { minLength: 1, maxLength: 8 },
  ),
});

describe('redelivery', () => {
  it('one trigger per escalated decision and failed outcome, on its case, settled once', async () => {
    await fc.assert(
      fc.asyncProperty(world, async ({ kinds, statuses, batches }) => {
        const { ig, ports, memory } = harness();
        // Records 0–3 are the decisions, 4–7 their outcomes.
        const records: CaseTriggerBusRecord[] = [
          ...SOURCES.map((s, i) => decisionRecord(s, { actionKind: kinds[i] })),
          ...SOURCES.map((s, i) => outcomeRecord(s, { status: statuses[i] })),
        ];
        const settledBefore = new Set<string>();
        const failed: CaseTriggerBusRecord[][] = [];
        const deliver = async (batch: CaseTriggerBusRecord[]) => {
          const callsBefore = ig.calls.length;
          const answer = await handleCaseTriggerBatch(batch, ports, {
            requiredPlatformRunId: RUN,
            escalate: 'non_allow',
          });
          // Nothing settled earlier is ever sent again.
          for (const e of ig.calls.slice(callsBefore).flat())
            expect(settledBefore.has(e.event_id)).toBe(false);
          for (const p of answer.published)
            if (p.decision !== 'AMBIGUOUS') settledBefore.add(p.case_trigger_id);
          return answer;
        };
        for (const { picks, igUp } of batches) {
          ig.answer(igUp ? admitAll : igUnavailable);
          const batch = picks.map((i) => records[i] as CaseTriggerBusRecord);
          if ((await deliver(batch)).retry) failed.push(batch);
        }
        ig.answer(admitAll);
        for (const batch of failed) expect((await deliver(batch)).retry).toBe(false);

        const delivered = new Set(batches.flatMap((b) => b.picks));
        const expected = new Map<string, string>();
        SOURCES.forEach((s, i) => {
          if (delivered.has(i) && kinds[i] !== 'ALLOW')
            expected.set(`decision:${records[i]?.offset}`, caseOf(s));
          // An outcome is raised once both it and its decision were delivered.
          if (delivered.has(i + 4) && delivered.has(i) && statuses[i] !== 'EXECUTED')
            expected.set(
              `outcome:${outcomeOf(records[i + 4] as CaseTriggerBusRecord).outcome_id}`,
              caseOf(s),
            );
        });
        const onTopic = new Map<string, { case_id: string; type: string }>();
        for (const e of ig.calls.flat())
          onTopic.set(e.event_id, { case_id: e.payload.case_id, type: e.payload.trigger_type });
        expect(onTopic.size).toBe(expected.size);
        expect([...memory.publishes.values()].every((p) => p.decision === 'ADMIT')).toBe(true);
        expect(memory.publishes.size).toBe(expected.size);
        const byCase = [...onTopic.values()].map((t) => `${t.type}|${t.case_id}`).sort();
        const wanted = [...expected.entries()]
          .map(([key, c]) => `${key.startsWith('decision') ? 'DECISION_ESCALATION' : 'ACTION_FAILURE'}|${c}`)
          .sort();
        expect(byCase).toEqual(wanted);
        // An outcome whose decision never came is still waiting, not dropped.
        SOURCES.forEach((_, i) => {
          const outcome = outcomeOf(records[i + 4] as CaseTriggerBusRecord);
          const parked = memory.parked(outcome.outcome_id);
          if (parked && !delivered.has(i)) expect(parked.raised).toBeUndefined();
        });
      }),
      { numRuns: 200, seed: 20261207 },
    );
  });
});
