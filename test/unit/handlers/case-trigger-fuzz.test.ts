import './handler-environment.ts';
import './silent-logs.ts';
import type { Context, KinesisStreamBatchResponse } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/case-trigger/case-trigger.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { RECORD_LANES } from '../../../lib/case-trigger/observability.ts';
import type {
  CaseTriggerPorts,
  CaseTriggerPublisher,
  CaseTriggerStore,
} from '../../../lib/case-trigger/ports.ts';
import { SETTLED_PUBLISH_DECISIONS } from '../../../lib/contracts/action-layer.ts';
import { type CaseTriggerPayload, caseTriggerIdentityFault } from '../../../lib/contracts/case-trigger.ts';
import { memoryStore, steppingClock } from '../case-trigger/factories.ts';
import {
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  OTHER_RUN,
  outcomeEnvelope,
  pinsOf,
  RUN,
} from '../decision-log/fixtures.ts';
import { jsonText } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { busEvent, NO_ACTIVE_RUN, TOPICS } from './projector-fuzz.ts';
import { tally } from './projector-fuzz-accounting.ts';
import { changedEnvelope, deliveries, laneCase, offsetsOf } from './rtdl-fuzz-inputs.ts';

/**
 * Fuzz: no record crashes the case trigger or vanishes. Its real bus edge and core (functions/case-trigger) run on
 * in-memory ports (test/unit/case-trigger/factories.ts: the store, each call its own statement as on Postgres; an IG
 * that is up, down, answers garbled or mixed decisions; Postgres going down after a number of calls) and get random
 * batches of the rtdl topic: decisions (ALLOW or not) and outcomes (EXECUTED, FAILED, DENIED) of a few source events,
 * of the run and of another, re-decided at another time (another payload under the same trigger id), intents, other
 * schema versions, changed envelopes, other text and bytes, repeats and redeliveries. The contract: without an outage,
 * every record lands in exactly one record lane; a batch is answered whole (no failure) or failed whole — only when a
 * publish did not settle or the store went down — and never with a non-retryable error; once IG and Postgres are
 * back and the failed batches are retried, every trigger on the ledger is settled at IG, no settled trigger was ever
 * sent again, every envelope sent is of the run in scope with ids and hash a reader re-derives, and an outcome still
 * parked has no known decision.
 */

vi.hoisted(() => {
  process.env.CASE_TRIGGER_IG_API_KEY = 'handler-test-key';
  // The product's default, whatever the process was started with (npm test's integration setup sets every_decision).
  process.env.CASE_TRIGGER_ESCALATE = 'non_allow';
});
delete process.env.AWS_LAMBDA_LOG_LEVEL;

type IgMode = 'up' | 'down' | 'garbled' | 'mixed';
const world = vi.hoisted(() => ({ run: '', ports: undefined as unknown as CaseTriggerPorts }));

vi.mock('../../../lib/adapters/case-trigger-dependencies.ts', async (original) => ({
  ...(await original<object>()),
  caseTriggerDependencies: () => ({
    portsFor: async () => ({ platformRunId: world.run, ports: world.ports }),
    busOptions: (service: string) => ({ service, streamPrefix: '' }),
  }),
}));

const context = lambdaContext();
const answer = async (e: unknown) =>
  (await (handler as (event: unknown, ctx: Context) => Promise<unknown>)(
    e,
    context,
  )) as KinesisStreamBatchResponse;

/** An IG whose calls answer as `script` says, then up; `mixed` answers per envelope from `decisions`, cycled. */
function scriptedIg(script: IgMode[], decisions: string[]) {
  const calls: { mode: IgMode; triggers: CaseTriggerPayload[] }[] = [];
  const publisher: CaseTriggerPublisher = {
    async publish(envelopes) {
      const mode = script.shift() ?? 'up';
      calls.push({ mode, triggers: envelopes.map((e) => e.payload) });
      if (mode === 'down') throw new Error('IG_PUBLISH_AMBIGUOUS: timeout');
      if (mode === 'garbled') return envelopes.slice(1).map(() => ({ decision: 'ADMIT' }));
      return envelopes.map((_, i) => ({
        decision: mode === 'up' ? 'ADMIT' : decisions[i % decisions.length],
      }));
    },
  };
  return { publisher, calls, script };
}

/** The store, down (every call throws DatabaseUnavailable) after `after` calls while `down.on`. */
function flakyStore(
  store: CaseTriggerStore,
  down: { on: boolean; after: number; calls: number },
): CaseTriggerStore {
  return Object.fromEntries(
    Object.entries(store).map(([name, call]) => [
      name,
      async (...args: unknown[]) => {
        if (down.on && down.calls++ >= down.after)
          throw new DatabaseUnavailable(
            Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          );
        return (call as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    ]),
  ) as unknown as CaseTriggerStore;
}

const SOURCES = ['ct-0', 'ct-1', 'ct-2'];
const source = fc.constantFrom(...SOURCES);
const run = fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN);
/** Decided or completed at second 1–2: the same trigger id with another payload hash now and then. */
const second = fc.constantFrom(1, 1, 1, 2);
const decision = fc
  .record({ source, run, second, kind: fc.constantFrom('ALLOW', 'ALLOW', 'STEP_UP', 'DECLINE') })
  .map(
    (d) =>
      decisionEnvelope(decisionIdOf(d.source), {
        pins: pinsOf(d.run),
        actionKind: d.kind,
        second: d.second,
      }) as Record<string, unknown>,
  );
const outcome = fc
  .record({
    source,
    run,
    second,
    status: fc.constantFrom<'EXECUTED' | 'FAILED' | 'DENIED'>('EXECUTED', 'FAILED', 'DENIED'),
  })
  .map(
    (o) =>
      outcomeEnvelope(decisionIdOf(o.source), {
        pins: pinsOf(o.run),
        status: o.status,
        second: o.second + 2,
      }) as Record<string, unknown>,
  );
const otherEvent = fc.oneof(
  source.map((s) => intentEnvelope(decisionIdOf(s)) as Record<string, unknown>),
  decision.map((e) => ({ ...e, schema_version: 'v2' })),
);
const envelopes = fc.oneof(
  { weight: 3, arbitrary: decision },
  { weight: 3, arbitrary: outcome },
  { weight: 1, arbitrary: otherEvent },
);
const changed = changedEnvelope(fc.oneof(decision, outcome), {
  envelope: Object.keys(decisionEnvelope(decisionIdOf('x'))),
  payload: [
    ...Object.keys(decisionEnvelope(decisionIdOf('x')).payload),
    'status',
    'decision_id',
    'outcome_id',
  ],
});

const laned = (counters: Record<string, number>) =>
  RECORD_LANES.reduce((n, lane) => n + (counters[lane] ?? 0), 0);

describe('case-trigger (bus edge) under fuzz', () => {
  it('every record lands in one lane or the batch fails whole; every trigger ends settled, sent once settled', {
    timeout: Math.max(30_000, RUNS * 100),
  }, async () => {
    const seen = tally();
    await fc.assert(
      fc.asyncProperty(
        fc.array(laneCase(envelopes, changed), { minLength: 1, maxLength: 3 }),
        fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN, NO_ACTIVE_RUN),
        fc.array(fc.constantFrom<IgMode>('up', 'up', 'down', 'garbled', 'mixed'), { maxLength: 3 }),
        fc.array(fc.constantFrom('ADMIT', 'DUPLICATE', 'QUARANTINE', 'MAYBE'), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat({ max: 12 }), { freq: 3 }),
        async (cases, scope, igScript, decisions, outageAfter) => {
          const memory = memoryStore();
          const ig = scriptedIg([...igScript], decisions);
          const down = { on: outageAfter !== null, after: outageAfter ?? 0, calls: 0 };
          world.run = scope;
          world.ports = {
            store: flakyStore(memory.store, down),
            publisher: ig.publisher,
            clock: steppingClock(),
          };
          const where = `run ${scope}, IG ${igScript.join('/')} (${decisions.join('/')}), outage after ${outageAfter}`;
          const settled = new Set<string>();
          const failed = [];
          const deliver = async (e: Parameters<typeof answer>[0]) => {
            const callsBefore = ig.calls.length;
            const result = await answer(e);
            const sent = ig.calls.slice(callsBefore).flatMap((c) => c.triggers);
            for (const t of sent) expect(settled.has(t.case_trigger_id), `${where}: resent`).toBe(false);
            for (const [id, p] of memory.publishes)
              if (SETTLED_PUBLISH_DECISIONS.has(p.decision)) settled.add(id);
            return result;
          };
          for (const e of cases.flatMap(deliveries)) {
            const offsets = offsetsOf(e);
            const before = laned(memory.counters);
            const { batchItemFailures } = await deliver(e);
            seen.add('records', offsets.length);
            // Once a store call has failed, every later one fails until Postgres is back.
            const outage = down.on && down.calls > down.after;
            if (batchItemFailures.length > 0) {
              seen.add('failedBatches');
              expect(
                batchItemFailures.map((f) => f.itemIdentifier),
                where,
              ).toEqual(offsets);
              failed.push(e);
            }
            if (!outage) {
              // No outage: each record of the delivery landed in one lane, and a failure means an unsettled publish.
              expect(laned(memory.counters) - before, where).toBe(offsets.length);
              if (batchItemFailures.length > 0)
                expect(
                  [...memory.publishes.values()].some((p) => p.decision === 'AMBIGUOUS'),
                  where,
                ).toBe(true);
            } else seen.add('outages');
          }
          // IG and Postgres are back; the mapping retries each failed batch.
          ig.script.length = 0;
          down.on = false;
          for (const e of failed) expect(await deliver(e), where).toEqual({ batchItemFailures: [] });

          for (const [id, row] of memory.ledger) {
            const decision = memory.publishes.get(id)?.decision;
            expect(SETTLED_PUBLISH_DECISIONS.has(decision as never), `${where}: ${id} ${decision}`).toBe(
              true,
            );
            const trigger = memory.trigger(id) as CaseTriggerPayload;
            expect(trigger.payload_hash).toBe(row.payload_hash);
            seen.add(`type|${trigger.trigger_type}`);
          }
          for (const call of ig.calls)
            for (const t of call.triggers) {
              expect(t.pins.platform_run_id, where).toBe(scope);
              expect(caseTriggerIdentityFault(t), where).toBeUndefined();
            }
          for (const [outcomeId, w] of memory.waiting)
            if (w.raised === undefined)
              expect(memory.sources.has(w.decision_id), `${where}: ${outcomeId}`).toBe(false);
            else seen.add(`raised|${w.raised.disposition}`);
          for (const [name, n] of Object.entries(memory.counters)) seen.add(name, n);
        },
      ),
      fuzzParameters(RUNS),
    );
    expect(seen.counts.records).toBeGreaterThanOrEqual(RUNS);
    const reached = [
      'failedBatches',
      'outages',
      ...RECORD_LANES,
      'triggers_seen',
      'published',
      'duplicates',
      'quarantine',
      'publish_ambiguous',
      'payload_mismatch',
      'republished',
      'outcomes_released',
      'type|DECISION_ESCALATION',
      'type|ACTION_FAILURE',
      'raised|PUBLISHED',
    ];
    for (const what of reached) expect(seen.counts[what] ?? 0, what).toBeGreaterThan(5);
  });
});

describe('case-trigger: an event that is not a Kinesis batch', () => {
  it('is a ParseError; nothing is recorded, published or counted', async () => {
    const valid = busEvent(
      TOPICS.rtdl,
      0,
      [Buffer.from(jsonText(decisionEnvelope(decisionIdOf('s')))).toString('base64')],
      49_000n,
    );
    const shell = valid.Records[0] as unknown as Record<string, unknown>;
    const broken: unknown[] = [
      null,
      {},
      { Records: {} },
      { Records: [null] },
      ...Object.keys(shell).map((k) => ({ Records: [{ ...shell, [k]: undefined }] })),
    ];
    const memory = memoryStore();
    const ig = scriptedIg([], ['ADMIT']);
    world.run = RUN;
    world.ports = { store: memory.store, publisher: ig.publisher, clock: steppingClock() };
    for (const input of broken) {
      await expect(answer(input), JSON.stringify(input)).rejects.toMatchObject({ name: 'ParseError' });
      expect([memory.sources.size, memory.ledger.size, ig.calls.length]).toEqual([0, 0, 0]);
      expect(memory.counters).toEqual({});
    }
    // The same record whole is taken in: the shell above is a valid batch.
    expect(await answer(valid)).toEqual({ batchItemFailures: [] });
    expect(ig.calls.flatMap((c) => c.triggers.map((t) => t.trigger_type))).toEqual(['DECISION_ESCALATION']);
  });
});
