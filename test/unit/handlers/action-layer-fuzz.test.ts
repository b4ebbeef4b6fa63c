import './handler-environment.ts';
import './silent-logs.ts';
import type { Context, KinesisStreamBatchResponse } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/action-layer/action-layer.ts';
import { faultInjectingExecutor } from '../../../lib/action-layer/executor.ts';
import type { ActionLayerPorts, OutcomePublisher } from '../../../lib/action-layer/ports.ts';
import {
  type ActionOutcomePayload,
  SETTLED_PUBLISH_DECISIONS,
  semanticKey,
} from '../../../lib/contracts/action-layer.ts';
import { DECISION_FABRIC_ACTOR } from '../../../lib/contracts/decision-lane.ts';
import {
  intentEnvelope,
  intentPayload,
  memoryStore,
  PINS,
  RUN,
  recordingSleeper,
  steppingClock,
} from '../action-layer/factories.ts';
import { decisionEnvelope, decisionIdOf, outcomeEnvelope } from '../decision-log/fixtures.ts';
import { jsonText } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { busEvent, NO_ACTIVE_RUN, OTHER_RUN, TOPICS } from './projector-fuzz.ts';
import { tally } from './projector-fuzz-accounting.ts';
import { changedEnvelope, deliveries, laneCase, offsetsOf } from './rtdl-fuzz-inputs.ts';

/**
 * Fuzz: no record crashes the action layer or vanishes. Its real bus edge and core (functions/action-layer) run on
 * in-memory ports (test/unit/action-layer/factories.ts: the ledger and outcome store; the fault-injecting executor,
 * which keeps every attempt; an IG that is up, down, answers garbled or mixed decisions) and get random batches of the
 * rtdl topic: intents of the run and of others, the same idempotency key with another hash, intents the policy
 * denies, other event types, changed envelopes, other text and bytes, repeats and redeliveries. The contract: every
 * record lands in exactly one of the core's lanes, or — when IG leaves an outcome AMBIGUOUS — the whole batch is
 * reported failed; no intent is executed twice, whatever the redeliveries; once IG is back and the mapping has
 * retried the failed batches, every intent has exactly one outcome, published (a settled IG decision).
 */

vi.hoisted(() => {
  process.env.ACTION_LAYER_IG_API_KEY = 'handler-test-key';
});
delete process.env.AWS_LAMBDA_LOG_LEVEL;

type IgMode = 'up' | 'down' | 'garbled' | 'mixed';
const world = vi.hoisted(() => ({
  run: '',
  ports: undefined as unknown as ActionLayerPorts,
  setAside: [] as string[],
}));

vi.mock('../../../lib/adapters/action-layer-dependencies.ts', async (original) => ({
  ...(await original<object>()),
  actionLayerDependencies: () => ({
    portsFor: async () => ({ platformRunId: world.run, ports: world.ports }),
    busOptions: (service: string) => ({
      service,
      streamPrefix: '',
      onPoison: async (record: { offset: string }) => {
        world.setAside.push(record.offset);
      },
    }),
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
  const calls: { mode: IgMode; outcomes: ActionOutcomePayload[] }[] = [];
  const publisher: OutcomePublisher = {
    async publish(envelopes) {
      const mode = script.shift() ?? 'up';
      calls.push({ mode, outcomes: envelopes.map((e) => e.payload) });
      if (mode === 'down') throw new Error('IG_PUSH_RETRY_EXHAUSTED:timeout');
      if (mode === 'garbled') return envelopes.slice(1).map(() => ({ decision: 'ADMIT' }));
      return envelopes.map((e, i) => ({
        decision: mode === 'up' ? 'ADMIT' : decisions[i % decisions.length],
        receipt_ref: `s3://platform/receipts/${e.event_id}.json`,
      }));
    },
  };
  return { publisher, calls, script };
}

const SOURCES = ['src-0', 'src-1'];
/** Intents DF would send (allowed kinds, its actor) and a few the policy denies; of this run mostly. */
const intent = fc
  .record({
    source: fc.constantFrom(...SOURCES),
    kind: fc.constantFrom('STEP_UP', 'STEP_UP', 'QUEUE_REVIEW', 'WIRE_FUNDS'),
    run: fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN),
    // The same idempotency key with another intent (another hash).
    redigested: fc.constantFrom(false, false, true),
    actor: fc.constantFrom(
      DECISION_FABRIC_ACTOR,
      DECISION_FABRIC_ACTOR,
      DECISION_FABRIC_ACTOR,
      'HUMAN::mallory',
    ),
  })
  .map(({ source, kind, run, redigested, actor }) =>
    intentEnvelope(
      intentPayload(source, {
        pins: { ...PINS, platform_run_id: run },
        action_kind: kind,
        actor_principal: actor,
        ...(redigested ? { run_config_digest: 'e'.repeat(64) } : {}),
      }),
    ),
  );
/** The rtdl topic's other events: decisions, outcomes, an intent of a schema version the layer does not take. */
const otherEvent = fc.oneof(
  fc.constantFrom(...SOURCES).map((s) => decisionEnvelope(decisionIdOf(s)) as Record<string, unknown>),
  fc.constantFrom(...SOURCES).map((s) => outcomeEnvelope(decisionIdOf(s)) as Record<string, unknown>),
  intent.map((e) => ({ ...e, schema_version: 'v2' })),
);
const envelopes = fc.oneof({ weight: 6, arbitrary: intent }, { weight: 1, arbitrary: otherEvent });
const changed = changedEnvelope(intent, {
  envelope: Object.keys(intentEnvelope(intentPayload('x'))),
  payload: Object.keys(intentPayload('x')),
});

/** The core's lanes: every record of a delivery lands in exactly one (no store outage here, so no resumed claim). */
const LANES = [
  'irrelevant_total',
  'invalid_total',
  'run_scope_skipped_total',
  'duplicate_dropped_total',
  'semantic_mismatch_total',
  'outcome_hash_mismatch_total',
  'republished_total',
  'outcome_executed_total',
  'outcome_denied_total',
  'outcome_failed_total',
];
const laned = (counters: Record<string, number>) => LANES.reduce((n, lane) => n + (counters[lane] ?? 0), 0);
const FAULTS = ['RETRYABLE_ERROR', 'PERMANENT_ERROR', 'UNKNOWN_COMMIT'] as const;

describe('action-layer (bus edge) under fuzz', () => {
  it('every record lands in one lane or IG fails the whole batch; each intent runs once and ends published', {
    timeout: Math.max(30_000, RUNS * 100),
  }, async () => {
    const seen = tally();
    await fc.assert(
      fc.asyncProperty(
        laneCase(envelopes, changed),
        fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN, NO_ACTIVE_RUN),
        fc.array(fc.constantFrom<IgMode>('up', 'up', 'down', 'garbled', 'mixed'), { maxLength: 3 }),
        fc.array(fc.constantFrom('ADMIT', 'DUPLICATE', 'QUARANTINE', 'MAYBE'), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.dictionary(
          fc.constantFrom('STEP_UP', 'QUEUE_REVIEW'),
          fc.array(fc.constantFrom(...FAULTS), { maxLength: 4 }),
        ),
        async (c, run, igScript, decisions, faults) => {
          const memory = memoryStore();
          const executor = faultInjectingExecutor(faults);
          const ig = scriptedIg([...igScript], decisions);
          const ports = {
            store: memory.store,
            executor,
            publisher: ig.publisher,
            clock: steppingClock(),
            sleeper: recordingSleeper(),
          };
          Object.assign(world, { run, ports, setAside: [] });
          const where = `run ${run}, IG ${igScript.join('/')} (${decisions.join('/')}), faults ${jsonText(faults)}`;
          const failed = [];
          for (const e of deliveries(c)) {
            const offsets = offsetsOf(e);
            const [before, callsBefore] = [laned(memory.counters), ig.calls.length];
            const { batchItemFailures } = await answer(e);
            seen.add('records', offsets.length);
            // Whatever the answer, each record of the delivery landed in one lane.
            expect(laned(memory.counters) - before, where).toBe(offsets.length);
            // At most one publish per batch; the outcomes it carried that IG left unsettled fail the batch.
            const calls = ig.calls.slice(callsBefore);
            expect(calls.length, where).toBeLessThanOrEqual(1);
            const unsettled = calls
              .flatMap((call) => call.outcomes)
              .filter((o) => memory.publishes.get(o.outcome_id)?.decision === 'AMBIGUOUS');
            if (unsettled.length === 0) expect(batchItemFailures, where).toEqual([]);
            else {
              seen.add('failedBatches');
              expect(calls[0]?.mode, where).not.toBe('up');
              expect(
                batchItemFailures.map((f) => f.itemIdentifier),
                where,
              ).toEqual(offsets);
              failed.push(e);
            }
          }
          // IG is back; the mapping retries each failed batch, which republishes and executes nothing again.
          ig.script.length = 0;
          for (const e of failed) expect(await answer(e), where).toEqual({ batchItemFailures: [] });
          expect(world.setAside).toEqual([]);

          // Each intent ran once: per idempotency token, attempts 1..n of one execution.
          const attempts = new Map<string, number[]>();
          for (const r of executor.requests)
            attempts.set(r.idempotency_token, [...(attempts.get(r.idempotency_token) ?? []), r.attempt_seq]);
          for (const [token, seqs] of attempts)
            expect(seqs, `${where}: ${token}`).toEqual(seqs.map((_, i) => i + 1));
          // Each claimed intent has one outcome, settled at IG; it ran unless denied; it is of the batch's run.
          const executed = new Set<string>();
          const publishedOf = new Map<string, Set<string>>();
          for (const call of ig.calls)
            for (const o of call.outcomes) {
              const key = semanticKey(o.pins, o.idempotency_key);
              publishedOf.set(key, (publishedOf.get(key) ?? new Set()).add(o.outcome_id));
            }
          for (const [key, row] of memory.ledger) {
            const semantic = key.split('|')[2] as string;
            expect(key.startsWith(`${run}|`), `${where}: ${key}`).toBe(true);
            expect(row.outcome_id, key).not.toBeNull();
            const outcome = memory.outcome(row.outcome_id as string);
            expect(outcome, key).toBeDefined();
            expect([...(publishedOf.get(semantic) ?? [])], key).toEqual([row.outcome_id]);
            const decision = memory.publishes.get(row.outcome_id as string)?.decision;
            expect(SETTLED_PUBLISH_DECISIONS.has(decision as never), `${key}: ${decision}`).toBe(true);
            if (outcome?.status !== 'DENIED') executed.add(semantic);
            seen.add(`status|${outcome?.status}`);
          }
          expect([...attempts.keys()].sort(), where).toEqual([...executed].sort());
          expect(memory.outcomes.size, where).toBe(memory.ledger.size);
          for (const [name, n] of Object.entries(memory.counters)) seen.add(name, n);
        },
      ),
      fuzzParameters(RUNS),
    );
    expect(seen.counts.records).toBeGreaterThanOrEqual(RUNS);
    const reached = [
      'failedBatches',
      ...LANES.filter((lane) => lane !== 'outcome_hash_mismatch_total'),
      'execution_retries_total',
      'unknown_commit_total',
      'publish_admit_total',
      'publish_duplicate_total',
      'publish_quarantine_total',
      'publish_ambiguous_total',
      'status|EXECUTED',
      'status|DENIED',
      'status|FAILED',
    ];
    for (const what of reached) expect(seen.counts[what] ?? 0, what).toBeGreaterThan(5);
  });
});

describe('action-layer: an event that is not a Kinesis batch', () => {
  it('is a ParseError; nothing is claimed, executed, published or counted', async () => {
    const valid = busEvent(
      TOPICS.rtdl,
      0,
      [Buffer.from(jsonText(intentEnvelope(intentPayload('s')))).toString('base64')],
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
    for (const input of broken) {
      const memory = memoryStore();
      const executor = faultInjectingExecutor({});
      const ig = scriptedIg([], ['ADMIT']);
      const ports = {
        store: memory.store,
        executor,
        publisher: ig.publisher,
        clock: steppingClock(),
        sleeper: recordingSleeper(),
      };
      Object.assign(world, { run: RUN, ports, setAside: [] });
      await expect(answer(input), JSON.stringify(input)).rejects.toMatchObject({ name: 'ParseError' });
      expect([memory.ledger.size, executor.requests.length, ig.calls.length]).toEqual([0, 0, 0]);
      expect(memory.counters).toEqual({});
    }
    // The same record whole is taken in: the shell above is a valid batch.
    Object.assign(world, { setAside: [] });
    expect(await answer(valid)).toEqual({ batchItemFailures: [] });
  });
});
