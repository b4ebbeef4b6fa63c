import './handler-environment.ts';
import './silent-logs.ts';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/decision-log/decision-log.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { RecordUnstorable } from '../../../lib/adapters/postgres/projector-store.ts';
import { compareOffsets } from '../../../lib/contracts/consumer-checkpoint.ts';
import { auditRecordDigest } from '../../../lib/contracts/decision-log.ts';
import type { DecisionLogPorts } from '../../../lib/decision-log/ports.ts';
import {
  decisionEnvelope,
  decisionIdOf,
  intentEnvelope,
  OTHER_RUN,
  outcomeEnvelope,
  pinsOf,
  RUN,
} from '../decision-log/fixtures.ts';
import { inMemoryDecisionLogStore, memoryAuditSink } from '../decision-log/in-memory-decision-log-store.ts';
import { jsonText } from '../ingestion-gate/fuzz-inputs.ts';
import { lambdaContext } from './factories.ts';
import { fuzzParameters, RUNS } from './fuzz-runs.ts';
import { busEvent, NO_ACTIVE_RUN, TOPICS } from './projector-fuzz.ts';
import { tally } from './projector-fuzz-accounting.ts';
import { base64, changedEnvelope, deliveries, eventFrom, laneCase, offsetsOf } from './rtdl-fuzz-inputs.ts';

/**
 * Fuzz: no record crashes the decision log or vanishes. Its real bus edge and core (functions/decision-log) run on
 * in-memory ports (test/unit/decision-log/in-memory-decision-log-store.ts: the store, one transaction per batch, and
 * the write-once audit sink) and get random batches of the rtdl topic: decisions, intents and outcomes of two
 * decisions, of the run and another, with another payload (hash) or run_config_digest, changed envelopes, other text
 * and bytes, repeats and redeliveries — among them other data at offsets already seen (REPLAY_DIVERGENCE). Ports
 * fail for a while: Postgres down, its writes failing, or the audit sink down. The contract: every record is judged
 * (a candidate, a quarantine row, a run-scope skip: one attempt row each, the checkpoint past it); a
 * REPLAY_DIVERGENCE reports that record and the rest failed, and what came before it is committed; a port outage
 * fails the whole batch, nothing of it committed, and the mapping's retry applies it once — one audit record per
 * resolved chain, appended once.
 */

vi.hoisted(() => {
  process.env.DECISION_LOG_IG_API_KEY = 'handler-test-key';
});
delete process.env.AWS_LAMBDA_LOG_LEVEL;

const world = vi.hoisted(() => ({
  run: '',
  ports: undefined as unknown as DecisionLogPorts,
  setAside: [] as string[],
}));

vi.mock('../../../lib/adapters/decision-log-dependencies.ts', async (original) => ({
  ...(await original<object>()),
  decisionLogDependencies: () => ({
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

type Fault = 'store' | 'write' | 'sink';

/**
 * Ports over the in-memory store and sink: transactions `after`..`after + lasts − 1` (counted from 0) find the
 * fault's port down — Postgres (the transaction and the attempt log), its writes, or the audit sink. `refused`: the
 * store refuses a batch holding a record whose data has this text (RECORD_UNSTORABLE, as Postgres's adapter answers a
 * data exception).
 */
function faultyPorts(fault: { kind: Fault; after?: number; lasts: number; refused?: string }) {
  const memory = inMemoryDecisionLogStore();
  const sink = memoryAuditSink();
  const state = { transactions: 0, hits: 0 };
  const appended = new Map<string, number>();
  const ports: DecisionLogPorts = {
    store: {
      ...memory.store,
      async inTransaction(work) {
        const n = state.transactions++;
        const down = fault.after !== undefined && n >= fault.after && n < fault.after + fault.lasts;
        if (down) state.hits++;
        memory.control.failAttemptLog = down && fault.kind === 'store';
        if (down && fault.kind === 'store')
          throw new DatabaseUnavailable(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
        memory.control.failWrites = down && fault.kind === 'write' ? 1 : 0;
        sink.fail = down && fault.kind === 'sink';
        return memory.store.inTransaction((transaction) =>
          work({
            ...transaction,
            async write(writes) {
              const held = [...writes.quarantines, ...writes.candidates].map((r) => jsonText(r.envelope));
              if (fault.refused && held.some((text) => text.includes(fault.refused as string)))
                throw new RecordUnstorable({ code: '54000', message: 'index row size exceeds maximum' });
              return transaction.write(writes);
            },
          }),
        );
      },
    },
    auditSink: {
      async append(records) {
        await sink.append(records);
        for (const r of records) appended.set(r.audit_id, (appended.get(r.audit_id) ?? 0) + 1);
      },
    },
    now: () => new Date('2026-12-07T10:01:00.000Z'),
  };
  return { ports, memory, sink, state, appended };
}
type World = ReturnType<typeof faultyPorts>;

/** What a batch committed, but its attempt rows (bigints as text). */
const committed = (memory: World['memory']) => {
  const { attempts: _attempts, chains, ...rest } = memory.state;
  return JSON.stringify({ ...rest, chains: [...chains] }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
};

const DECISIONS = ['d0', 'd1'].map(decisionIdOf);
/** The lane's events as DF and AL publish them, of two decisions; now and then of another run, payload or digest. */
const laneEvent = fc
  .record({
    family: fc.constantFrom(decisionEnvelope, intentEnvelope, outcomeEnvelope),
    decision: fc.constantFrom(...DECISIONS),
    run: fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN),
    variant: fc.constantFrom(undefined, undefined, undefined, undefined, 'v2'),
    runConfigDigest: fc.constantFrom(undefined, undefined, 'e'.repeat(64)),
    actionKind: fc.constantFrom('STEP_UP', 'STEP_UP', 'STEP_UP', 'QUEUE_REVIEW'),
  })
  .map(
    ({ family, decision, run, ...options }) =>
      family(decision, { pins: pinsOf(run), ...options }) as Record<string, unknown>,
  );
const changed = changedEnvelope(laneEvent, {
  envelope: Object.keys(decisionEnvelope(DECISIONS[0] as string)),
  payload: [
    ...new Set(
      [decisionEnvelope, intentEnvelope, outcomeEnvelope].flatMap((f) => Object.keys(f('x').payload)),
    ),
  ],
});

/** A batch of the lane's events; in half of them a whole chain of the run first (decision, intent, outcome: any order). */
const dlCase = fc
  .record({
    c: laneCase(laneEvent, changed),
    chain: fc.option(fc.constantFrom(...DECISIONS)),
    order: fc.shuffledSubarray([0, 1, 2], { minLength: 3 }),
  })
  .map(({ c, chain, order }) => {
    if (chain === null) return c;
    const whole = [decisionEnvelope, intentEnvelope, outcomeEnvelope].map((f) => base64(jsonText(f(chain))));
    return { ...c, data: [...whole, ...c.data], picks: [...order, ...c.picks.map((p) => p + 3)] };
  });

type Verdict = { kind: 'ok' } | { kind: 'failed' } | { kind: 'blocked'; at: number };

/**
 * Delivers `e` and checks what became of each record: judged in order up to the one the batch stopped at (one
 * attempt row each, in its lane), the rest reported failed; or the whole batch failed while a port was down, nothing
 * of it committed.
 */
async function deliver(w: World, e: KinesisStreamEvent, seen: ReturnType<typeof tally>): Promise<Verdict> {
  const { memory, state } = w;
  const offsets = offsetsOf(e);
  const [attemptsBefore, committedBefore, hitsBefore] = [
    memory.state.attempts.length,
    committed(memory),
    state.hits,
  ];
  const failures = (await answer(e)).batchItemFailures.map((f) => f.itemIdentifier);
  const attempts = memory.state.attempts.slice(attemptsBefore);
  const where = `${offsets.length} records on ${e.Records[0]?.eventSourceARN}, run ${world.run}`;
  seen.add('records', offsets.length);
  expect(world.setAside, where).toEqual([]);
  if (failures.length === offsets.length && attempts.every((a) => a.reason_code === 'WRITE_FAILED')) {
    expect(state.hits, `${where}: a batch failed with its ports up`).toBeGreaterThan(hitsBefore);
    expect(failures, where).toEqual(offsets);
    expect([0, offsets.length], where).toContain(attempts.length);
    expect(committed(memory), `${where}: a failed batch committed`).toBe(committedBefore);
    seen.add('failedBatches');
    return { kind: 'failed' };
  }
  const at = offsets.length - failures.length;
  expect(failures, where).toEqual(offsets.slice(at));
  const judged = failures.length === 0 ? offsets.length : at + 1;
  expect(
    attempts.map((a) => a.offset),
    where,
  ).toEqual(offsets.slice(0, judged));
  for (const [i, a] of attempts.entries()) {
    const lane = `${a.reason_code}${a.write_status ? `|${a.write_status}` : ''}`;
    seen.add(lane);
    expect(a.checkpoint_advanced, `${where}: ${lane}`).toBe(i !== at);
    const quarantined = memory.state.quarantines.some(
      (q) => q.offset === a.offset && q.partition === a.partition && q.reason_code === a.reason_code,
    );
    if (a.reason_code === 'ACCEPT') {
      expect(a.platform_run_id, where).toBe(world.run);
      const stored = memory.state.candidates.some(
        (c) =>
          c.platform_run_id === a.platform_run_id &&
          c.event_type === a.event_type &&
          c.event_id === a.event_id,
      );
      expect(stored, `${where}: an accepted record has no candidate`).toBe(true);
    } else if (a.reason_code === 'RUN_SCOPE_MISMATCH') expect(a.platform_run_id, where).not.toBe(world.run);
    else expect(quarantined, `${where}: ${lane} has no quarantine row`).toBe(true);
  }
  // The checkpoint of the shard covers every record before the one the batch stopped at.
  const topic = e.Records[0]?.eventSourceARN.split('/').pop();
  const checkpoint = memory.state.checkpoints.find(
    (k) =>
      k.topic === topic &&
      `shardId-${String(k.partition).padStart(12, '0')}` === e.Records[0]?.eventID.split(':')[0],
  );
  if (at > 0)
    expect(
      compareOffsets(checkpoint?.next_offset ?? '0', offsets[at - 1] as string),
      where,
    ).toBeGreaterThanOrEqual(0);
  if (failures.length === 0) return { kind: 'ok' };
  seen.add('blockedBatches');
  return { kind: 'blocked', at };
}

/** Delivers `e` as the mapping does: again while the whole batch fails (the outage ends after a few transactions). */
async function deliverUntilApplied(w: World, e: KinesisStreamEvent, seen: ReturnType<typeof tally>) {
  for (let tries = 0; ; tries++) {
    const verdict = await deliver(w, e, seen);
    if (verdict.kind !== 'failed') return verdict;
    expect(tries, 'the batch still fails once the outage is over').toBeLessThan(4);
  }
}

describe('decision-log (bus edge) under fuzz', () => {
  it('every record is judged or the batch stopped at a divergence; an outage fails it whole, the retry applies it once', {
    timeout: Math.max(30_000, RUNS * 100),
  }, async () => {
    const seen = tally();
    await fc.assert(
      fc.asyncProperty(
        dlCase,
        fc.constantFrom(RUN, RUN, RUN, RUN, OTHER_RUN, NO_ACTIVE_RUN),
        fc.record({
          kind: fc.constantFrom<Fault>('store', 'write', 'sink'),
          after: fc.option(fc.nat({ max: 2 }), { freq: 2 }).map((v) => v ?? undefined),
          lasts: fc.integer({ min: 1, max: 3 }),
        }),
        async (c, run, fault) => {
          const w = faultyPorts(fault);
          Object.assign(world, { run, ports: w.ports, setAside: [] });
          for (const e of deliveries(c)) {
            const verdict = await deliverUntilApplied(w, e, seen);
            if (verdict.kind !== 'blocked') continue;
            // The mapping redelivers from the record it reported: the shard stays there, nothing before it lost.
            const stopped = w.memory.state.quarantines.length;
            expect(await deliverUntilApplied(w, eventFrom(e, verdict.at), seen)).toEqual({
              kind: 'blocked',
              at: 0,
            });
            expect(w.memory.state.quarantines.length, 'one REPLAY_DIVERGENCE row per offset').toBe(stopped);
            break;
          }
          // One audit record per resolved chain, appended once, with the digest the chain holds.
          const chains = [...w.memory.state.chains.values()];
          for (const { chain, audit_record_digest } of chains) {
            const due =
              chain.chain_status === 'RESOLVED' && chain.decision !== null && chain.intents.length > 0;
            if (due) expect(chain.audit_id, `${chain.decision_id}: resolved, not audited`).not.toBeNull();
            if (chain.audit_id === null) continue;
            const record = w.sink.records.get(chain.audit_id);
            expect(record && auditRecordDigest(record)).toBe(audit_record_digest);
            expect(w.appended.get(chain.audit_id), chain.audit_id).toBe(1);
          }
          expect(w.sink.records.size).toBe(chains.filter((x) => x.chain.audit_id !== null).length);
          seen.add('auditRecords', w.sink.records.size);
          if (w.state.hits > 0) seen.add(`outage|${fault.kind}`);
        },
      ),
      fuzzParameters(RUNS),
    );
    expect(seen.counts.records).toBeGreaterThanOrEqual(RUNS);
    const reached = [
      'failedBatches',
      'blockedBatches',
      'auditRecords',
      'outage|store',
      'outage|write',
      'outage|sink',
      'ACCEPT|NEW',
      'ACCEPT|DUPLICATE',
      'RUN_SCOPE_MISMATCH',
      'INVALID_ENVELOPE',
      'NON_AUDIT_TOPIC',
      'MISSING_REQUIRED_PINS',
      'PAYLOAD_CONTRACT_INVALID',
      'PAYLOAD_HASH_MISMATCH',
      'LINEAGE_CONFLICT',
      'REPLAY_DIVERGENCE',
    ];
    for (const what of reached) expect(seen.counts[what] ?? 0, what).toBeGreaterThan(5);
  });
});

describe('decision-log: a record the store refuses, then a divergence, in one batch', () => {
  it('applied one at a time: the refused one set aside, the batch reported failed from the divergent record', async () => {
    const d = DECISIONS[0] as string;
    const w = faultyPorts({ kind: 'store', lasts: 0, refused: 'refuse-me' });
    Object.assign(world, { run: RUN, ports: w.ports, setAside: [] });
    const event = (envelopes: unknown[]) =>
      busEvent(
        TOPICS.rtdl,
        0,
        envelopes.map((v) => base64(jsonText(v))),
        49_000n,
      );
    expect(await answer(event([decisionEnvelope(d), intentEnvelope(d)]))).toEqual({ batchItemFailures: [] });
    const second = event([{ 'refuse-me': true }, intentEnvelope(d, { variant: 'v2' }), outcomeEnvelope(d)]);
    expect(await answer(second)).toEqual({
      batchItemFailures: [{ itemIdentifier: '49001' }, { itemIdentifier: '49002' }],
    });
    expect(world.setAside).toEqual(['49000']);
    expect(w.memory.state.quarantines.map((q) => [q.offset, q.reason_code])).toEqual([
      ['49001', 'REPLAY_DIVERGENCE'],
    ]);
    // The outcome after it was not taken in: the chain waits for the shard to move.
    expect(w.memory.state.candidates.map((c) => c.event_type).sort()).toEqual([
      'action_intent',
      'decision_response',
    ]);
    expect(w.memory.state.checkpoints.map((k) => k.next_offset)).toEqual(['49001']);
  });
});

describe('decision-log: an event that is not a Kinesis batch', () => {
  it('is refused (ParseError, or an invalid task); nothing is written', async () => {
    const valid = busEvent(
      TOPICS.rtdl,
      0,
      [base64(jsonText(decisionEnvelope(DECISIONS[0] as string)))],
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
      const w = faultyPorts({ kind: 'store', lasts: 0 });
      Object.assign(world, { run: RUN, ports: w.ports, setAside: [] });
      await expect(answer(input), JSON.stringify(input)).rejects.toSatisfy((error: Error) =>
        ['ParseError', 'DECISION_LOG_REQUEST_INVALID'].includes(error.name),
      );
      expect(w.state.transactions).toBe(0);
      expect(w.memory.state.attempts).toEqual([]);
    }
  });
});
