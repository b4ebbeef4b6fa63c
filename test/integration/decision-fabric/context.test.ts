import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { preloadedFlowBindings } from '../../../lib/adapters/context-store-batch-reads.ts';
import { postgresContextStore } from '../../../lib/adapters/context-store-stores.ts';
import { postgresDecisionContext } from '../../../lib/adapters/decision-fabric-context.ts';
import { postgresDecisionLedger } from '../../../lib/adapters/decision-fabric-stores.ts';
import { postgresOnlineFeatureStore } from '../../../lib/adapters/online-features-stores.ts';
import { migrate } from '../../../lib/adapters/postgres/migrate.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { applyContextBatch } from '../../../lib/context-store/intake.ts';
import { resolveFlowBindingQuery } from '../../../lib/context-store/query.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import { CONTEXT_STORE_STREAM_BASE } from '../../../lib/contracts/context-store.ts';
import type { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import { consumerCheckpointScope } from '../../../lib/contracts/identity.ts';
import { ONLINE_FEATURES_STREAM_BASE } from '../../../lib/contracts/online-features.ts';
import type { LedgerEntry } from '../../../lib/decision-fabric/ports.ts';
import { historyReader } from '../../../lib/online-features/history.ts';
import { applyOnlineFeatureBatch } from '../../../lib/online-features/intake.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { tsMicrosOf } from '../../../lib/online-features/windows.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { SETTINGS as CONTEXT_SETTINGS, contextRecord } from '../../support/context-store.ts';
import { SETTINGS as FEATURE_SETTINGS, PINS, trafficRecord } from '../../support/online-features.ts';
import { ANCHOR_ENTITIES, anchorRecord } from '../../unit/online-features/anchor-records.ts';

/**
 * The decision fabric's context and ledger on the shared local cloud's Postgres: the batch reads it decides on answer
 * what the components' own queries answer — OFP `get_features` over a batch's history (`historyReader`, and the
 * fabric's context adapter) against `get_features` on the OFP store, the preloaded CSFB bindings against
 * `resolve_flow_binding` on the Context Store — and the replay ledger's claims (migration 0016). Each test has a run
 * of its own (the adapters scope rows by `<base>::<platform_run_id>`).
 */

const { state } = inject('stack');
const pool = createPool({ connectionString: state.databaseUrl, max: 4 });
beforeAll(async () => {
  await migrate(pool);
});
afterAll(async () => {
  await pool.end();
});

const policy = loadFeaturePolicy();
const digits = (n: number) => String(randomInt(10 ** n)).padStart(n, '0');
const freshRun = () => `platform_20${digits(6)}T${digits(6)}Z`;
const pinsOf = (run: string) => ({ ...PINS, platform_run_id: run });
const NOW = new Date('2026-12-07T10:00:00.000Z');

describe('OFP snapshots over a batch’s history', () => {
  const FLOWS = [1n, 2n, 3n, 4n, 5n].map((n) => 9_200_000_000_000_000_000n + n);
  const ACCOUNT_2 = 8_000_000_000_000_000_002n;
  const ANCHORS: [string, Record<string, unknown>][] = [
    ['2026-03-08T09:00:00.000000Z', {}],
    ['2026-03-08T09:04:30.000000Z', { device_id: 22 }],
    ['2026-03-08T09:09:59.999999Z', { ip_id: 32 }],
    ['2026-03-08T10:00:00.000000Z', { account_id: ACCOUNT_2, device_id: 22 }],
    ['2026-03-07T09:00:00.000000Z', { instrument_id: 12, merchant_id: 5 }],
  ];
  const later = (ts: string, seconds: number) =>
    new Date(Date.parse(ts) + seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

  async function projected(run: string) {
    const envelope = { platform_run_id: run };
    const records = FLOWS.flatMap((flowId, i) => {
      const [ts, entities] = ANCHORS[i] as [string, Record<string, unknown>];
      return [
        anchorRecord({ flowId, tsUtc: ts, amount: 10 * (i + 1), entities, eventId: `a-${flowId}`, envelope }),
        ...[3, 61].map((s, j) =>
          trafficRecord({
            flowId,
            tsUtc: later(ts, s),
            amount: 2.5 * (i + j + 1),
            eventId: `t-${flowId}-${j}`,
            partition: j,
            envelope,
          }),
        ),
      ];
    });
    const store = postgresOnlineFeatureStore(pool, consumerCheckpointScope(ONLINE_FEATURES_STREAM_BASE, run));
    const outcomes = await applyOnlineFeatureBatch(store, records, {
      ...FEATURE_SETTINGS,
      requiredPlatformRunId: run,
    });
    expect(outcomes.map((o) => o.status)).toEqual(records.map(() => 'APPLIED'));
    return store;
  }

  const { party_id, account_id, instrument_id, device_id, ip_id, merchant_id } = ANCHOR_ENTITIES;
  const KEYS = [
    ...FLOWS.map((f) => ['flow_id', f]),
    ['event_id', 't-unknown'],
    ['party_id', party_id],
    ['account_id', account_id],
    ['account_id', ACCOUNT_2],
    ['instrument_id', instrument_id],
    ['instrument_id', 12],
    ['device_id', device_id],
    ['device_id', 22],
    ['device_id', 404],
    ['ip_id', ip_id],
    ['ip_id', 32],
    ['merchant_id', merchant_id],
    ['account_device', `${account_id}|${device_id}`],
    ['account_device', `${ACCOUNT_2}|22`],
    ['account_ip', `${account_id}|32`],
  ].map(([key_type, id]) => ({ key_type: key_type as string, key_id: String(id) }));
  const AS_OF = [
    '2026-03-07T08:59:59.999999Z',
    '2026-03-07T09:00:03.000000Z',
    '2026-03-08T09:00:00.000000Z',
    '2026-03-08T09:05:00.000000Z',
    '2026-03-08T09:10:00.000000Z',
    '2026-03-08T09:59:59.999999Z',
    '2026-03-08T10:01:01.000000Z',
    '2026-03-15T00:00:00.000000Z',
  ];
  const requestsOf = (run: string) =>
    AS_OF.flatMap((asOf, i) => [
      {
        request_id: `r-${i}`,
        pins: pinsOf(run),
        as_of_time_utc: asOf,
        feature_keys: KEYS,
        feature_groups: [
          { name: 'core_features', version: 'v1' },
          { name: 'velocity', version: 'v1' },
        ],
        graph_resolution_mode: 'none' as const,
      },
      // One flow's own keys, as the fabric asks them.
      {
        request_id: `f-${i}`,
        pins: pinsOf(run),
        as_of_time_utc: asOf,
        feature_keys: KEYS.filter((k) => ['flow_id', 'device_id', 'ip_id'].includes(k.key_type)).slice(2, 9),
        feature_groups: [{ name: 'core_features', version: 'v1' }],
        graph_resolution_mode: 'none' as const,
      },
    ]);

  it('historyReader + getFeatures answers, whole snapshot for whole snapshot, what getFeatures on the store answers', async () => {
    const run = freshRun();
    const store = await projected(run);
    const requests = requestsOf(run);
    const scope = { platform_run_id: run, scenario_run_id: PINS.scenario_run_id };
    // One history for the whole batch, loaded up to its latest as-of (as the fabric's context adapter loads it).
    const bound = requests.map((r) => tsMicrosOf(r.as_of_time_utc)).reduce((a, b) => (a > b ? a : b));
    const history = await store.loadHistory(
      scope,
      requests.flatMap((r) => r.feature_keys),
      bound,
    );
    const reader = historyReader(scope, history, await store.checkpoints(), await store.hasState(scope));
    const statuses = new Set<string>();
    for (const request of requests) {
      const expected = await getFeatures(store, request, policy);
      expect(expected.status).toBe('OK');
      if (expected.status === 'OK') statuses.add(expected.snapshot.freshness.state);
      expect(canonicalJson(await getFeatures(reader, request, policy)), request.as_of_time_utc).toBe(
        canonicalJson(expected),
      );
    }
    // The requests reach keys with and without features, before and after the anchors.
    expect([...statuses].sort()).toEqual(['AMBER', 'RED']);
  });

  it('the fabric’s context adapter answers the same snapshots; another scenario run is NOT_FOUND, as on the store', async () => {
    const run = freshRun();
    const store = await projected(run);
    const requests = requestsOf(run);
    const context = postgresDecisionContext(pool, run, policy);
    const answers = await context.snapshots(requests);
    const expected = await Promise.all(requests.map((r) => getFeatures(store, r, policy)));
    expect(canonicalJson(answers)).toBe(canonicalJson(expected));
    const other = {
      ...(requests[0] as (typeof requests)[number]),
      pins: { ...pinsOf(run), scenario_run_id: '3'.repeat(32) },
    };
    const [answer] = await context.snapshots([other]);
    expect(answer).toMatchObject({ status: 'ERROR', error: { code: 'NOT_FOUND' } });
    expect(canonicalJson(answer)).toBe(canonicalJson(await getFeatures(store, other, policy)));
  });
});

describe('CSFB bindings preloaded for a batch', () => {
  const READY = '9300000000000000001';
  const ANCHOR_ONLY = '9300000000000000002';
  const UNKNOWN = '9300000000000000003';

  async function projected(run: string) {
    const envelope = { platform_run_id: run };
    const store = postgresContextStore(pool, consumerCheckpointScope(CONTEXT_STORE_STREAM_BASE, run));
    const records = [
      contextRecord('arrival_events_5B', { arrivalSeq: 1, envelope }),
      contextRecord('s3_flow_anchor_with_fraud_6B', { arrivalSeq: 1, flowId: BigInt(READY), envelope }),
      contextRecord('s3_flow_anchor_with_fraud_6B', { arrivalSeq: 2, flowId: BigInt(ANCHOR_ONLY), envelope }),
    ];
    const outcomes = await applyContextBatch(store, records, {
      ...CONTEXT_SETTINGS,
      requiredPlatformRunId: run,
    });
    expect(outcomes.map((o) => o.status)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    return store;
  }

  it('answer resolve_flow_binding as the Context Store does: READY, MISSING_JOIN_FRAME, MISSING_BINDING, CONFLICT', async () => {
    const run = freshRun();
    const store = await projected(run);
    const flows = [READY, ANCHOR_ONLY, UNKNOWN];
    const preloaded = await preloadedFlowBindings(pool, store.streamId, pinsOf(run), flows);
    const statuses: string[] = [];
    for (const pins of [pinsOf(run), { ...pinsOf(run), manifest_fingerprint: 'c'.repeat(64) }])
      for (const flowId of flows) {
        const request = { request_id: `q-${flowId}`, pins, flow_id: flowId };
        const expected = await resolveFlowBindingQuery(store, request, NOW);
        statuses.push(expected.status);
        expect(canonicalJson(await resolveFlowBindingQuery(preloaded, request, NOW)), flowId).toBe(
          canonicalJson(expected),
        );
      }
    expect(statuses).toEqual([
      'READY',
      'MISSING_JOIN_FRAME',
      'MISSING_BINDING',
      'CONFLICT',
      'CONFLICT',
      'MISSING_BINDING',
    ]);
    expect(() => preloaded.readFlowBindingForJoinFrame({} as never)).toThrow(/resolve_flow_binding only/);
  });

  it('the fabric’s context adapter asks them per batch, each answer the store’s own', async () => {
    const run = freshRun();
    const store = await projected(run);
    const context = postgresDecisionContext(pool, run, policy, () => NOW);
    const answers = await context.flowBindings(pinsOf(run), [READY, ANCHOR_ONLY, UNKNOWN]);
    for (const flowId of [READY, ANCHOR_ONLY, UNKNOWN]) {
      const expected = await resolveFlowBindingQuery(
        store,
        { request_id: `df:${flowId}`, pins: pinsOf(run), flow_id: flowId },
        NOW,
      );
      expect(canonicalJson(answers.get(flowId))).toBe(canonicalJson(expected));
    }
    expect([...answers.values()].map((a) => a.reason_codes)).toEqual([
      ['READY'],
      ['JOIN_FRAME_INCOMPLETE'],
      ['FLOW_BINDING_NOT_FOUND'],
    ]);
  });
});

describe('the replay ledger on Postgres', () => {
  const envelope = (id: string, note: string): CanonicalEnvelope => ({
    event_id: id,
    event_type: 'decision_response',
    ts_utc: '2026-12-07T10:00:00.000000Z',
    manifest_fingerprint: 'a'.repeat(64),
    payload: { flow_id: 9_000_000_000_000_000_001n, note },
  });
  const entry = (decisionId: string, hash = 'h1'.padEnd(64, '0'), note = 'first'): LedgerEntry => ({
    decision_id: decisionId,
    platform_run_id: 'platform_20261207T100000Z',
    scenario_run_id: '2'.repeat(32),
    source_event_id: `source-${decisionId}`,
    flow_id: '9000000000000000001',
    action_kind: 'STEP_UP',
    context_status: 'CONTEXT_MISSING',
    reason_codes: ['CONTEXT_STATUS:CONTEXT_MISSING', 'JOIN_WAIT_EXCEEDED'],
    payload_hash: hash,
    envelopes: [envelope(`d-${decisionId}`, note), envelope(`i-${decisionId}`, note)],
    bus_arrival_ms: 1_796_637_600_000,
  });
  const newId = () => randomUUID().replaceAll('-', '');
  const row = async (id: string) =>
    (
      await pool.query(
        `SELECT payload_hash, envelopes_json, published, publish_decisions, admitted_at_ms::text AS admitted,
                replay_count, mismatch_count FROM df_decisions WHERE decision_id = $1`,
        [id],
      )
    ).rows[0];

  it('NEW, then PENDING (its stored envelopes, exact) until published, then REPLAY_MATCH', async () => {
    const ledger = postgresDecisionLedger(pool, `df.v0::${freshRun()}`);
    const [a, b] = [entry(newId()), entry(newId())];
    expect(await ledger.claim([a, b])).toEqual([{ status: 'NEW' }, { status: 'NEW' }]);
    const [pending] = await ledger.claim([a]);
    expect(pending).toMatchObject({ status: 'PENDING', published: false });
    expect(canonicalJson(pending && 'stored' in pending ? pending.stored : null)).toBe(
      canonicalJson(a.envelopes),
    );
    await ledger.markPublished([
      { decision_id: a.decision_id, decisions: ['ADMIT', 'DUPLICATE'], admitted_at_ms: 42 },
    ]);
    await ledger.markPublished([
      { decision_id: a.decision_id, decisions: ['DUPLICATE', 'DUPLICATE'], admitted_at_ms: 99 },
    ]);
    expect(await ledger.claim([a, b])).toEqual([
      { status: 'REPLAY_MATCH' },
      expect.objectContaining({ status: 'PENDING' }),
    ]);
    expect(await row(a.decision_id)).toMatchObject({
      published: true,
      publish_decisions: ['DUPLICATE', 'DUPLICATE'],
      admitted: '42',
      replay_count: 2,
      mismatch_count: 0,
    });
  });

  it('another payload hash: MISMATCH with the stored envelopes, recorded once per hash, never overwriting', async () => {
    const ledger = postgresDecisionLedger(pool, `df.v0::${freshRun()}`);
    const [a, b] = [entry(newId()), entry(newId())];
    await ledger.claim([a, b]);
    await ledger.markPublished([
      { decision_id: a.decision_id, decisions: ['ADMIT', 'ADMIT'], admitted_at_ms: 1 },
    ]);
    const before = await row(a.decision_id);
    const changed = (e: LedgerEntry) => entry(e.decision_id, 'h2'.padEnd(64, '0'), 'second');
    const claims = await ledger.claim([changed(a), changed(b)]);
    expect(claims.map((c) => [c.status, 'published' in c ? c.published : null])).toEqual([
      ['MISMATCH', true],
      ['MISMATCH', false],
    ]);
    expect(canonicalJson(claims.map((c) => ('stored' in c ? c.stored : null)))).toBe(
      canonicalJson([a.envelopes, b.envelopes]),
    );
    await ledger.claim([changed(a)]);
    expect(await row(a.decision_id)).toEqual({ ...before, replay_count: 2, mismatch_count: 2 });
    const mismatches = await pool.query(
      'SELECT incoming_payload_hash, stored_payload_hash FROM df_payload_mismatches WHERE decision_id = $1',
      [a.decision_id],
    );
    expect(mismatches.rows).toEqual([
      { incoming_payload_hash: changed(a).payload_hash, stored_payload_hash: a.payload_hash },
    ]);
  });

  it('two batches claiming one new decision at once: one NEW, the other PENDING; counters add up', async () => {
    const stream = `df.v0::${freshRun()}`;
    const ledger = postgresDecisionLedger(pool, stream);
    const a = entry(newId());
    const claims = await Promise.all([ledger.claim([a]), ledger.claim([a])]);
    expect(
      claims
        .flat()
        .map((c) => c.status)
        .sort(),
    ).toEqual(['NEW', 'PENDING']);
    await ledger.addMetrics({ decisions_total: 2, 'decisions|action=STEP_UP': 1 });
    await ledger.addMetrics({ decisions_total: 3 });
    const metrics = await pool.query<{ metric_name: string; value: number }>(
      'SELECT metric_name, value::int AS value FROM df_metrics WHERE stream_id = $1',
      [stream],
    );
    expect(Object.fromEntries(metrics.rows.map((r) => [r.metric_name, r.value]))).toEqual({
      decisions_total: 5,
      'decisions|action=STEP_UP': 1,
    });
  });
});
