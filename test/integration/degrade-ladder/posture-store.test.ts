import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresPostureStore } from '../../../lib/adapters/degrade-ladder-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { PostureSeqRegression } from '../../../lib/degrade-ladder/ports.ts';
import { effectivePosture } from '../../../lib/degrade-ladder/posture-reader.ts';
import type { SignalReading } from '../../../lib/degrade-ladder/signals.ts';
import { degradeTick, GLOBAL_SCOPE } from '../../../lib/degrade-ladder/tick.ts';
import { loadDegradePolicy } from '../../../lib/runtime/degrade-ladder-config.ts';

/**
 * The Degrade Ladder's posture store on the shared local cloud's Postgres (migration 0014), one stream id per test:
 * ticks commit postures with rising seqs and their change events; a lower seq is refused; two ticks at once cannot
 * both commit the same seq; the Decision Fabric's reader fails closed on a missing or stale posture.
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 4 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const policy = loadDegradePolicy();
const T0 = new Date('2026-12-07T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const streamId = () => `dl.v0::platform_20261207T100000Z::test-${randomUUID()}`;

const signals = (failing: string[] = []) => ({
  read: async (now: Date): Promise<SignalReading[]> =>
    [...policy.signals.required, ...policy.signals.optional].map((name) => ({
      name,
      state: failing.includes(name) ? 'ERROR' : 'OK',
      observed_at_utc: now.toISOString(),
    })),
});

async function outbox(stream: string) {
  const res = await pool.query<{ posture_seq: string; transition: string; event_json: string }>(
    'SELECT posture_seq::text, transition, event_json FROM dl_posture_outbox WHERE stream_id = $1 ORDER BY posture_seq',
    [stream],
  );
  return res.rows.map((r) => ({
    seq: Number(r.posture_seq),
    transition: r.transition,
    mode: (JSON.parse(r.event_json) as { posture: { mode: string } }).posture.mode,
  }));
}

describe('degrade ladder posture store on Postgres', () => {
  it('ticks commit rising seqs; change events only on INITIAL and MODE_CHANGE; the reader sees the posture', async () => {
    const stream = streamId();
    const store = postgresPostureStore(pool, stream);
    let now = at(0);
    let failing = ['ieg_health'];
    const ports = { store, signals: { read: (n: Date) => signals(failing).read(n) }, now: () => now };
    expect((await degradeTick(ports, policy)).posture.mode).toBe('FAIL_CLOSED');
    failing = [];
    for (const t of [30, 60, 91]) {
      now = at(t);
      await degradeTick(ports, policy);
    }
    const current = await store.current(GLOBAL_SCOPE);
    expect(current).toMatchObject({ mode: 'NORMAL', posture_seq: 4, policy_rev: 'dl.policy.v0@r1' });
    expect(await outbox(stream)).toEqual([
      { seq: 1, transition: 'INITIAL', mode: 'FAIL_CLOSED' },
      { seq: 4, transition: 'MODE_CHANGE', mode: 'NORMAL' },
    ]);
    expect(await effectivePosture(() => store.current(GLOBAL_SCOPE), policy, at(100))).toMatchObject({
      mode: 'NORMAL',
      source: 'STORE',
      posture_seq: 4,
    });
    expect(await effectivePosture(() => store.current(GLOBAL_SCOPE), policy, at(212))).toMatchObject({
      mode: 'FAIL_CLOSED',
      reason: 'FAILSAFE_STALE',
    });
  });

  it('a posture whose seq is not above the stored one is refused, the stored one unchanged', async () => {
    const store = postgresPostureStore(pool, streamId());
    const tick = await degradeTick({ store, signals: signals(), now: () => at(0) }, policy);
    const older = { ...tick.posture, mode: 'FAIL_CLOSED' as const };
    await expect(store.commit(GLOBAL_SCOPE, older, undefined)).rejects.toBeInstanceOf(PostureSeqRegression);
    expect(await store.current(GLOBAL_SCOPE)).toEqual(tick.posture);
  });

  it('two ticks racing on one stored posture: one commits its seq, the other is refused', async () => {
    const store = postgresPostureStore(pool, streamId());
    await degradeTick({ store, signals: signals(), now: () => at(0) }, policy);
    // Both ticks read the stored posture (seq 1) before either commits: a barrier after the read.
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    const racing = {
      ...store,
      async current(scope: string) {
        const found = await store.current(scope);
        if (++reads === 2) bothRead();
        await barrier;
        return found;
      },
    };
    const results = await Promise.allSettled([
      degradeTick({ store: racing, signals: signals(), now: () => at(1) }, policy),
      degradeTick({ store: racing, signals: signals(['ofp_health']), now: () => at(1) }, policy),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(PostureSeqRegression);
    const committed = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{
      posture: unknown;
    }>;
    expect(await store.current(GLOBAL_SCOPE)).toEqual(committed.value.posture);
  });

  it('no posture stored: the reader fails closed (FAILSAFE_MISSING)', async () => {
    const store = postgresPostureStore(pool, streamId());
    expect(await effectivePosture(() => store.current(GLOBAL_SCOPE), policy, at(0))).toMatchObject({
      mode: 'FAIL_CLOSED',
      source: 'FAILSAFE',
      reason: 'FAILSAFE_MISSING',
    });
  });
});
