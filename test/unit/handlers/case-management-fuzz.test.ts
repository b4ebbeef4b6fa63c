import './handler-environment.ts';
import './silent-logs.ts';
import type { Context, KinesisStreamBatchResponse } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/case-management/case-management.ts';
import * as intake from '../../../lib/case-management/intake.ts';
import type { CaseManagementPorts, LabelWriter } from '../../../lib/case-management/ports.ts';
import type { CaseTriggerPayload } from '../../../lib/contracts/case-trigger.ts';
import {
  type LabelAssertionInput,
  type LabelWriteResult,
  labelAssertionId,
} from '../../../lib/contracts/label-store.ts';
import {
  changedTrigger,
  OTHER_RUN,
  RUN,
  steppingClock,
  triggerEnvelope,
  triggerPayload,
} from '../case-management/factories.ts';
import { memoryCaseStore } from '../case-management/memory-store.ts';
import { jsonText } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { NO_ACTIVE_RUN, type Redelivery, TOPICS } from './projector-fuzz.ts';
import { tally } from './projector-fuzz-accounting.ts';
import {
  base64,
  changedEnvelope,
  deliveries,
  type LaneCase,
  offsetsOf,
  otherData,
} from './rtdl-fuzz-inputs.ts';

/**
 * Fuzz: no record crashes case management or vanishes, and no label is reported accepted that the label store did not
 * accept. The real bus edge and core (functions/case-management) run on the in-memory store and a label writer that
 * accepts, rejects or throws at random, with random batches of the case topic: triggers of the run and of others, the
 * same trigger id with another hash, tampered ids, changed envelopes, other text and bytes, repeats and redeliveries.
 * The contract: every record of a delivery gets exactly one disposition and the batch never fails (no store outage
 * here); each trigger taken in has one case (its trigger_count the triggers taken in), one CASE_TRIGGERED, one
 * LABEL_PENDING and one emission; an ACCEPTED emission was accepted by the writer, a REJECTED one was rejected by it
 * or threw three times; once the writer is back, the retry task leaves nothing PENDING.
 */

delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  run: '',
  ports: undefined as unknown as CaseManagementPorts,
  setAside: [] as string[],
}));

vi.mock('../../../lib/adapters/case-management-dependencies.ts', () => ({
  caseManagementDependencies: () => ({
    portsFor: async () => ({ platformRunId: world.run, ports: world.ports }),
    portsForTask: async () => world.ports,
    busOptions: (service: string) => ({
      service,
      streamPrefix: '',
      onPoison: async (record: { offset: string }) => {
        world.setAside.push(record.offset);
      },
    }),
  }),
}));
vi.mock('../../../lib/case-management/intake.ts', async (original) => {
  const real = await original<typeof import('../../../lib/case-management/intake.ts')>();
  return { ...real, takeInCaseTriggers: vi.fn(real.takeInCaseTriggers) };
});
const core = vi.mocked(intake.takeInCaseTriggers);

const context = lambdaContext();
const answer = async (e: unknown) =>
  (await (handler as (event: unknown, ctx: Context) => Promise<unknown>)(
    e,
    context,
  )) as KinesisStreamBatchResponse;

type Step = 'ACCEPT' | 'REJECT' | 'THROW';

/**
 * A writer answering by `script` (then ACCEPT), keeping the answers case management got per assertion id: a batch
 * (`writeMany`) with a THROW in it throws whole, and its other answers are lost on the way (never seen).
 */
function randomWriter(script: Step[], batch: boolean) {
  const answered = new Map<string, Step[]>();
  const seenBy = (input: LabelAssertionInput, step: Step) => {
    const id = labelAssertionId(input);
    answered.set(id, [...(answered.get(id) ?? []), step]);
  };
  const resultOf = (input: LabelAssertionInput, step: Step): LabelWriteResult => {
    const id = labelAssertionId(input);
    return step === 'ACCEPT'
      ? { status: 'ACCEPTED', reason_code: 'ASSERTION_COMMITTED_NEW', label_assertion_id: id }
      : { status: 'REJECTED', reason_code: 'PAYLOAD_HASH_MISMATCH', label_assertion_id: id };
  };
  const writer: LabelWriter = {
    async write(input) {
      const step = script.shift() ?? 'ACCEPT';
      seenBy(input, step);
      if (step === 'THROW') throw new Error('label store down');
      return resultOf(input, step);
    },
    ...(batch
      ? {
          async writeMany(inputs: readonly LabelAssertionInput[]) {
            const steps = inputs.map(() => script.shift() ?? 'ACCEPT');
            if (steps.includes('THROW')) throw new Error('label store down');
            for (const [i, input] of inputs.entries()) seenBy(input, steps[i] as Step);
            return inputs.map((input, i) => resultOf(input, steps[i] as Step));
          },
        }
      : {}),
  };
  return { writer, answered, script };
}

const SOURCES = ['evt-0', 'evt-1', 'evt-2'];
/** Triggers the case trigger would publish (two kinds on the same cases), of this run mostly; some changed or tampered. */
const trigger = fc
  .record({
    source: fc.constantFrom(...SOURCES),
    type: fc.constantFrom<'DECISION_ESCALATION' | 'ACTION_FAILURE'>('DECISION_ESCALATION', 'ACTION_FAILURE'),
    run: fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN),
    variant: fc.constantFrom('as-published', 'as-published', 'as-published', 'other-hash', 'tampered-id'),
  })
  .map(({ source, type, run, variant }) => {
    const payload = triggerPayload(source, { type, run, ref: `${type}-${source}` });
    if (variant === 'other-hash') return triggerEnvelope(changedTrigger(payload));
    if (variant === 'tampered-id') {
      const tampered: CaseTriggerPayload = { ...payload, case_trigger_id: 'f'.repeat(32) };
      return triggerEnvelope(tampered, { event_id: tampered.case_trigger_id });
    }
    return triggerEnvelope(payload);
  });
const changed = changedEnvelope(trigger, {
  envelope: Object.keys(triggerEnvelope(triggerPayload('x'))),
  payload: Object.keys(triggerPayload('x')),
});

const caseBatch: fc.Arbitrary<LaneCase> = fc.record({
  topic: fc.constant(TOPICS.case),
  shard: fc.nat({ max: 1 }),
  data: fc.array(
    fc.oneof(
      { weight: 8, arbitrary: trigger.map((e) => base64(jsonText(e))) },
      { weight: 2, arbitrary: changed.map((e) => base64(jsonText(e))) },
      { weight: 1, arbitrary: otherData },
    ),
    { minLength: 1, maxLength: 6 },
  ),
  picks: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
  redelivery: fc.constantFrom<Redelivery>('none', 'retry', 'new-offsets', 'changed-data'),
});

const DISPOSITIONS = [
  'NEW_TRIGGER',
  'DUPLICATE_TRIGGER',
  'TRIGGER_PAYLOAD_MISMATCH',
  'QUARANTINED',
  'RUN_SCOPE_SKIPPED',
];

describe('case-management (bus edge) under fuzz', () => {
  it('every record gets one disposition; each new trigger one case link, one label, never accepted unless the writer did', {
    timeout: Math.max(30_000, RUNS * 100),
  }, async () => {
    const seen = tally();
    await fc.assert(
      fc.asyncProperty(
        fc.array(caseBatch, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(RUN, RUN, RUN, OTHER_RUN, NO_ACTIVE_RUN),
        fc.array(fc.constantFrom<Step>('ACCEPT', 'ACCEPT', 'REJECT', 'THROW', 'THROW'), { maxLength: 12 }),
        fc.boolean(),
        async (batches, run, script, batch) => {
          const memory = memoryCaseStore();
          const ls = randomWriter([...script], batch);
          Object.assign(world, {
            run,
            ports: { store: memory.store, labels: ls.writer, clock: steppingClock() },
            setAside: [],
          });
          const where = `run ${run}, writer ${script.join('/')}${batch ? ' (batch)' : ''}`;
          for (const c of batches)
            for (const e of deliveries(c)) {
              core.mockClear();
              expect(await answer(e), where).toEqual({ batchItemFailures: [] });
              const result = await core.mock.results[0]?.value;
              const records = result?.records ?? [];
              expect(
                records.map((r: { offset: string }) => r.offset),
                where,
              ).toEqual(offsetsOf(e));
              for (const r of records) {
                expect(DISPOSITIONS, where).toContain(r.disposition);
                seen.add(r.disposition);
              }
              seen.add('records', records.length);
            }
          expect(world.setAside).toEqual([]);

          const { intake: taken, cases, timeline, emissions } = memory.tables;
          // Only the scope's run is taken in; a trigger taken in has its case, CASE_TRIGGERED, LABEL_PENDING, emission.
          for (const [id, row] of taken) {
            expect(row.platform_run_id, where).toBe(run);
            const rows = [...emissions.values()].filter((e) => e.case_trigger_id === id);
            expect(rows, `${where}: ${id}`).toHaveLength(1);
            const of = (type: string) =>
              timeline.filter((t) => t.timeline_event_type === type && t.source_ref_id === id);
            expect([of('CASE_TRIGGERED').length, of('LABEL_PENDING').length], id).toEqual([1, 1]);
          }
          for (const c of cases.values()) {
            const count = [...emissions.values()].filter((e) => e.case_id === c.case_id).length;
            expect(c.trigger_count, c.case_id).toBe(count);
          }
          // What each emission says, the writer said first.
          const judge = () => {
            for (const e of emissions.values()) {
              const answers = ls.answered.get(e.label_assertion_id) ?? [];
              const answered = timeline.filter(
                (t) => t.source_ref_id === e.label_assertion_id && t.timeline_event_type !== 'LABEL_PENDING',
              );
              seen.add(`status|${e.status}`);
              if (e.status === 'ACCEPTED') expect(answers, where).toContain('ACCEPT');
              if (e.status === 'REJECTED')
                expect(
                  answers.includes('REJECT') || answers.filter((a) => a === 'THROW').length === 3,
                  where,
                ).toBe(true);
              if (e.status === 'PENDING') {
                expect(answers.every((a) => a === 'THROW') && answers.length < 3, where).toBe(true);
                expect(answered, where).toEqual([]);
              } else
                expect(
                  answered.map((t) => t.timeline_event_type),
                  where,
                ).toEqual([e.status === 'ACCEPTED' ? 'LABEL_ACCEPTED' : 'LABEL_REJECTED']);
              if (e.reason_code === 'RETRY_LIMIT_EXCEEDED') seen.add('retryLimit');
            }
          };
          judge();
          // The retry task (the writer still as scripted): a label that keeps throwing is rejected at its third attempt.
          for (let i = 0; i < 2; i++) {
            expect(await answer({ action: 'retry_pending' }), where).toMatchObject({ platform_run_id: run });
            judge();
          }
          // The writer is back: the retry task leaves nothing pending.
          ls.script.length = 0;
          const retried = await answer({ action: 'retry_pending' });
          expect(retried, where).toMatchObject({ platform_run_id: run, pending: 0, exceptions: 0 });
          expect(
            [...emissions.values()].filter((e) => e.status === 'PENDING'),
            where,
          ).toEqual([]);
          judge();
        },
      ),
      fuzzParameters(RUNS),
    );
    for (const what of [
      ...DISPOSITIONS,
      'status|ACCEPTED',
      'status|REJECTED',
      'status|PENDING',
      'retryLimit',
    ])
      expect(seen.counts[what] ?? 0, what).toBeGreaterThan(5);
  });
});

describe('case-management: an event that is neither a Kinesis batch nor a task', () => {
  it('is refused by name; nothing is taken in', async () => {
    const memory = memoryCaseStore();
    Object.assign(world, {
      run: RUN,
      ports: { store: memory.store, labels: randomWriter([], false).writer, clock: steppingClock() },
    });
    for (const input of [
      null,
      {},
      { action: 'report' },
      { action: 'retry_pending', platform_run_id: 'run-1' },
      { Records: [] },
    ])
      await expect(answer(input), JSON.stringify(input)).rejects.toMatchObject({
        name: 'CASE_MANAGEMENT_REQUEST_INVALID',
      });
    expect(memory.calls).toEqual({});
  });
});
