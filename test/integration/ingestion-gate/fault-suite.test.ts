import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { stackDown, stackUp } from '../../../local/stack.ts';
import { type PartName, stackConfig } from '../../../local/stack-config.ts';
import { runEnvelopes } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { trafficEnvelope } from '../../support/envelopes.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * The fault suite (issue 12, build point 6): producers push a run's events through the real gate (singles and
 * batches, 8 in flight, each event retried until it is decided, as the World Streamer does) while the local cloud
 * loses its parts one after another — Postgres, Kinesis, the Lambda part (killed with requests in flight) — and a
 * burst of duplicate pushes races the same receipt keys (S3 conditional-write conflicts) and the rate of intake.
 * At the end: every event is on the bus exactly once, by event_id, and accounted for by one ADMIT receipt; health
 * is GREEN again by itself.
 */

const { state, env } = inject('stack');
const { kinesis } = clientsFor(state);
const config = stackConfig(env);
const BASE = state.endpoints.http;
const KEY = 'local-parity-wsp';
const STAMP = Date.now() - 400 * 86_400_000 - Math.floor(Math.random() * 86_400) * 1000;
const PRID = `platform_${new Date(STAMP).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z`;
const EVENTS = 240;
const STREAM = 'fp.bus.traffic.fraud.v1';
const pool = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });

afterAll(async () => {
  await stackUp(config, () => undefined); // leave the shared local cloud whole
  await pool.end();
});

function envelope(i: number) {
  return trafficEnvelope(sha256Hex(`fault-suite|${PRID}|${i}`), PRID, 5_000_000 + i);
}

const tally = { requests: 0, retried: 0, status: new Map<string, number>(), faults: [] as string[] };
const count = (what: string) => tally.status.set(what, (tally.status.get(what) ?? 0) + 1);

/** One request; a connection error (the Lambda part gone) is answered like a 503. */
async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  tally.requests++;
  try {
    const res = await fetch(`${BASE}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-ig-api-key': KEY },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    count(String(res.status));
    return { status: res.status, body: text ? (parseJsonLossless(text) as Record<string, unknown>) : {} };
  } catch {
    count('connection');
    return { status: 599, body: {} };
  }
}

const decided = new Set<number>();
const decisions = new Map<number, string[]>();
const note = (i: number, decision: string) => {
  decided.add(i);
  decisions.set(i, [...(decisions.get(i) ?? []), decision]);
};

/** Pushes events until each is decided (ADMIT or DUPLICATE), as a producer that retries 429/5xx would. */
async function producer(items: number[], batchSize: number, deadline: number): Promise<void> {
  let pending = [...items];
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`undecided after the deadline: ${pending.length} events`);
    const group = pending.slice(0, batchSize);
    const answer =
      batchSize === 1
        ? await post('/v1/ingest/push', envelope(group[0] as number))
        : await post('/v1/ingest/batch', { envelopes: group.map(envelope) });
    const left: number[] = [];
    if (answer.status === 200 && batchSize === 1) note(group[0] as number, String(answer.body.decision));
    else if (answer.status === 200) {
      const results = answer.body.results as Array<{ decision?: string }>;
      group.forEach((i, n) => {
        const d = results[n]?.decision;
        if (d) note(i, d);
        else left.push(i);
      });
    } else if (answer.status === 429 || answer.status >= 500) left.push(...group);
    else throw new Error(`push answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    if (left.length > 0) {
      tally.retried += left.length;
      await new Promise((r) => setTimeout(r, 200)); // a producer's backoff, not synchronisation
    }
    pending = [...left, ...pending.slice(group.length)];
  }
}

async function fault(parts: PartName[], label: string, until: () => boolean): Promise<void> {
  tally.faults.push(label);
  await stackDown(config, () => undefined, parts);
  // Keep the part down until the producers have felt it (a failed answer since it went), then bring it back.
  const failedBefore = (tally.status.get('503') ?? 0) + (tally.status.get('connection') ?? 0);
  await eventually(
    async () =>
      until() || (tally.status.get('503') ?? 0) + (tally.status.get('connection') ?? 0) > failedBefore
        ? true
        : undefined,
    `producers to meet the ${label}`,
    60_000,
  );
  await stackUp(config, () => undefined);
}

describe('the fault suite: faults injected mid-run, nothing lost, nothing twice', () => {
  it(`${EVENTS} events through Postgres, Kinesis and Lambda outages and a duplicate storm: each on the bus once with one ADMIT receipt`, async () => {
    const deadline = Date.now() + 240_000;
    const all = Array.from({ length: EVENTS }, (_, i) => i);
    // 8 producers: 4 push singles, 4 push batches of 10.
    const lanes = Array.from({ length: 8 }, (_, k) => all.filter((i) => i % 8 === k));
    const producers = lanes.map((lane, k) => producer(lane, k < 4 ? 1 : 10, deadline));
    const done = () => decided.size === EVENTS;
    const reached = (n: number) => async () => (decided.size >= n || done() ? true : undefined);

    await eventually(reached(EVENTS * 0.15), '15% decided', 120_000);
    await fault(['postgres'], 'Postgres stopped and restarted', done);
    await eventually(reached(EVENTS * 0.35), '35% decided', 120_000);
    await fault(['kinesis'], 'Kinesis stopped and restarted', done);
    await eventually(reached(EVENTS * 0.5), '50% decided', 120_000);
    // A storm of duplicates (32 in flight) on events already decided: conditional writes race on their receipts.
    tally.faults.push('32 duplicate pushes in flight');
    const storm = Array.from({ length: 32 }, (_, k) => post('/v1/ingest/push', envelope(k % 8)));
    await fault(['lambda'], 'Lambda part killed with requests in flight', done);
    await Promise.all(storm);
    await Promise.all(producers);

    // Every event decided; the bus holds each once; one ADMIT receipt each.
    expect(decided.size).toBe(EVENTS);
    const onBus = new Map<string, number>();
    for (const { envelope: env } of await runEnvelopes(kinesis, [STREAM], PRID))
      onBus.set(env.event_id, (onBus.get(env.event_id) ?? 0) + 1);
    const expected = all.map((i) => envelope(i).event_id);
    expect([...onBus.keys()].sort()).toEqual([...expected].sort());
    const twice = [...onBus].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    const admits = await pool.query<{ event_id: string; n: string }>(
      `SELECT event_id, count(*) AS n FROM ig_receipts WHERE platform_run_id = $1 AND decision = 'ADMIT'
       GROUP BY event_id`,
      [PRID],
    );
    expect(admits.rows.map((r) => r.event_id).sort()).toEqual([...expected].sort());
    expect(admits.rows.every((r) => r.n === '1')).toBe(true);
    await eventually(
      async () => {
        const res = await fetch(`${BASE}/v1/ops/health`, { headers: { 'x-ig-api-key': KEY } });
        const health = (await res.json()) as { state: string };
        return health.state === 'GREEN' ? health : undefined;
      },
      'health GREEN again',
      30_000,
    );
    console.log(
      `fault suite: ${EVENTS} events, ${tally.requests} requests (${tally.retried} event retries; answers ${JSON.stringify(
        Object.fromEntries(tally.status),
      )}), faults injected: ${tally.faults.length} (${tally.faults.join('; ')}); lost 0, duplicates on the bus ${twice.length}`,
    );
  }, 300_000);
});
