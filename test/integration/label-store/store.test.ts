import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresLabelStore } from '../../../lib/adapters/label-store-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool, type Pool } from '../../../lib/adapters/postgres/pool.ts';
import {
  type LabelAssertionInput,
  labelAssertionId,
  labelAssertionPayloadHash,
} from '../../../lib/contracts/label-store.ts';
import { labelStoreHealth, labelStoreMetrics } from '../../../lib/label-store/observability.ts';
import { labelAsOf, labelsOfEvent } from '../../../lib/label-store/reads.ts';
import { writeLabelAssertion, writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { LABEL_PINS, labelInput } from '../../unit/label-store/fakes.ts';

/**
 * The Label Store on the shared local cloud's Postgres (migration 0019), one run id per test (downstream.md §9 #18):
 * new ⇒ COMMITTED_NEW; identical ⇒ REPLAY_MATCH with no new timeline row; same id with new content ⇒
 * PAYLOAD_HASH_MISMATCH (a mismatch row, the stored row untouched); no evidence ⇒ MISSING_EVIDENCE_REFS; two writers
 * of the same ids at once ⇒ each id committed once and replayed once; a batch in one claim and one settle; as-of
 * reads, the timeline and the run's metrics from the tables.
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 6 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** A fresh platform_run_id (a random instant of the years 2100–2999), so tests never share rows. */
function runId(): string {
  const d = new Date(Date.UTC(2100, 0, 1) + randomInt(0, 28_000_000_000) * 1000);
  return (
    `platform_${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`
  );
}

/** An input of run `run` (subject and pins), the rest from `labelInput`. */
function inputOf(run: string, overrides: Parameters<typeof labelInput>[0] = {}): LabelAssertionInput {
  const base = labelInput(overrides);
  return {
    ...base,
    label_subject_key: { ...base.label_subject_key, platform_run_id: run },
    pins: { ...base.pins, platform_run_id: run },
  };
}

/** The pool, counting its queries (a batch's round trips). */
function countingPool(): { pool: Pool; queries: () => number } {
  let n = 0;
  const counting = Object.create(pool) as Pool;
  counting.query = ((...args: Parameters<Pool['query']>) => {
    n++;
    return (pool.query as (...a: unknown[]) => unknown)(...args);
  }) as Pool['query'];
  return { pool: counting, queries: () => n };
}

const timelineRows = async (run: string) =>
  (await pool.query('SELECT label_assertion_id FROM ls_label_timeline WHERE platform_run_id = $1', [run]))
    .rows;

describe('label store on Postgres (§9 #18)', () => {
  it('new, identical, changed, without evidence: COMMITTED_NEW, REPLAY_MATCH, PAYLOAD_HASH_MISMATCH, MISSING_EVIDENCE_REFS', async () => {
    const run = runId();
    const store = postgresLabelStore(pool);
    // A uint64 seed beyond 2^53 comes back exactly.
    const input = inputOf(run, { pins: { ...LABEL_PINS, seed: 2n ** 60n + 7n } });
    const id = labelAssertionId(input);

    expect(await writeLabelAssertion(store, input)).toEqual({
      status: 'ACCEPTED',
      reason_code: 'ASSERTION_COMMITTED_NEW',
      label_assertion_id: id,
      payload_hash: labelAssertionPayloadHash(input),
    });
    expect(await writeLabelAssertion(store, input)).toMatchObject({
      status: 'ACCEPTED',
      reason_code: 'ASSERTION_REPLAY_MATCH',
    });
    expect(await timelineRows(run)).toEqual([{ label_assertion_id: id }]);

    const changed = { ...input, label_value: 'FRAUD_CONFIRMED' };
    expect(await writeLabelAssertion(store, changed)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'PAYLOAD_HASH_MISMATCH',
      label_assertion_id: id,
    });
    const bare = inputOf(run, { event_id: 'evt-bare', evidence_refs: [] });
    expect(await writeLabelAssertion(store, bare)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'MISSING_EVIDENCE_REFS',
    });

    const stored = await pool.query(
      'SELECT label_value, replay_count, payload_hash FROM ls_label_assertions WHERE platform_run_id = $1',
      [run],
    );
    expect(stored.rows).toEqual([
      { label_value: 'FRAUD_SUSPECTED', replay_count: 1, payload_hash: labelAssertionPayloadHash(input) },
    ]);
    expect(await timelineRows(run)).toHaveLength(1);
    expect(await store.mismatchesOfRun(run)).toEqual([
      {
        label_assertion_id: id,
        reason_code: 'PAYLOAD_HASH_MISMATCH',
        platform_run_id: run,
        event_id: 'evt-1',
        label_type: 'fraud_disposition',
        incoming_payload_hash: labelAssertionPayloadHash(changed),
        stored_payload_hash: labelAssertionPayloadHash(input),
      },
    ]);
    const [read] = await labelsOfEvent(store, run, 'evt-1');
    expect(read).toEqual({
      ...input,
      evidence_refs: [...input.evidence_refs].reverse(),
      label_assertion_id: id,
      payload_hash: labelAssertionPayloadHash(input),
      replay_count: 1,
    });
    const metrics = await labelStoreMetrics(store, run);
    expect(metrics).toEqual({
      platform_run_id: run,
      accepted: 1,
      rejected: 2,
      duplicate: 1,
      pending: 0,
      payload_hash_mismatch: 1,
      dedupe_tuple_collision: 0,
    });
    expect(labelStoreHealth(metrics)).toMatchObject({
      health_state: 'AMBER',
      health_reasons: ['ANOMALIES_AMBER', 'REJECTED_AMBER'],
    });
  });

  it('the same id stored for another (run, event, type): DEDUPE_TUPLE_COLLISION, the stored row kept', async () => {
    const run = runId();
    const store = postgresLabelStore(pool);
    const input = inputOf(run);
    const other = inputOf(run, { event_id: 'evt-other' });
    const id = labelAssertionId(input);
    expect(
      await store.claim([
        { ...other, label_assertion_id: id, payload_hash: labelAssertionPayloadHash(other) },
      ]),
    ).toEqual([{ status: 'COMMITTED' }]);
    expect(await writeLabelAssertion(store, input)).toMatchObject({
      status: 'REJECTED',
      reason_code: 'DEDUPE_TUPLE_COLLISION',
    });
    const rows = await pool.query('SELECT event_id FROM ls_label_assertions WHERE label_assertion_id = $1', [
      id,
    ]);
    expect(rows.rows).toEqual([{ event_id: 'evt-other' }]);
    expect((await store.mismatchesOfRun(run)).map((m) => m.reason_code)).toEqual(['DEDUPE_TUPLE_COLLISION']);
  });

  it('two writers of the same ids at once: each id committed by exactly one, replayed by the other', async () => {
    const run = runId();
    const inputs = Array.from({ length: 20 }, (_, i) => inputOf(run, { event_id: `evt-race-${i}` }));
    const [first, second] = await Promise.all([
      writeLabelAssertions(postgresLabelStore(pool), inputs),
      writeLabelAssertions(postgresLabelStore(pool), [...inputs].reverse()),
    ]);
    const byId = new Map<string, string[]>();
    for (const r of [...(first ?? []), ...(second ?? [])])
      byId.set(r.label_assertion_id ?? '', [...(byId.get(r.label_assertion_id ?? '') ?? []), r.reason_code]);
    expect(byId.size).toBe(20);
    for (const reasons of byId.values())
      expect(reasons.sort()).toEqual(['ASSERTION_COMMITTED_NEW', 'ASSERTION_REPLAY_MATCH']);
    expect(await timelineRows(run)).toHaveLength(20);
    const replays = await pool.query(
      'SELECT DISTINCT replay_count FROM ls_label_assertions WHERE platform_run_id = $1',
      [run],
    );
    expect(replays.rows).toEqual([{ replay_count: 1 }]);
  });

  it('a batch: one claim and one settle when all are new; a reload replays them all', async () => {
    const run = runId();
    const inputs = Array.from({ length: 50 }, (_, i) =>
      inputOf(run, {
        event_id: `evt-batch-${pad(i)}`,
        label_type: 'chargeback_status',
        label_value: 'CHARGEBACK',
      }),
    );
    const counted = countingPool();
    const store = postgresLabelStore(counted.pool);
    const first = await writeLabelAssertions(store, inputs);
    expect(first.every((r) => r.reason_code === 'ASSERTION_COMMITTED_NEW')).toBe(true);
    expect(counted.queries()).toBe(2);
    const again = await writeLabelAssertions(store, [...inputs, inputOf(run, { event_id: 'evt-batch-new' })]);
    expect(again.map((r) => r.reason_code)).toEqual([
      ...inputs.map(() => 'ASSERTION_REPLAY_MATCH'),
      'ASSERTION_COMMITTED_NEW',
    ]);
    // The claim, the read of the ids that were there, the settle.
    expect(counted.queries()).toBe(5);
    expect(await timelineRows(run)).toHaveLength(51);
    const page1 = await store.assertionsOfRun(run, { limit: 30 });
    const page2 = await store.assertionsOfRun(run, {
      afterId: page1[page1.length - 1]?.label_assertion_id,
      limit: 30,
    });
    expect(page1).toHaveLength(30);
    expect(page2).toHaveLength(21);
    expect(new Set([...page1, ...page2].map((a) => a.label_assertion_id)).size).toBe(51);
    expect(await labelStoreMetrics(store, run)).toMatchObject({ accepted: 51, duplicate: 50, rejected: 0 });
  });

  it('as-of reads and the timeline: a correction, a conflict, nothing known yet', async () => {
    const run = runId();
    const store = postgresLabelStore(pool);
    const at = (hhmm: string) => `2026-12-07T${hhmm}:00.000000Z`;
    const assertion = (tag: string, value: string, observed: string) =>
      inputOf(run, { case_timeline_event_id: `cte-${tag}`, label_value: value, observed_time: observed });
    await writeLabelAssertions(store, [
      assertion('auto', 'FRAUD_SUSPECTED', at('10:00')),
      assertion('human', 'LEGIT_CONFIRMED', at('12:00')),
      assertion('tie-a', 'FRAUD_CONFIRMED', at('14:00')),
      assertion('tie-b', 'LEGIT_CONFIRMED', at('14:00')),
    ]);
    const subject = { platform_run_id: run, event_id: 'evt-1' };
    const read = (asOf: string) => labelAsOf(store, subject, 'fraud_disposition', asOf);
    expect((await read(at('09:00'))).status).toBe('NOT_FOUND');
    expect(await read(at('11:00'))).toMatchObject({ status: 'RESOLVED', label_value: 'FRAUD_SUSPECTED' });
    expect(await read(at('12:00'))).toMatchObject({ status: 'RESOLVED', label_value: 'LEGIT_CONFIRMED' });
    expect(await read(at('15:00'))).toMatchObject({
      status: 'CONFLICT',
      conflicting_values: ['FRAUD_CONFIRMED', 'LEGIT_CONFIRMED'],
    });
    const timeline = await store.timelineOf(subject, 'fraud_disposition');
    expect(timeline).toHaveLength(4);
    expect(timeline.map((t) => t.timeline_seq)).toEqual(
      [...timeline.map((t) => t.timeline_seq)].sort((a, b) => a - b),
    );
  });
});
