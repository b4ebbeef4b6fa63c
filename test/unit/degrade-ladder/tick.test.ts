import { describe, expect, it } from 'vitest';
import type { Posture } from '../../../lib/degrade-ladder/ladder.ts';
import {
  type PostureChanged,
  PostureSeqRegression,
  type PostureStore,
  type SignalSource,
} from '../../../lib/degrade-ladder/ports.ts';
import { effectivePosture } from '../../../lib/degrade-ladder/posture-reader.ts';
import type { SignalReading } from '../../../lib/degrade-ladder/signals.ts';
import { degradeTick, GLOBAL_SCOPE } from '../../../lib/degrade-ladder/tick.ts';
import { loadDegradePolicy } from '../../../lib/runtime/degrade-ladder-config.ts';

/**
 * A tick of the ladder against an in-memory posture store (seq regressions refused, as the Postgres adapter does) and
 * scripted signals; and the posture as the Decision Fabric reads it: missing, unreadable or older than 120 s is the
 * FAIL_CLOSED mask.
 */

const policy = loadDegradePolicy();
const T0 = new Date('2026-12-07T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function memoryStore(): PostureStore & { outbox: PostureChanged[]; postures: Posture[] } {
  const postures: Posture[] = [];
  const outbox: PostureChanged[] = [];
  return {
    postures,
    outbox,
    current: async () => postures.at(-1),
    async commit(scope, posture, change) {
      const stored = postures.at(-1);
      if (stored && posture.posture_seq <= stored.posture_seq)
        throw new PostureSeqRegression(scope, stored.posture_seq, posture.posture_seq);
      postures.push(posture);
      if (change) outbox.push(change);
    },
  };
}

const healthy = (now: Date): SignalReading[] =>
  policy.signals.required.concat(policy.signals.optional).map((name) => ({
    name,
    state: 'OK',
    observed_at_utc: now.toISOString(),
    evidence_ref: `s3://platform/${name}.json`,
  }));

describe('degradeTick', () => {
  it('all signals OK: NORMAL and GREEN at once; one INITIAL change event, then none while nothing changes', async () => {
    const store = memoryStore();
    let now = at(0);
    const ports = { store, signals: { read: async (n: Date) => healthy(n) }, now: () => now };
    const first = await degradeTick(ports, policy);
    expect(first).toMatchObject({
      transition: 'INITIAL',
      health: 'GREEN',
      posture: { mode: 'NORMAL', posture_seq: 1 },
    });
    expect(first.posture.evidence_refs).toContain('s3://platform/ofp_health.json');
    now = at(1);
    expect((await degradeTick(ports, policy)).transition).toBe('NONE');
    expect(store.outbox.map((e) => [e.transition, e.from_mode, e.posture.mode])).toEqual([
      ['INITIAL', null, 'NORMAL'],
    ]);
    expect(store.postures.map((p) => p.posture_seq)).toEqual([1, 2]);
  });

  it('a required signal in ERROR fails closed at once (RED); recovery waits the quiet period (AMBER meanwhile)', async () => {
    const store = memoryStore();
    let now = at(0);
    let lagging = true;
    const signals: SignalSource = {
      read: async (n) =>
        healthy(n).map((r) =>
          lagging && r.name === 'eb_consumer_lag' ? { ...r, state: 'ERROR', detail: 'lag' } : r,
        ),
    };
    const ports = { store, signals, now: () => now };
    expect(await degradeTick(ports, policy)).toMatchObject({
      health: 'RED',
      posture: { mode: 'FAIL_CLOSED', reason: 'REQUIRED_SIGNAL_NOT_OK:eb_consumer_lag:ERROR' },
    });
    lagging = false;
    const modes: string[] = [];
    for (const t of [10, 40, 69, 71]) {
      now = at(t);
      const result = await degradeTick(ports, policy);
      modes.push(`${result.posture.mode}/${result.health}`);
    }
    expect(modes).toEqual(['FAIL_CLOSED/AMBER', 'FAIL_CLOSED/AMBER', 'FAIL_CLOSED/AMBER', 'NORMAL/GREEN']);
    expect(store.outbox.map((e) => e.transition)).toEqual(['INITIAL', 'MODE_CHANGE']);
  });

  it('signals that cannot be read or judged: FAIL_CLOSED with EVALUATOR_ERROR (RED), still committed', async () => {
    const store = memoryStore();
    const signals: SignalSource = {
      read: async () => {
        throw new Error('S3 unreachable');
      },
    };
    const result = await degradeTick({ store, signals, now: () => at(0) }, policy);
    expect(result).toMatchObject({
      health: 'RED',
      posture: { mode: 'FAIL_CLOSED', reason: 'EVALUATOR_ERROR:S3 unreachable' },
    });
    expect(store.postures).toHaveLength(1);
  });

  it('the store refuses a posture whose seq is not above the stored one; the error reaches the caller', async () => {
    const store = memoryStore();
    const ports = { store, signals: { read: async (n: Date) => healthy(n) }, now: () => at(0) };
    await degradeTick(ports, policy);
    const stale = { ...(store.postures[0] as Posture) };
    await expect(store.commit(GLOBAL_SCOPE, stale, undefined)).rejects.toBeInstanceOf(PostureSeqRegression);
  });
});

describe('effectivePosture (what the Decision Fabric uses)', () => {
  const stored = (decidedAt: Date): Posture => ({
    mode: 'NORMAL',
    capabilities_mask: policy.modes.NORMAL,
    policy_rev: 'dl.policy.v0@r1',
    posture_seq: 7,
    decided_at_utc: decidedAt.toISOString(),
    reason: 'ALL_SIGNALS_OK',
    evidence_refs: [],
    upshift_quiet_seconds: null,
    started_at_utc: T0.toISOString(),
  });

  it('a fresh posture is used as stored', async () => {
    expect(await effectivePosture(async () => stored(at(0)), policy, at(120))).toMatchObject({
      mode: 'NORMAL',
      source: 'STORE',
      posture_seq: 7,
    });
  });

  it('none, a store error, or older than 120 s: the FAIL_CLOSED mask, with the reason', async () => {
    const cases = await Promise.all([
      effectivePosture(async () => undefined, policy, at(0)),
      effectivePosture(
        async () => {
          throw new Error('connection refused');
        },
        policy,
        at(0),
      ),
      effectivePosture(async () => stored(at(0)), policy, at(121)),
    ]);
    expect(cases.map((c) => [c.mode, c.source, c.reason])).toEqual([
      ['FAIL_CLOSED', 'FAILSAFE', 'FAILSAFE_MISSING'],
      ['FAIL_CLOSED', 'FAILSAFE', 'FAILSAFE_STORE_ERROR'],
      ['FAIL_CLOSED', 'FAILSAFE', 'FAILSAFE_STALE'],
    ]);
    for (const c of cases) expect(c.capabilities_mask).toEqual(policy.modes.FAIL_CLOSED);
  });
});
