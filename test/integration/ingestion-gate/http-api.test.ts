import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readEvidenceRef } from '../../../lib/adapters/s3-objects.ts';
import { canonicalJson, parseJsonLossless, pyFloat } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { IngestionReceipt } from '../../../lib/contracts/receipts.ts';
import { stackDown, stackUp } from '../../../local/stack.ts';
import { stackConfig } from '../../../local/stack-config.ts';
import { clientsFor } from '../../support/clients.ts';

/**
 * The IG HTTP API on the local cloud (serverless-offline HTTP API → the ingestion-gate-api Lambda → Postgres,
 * kinesalite, S3): acceptance checks 12, 13 and 15 of control-ingress.md §9 and the bad-input answers.
 */

const { state, env } = inject('stack');
const { kinesis, s3 } = clientsFor(state);
const BASE = state.endpoints.http;
const KEY = 'local-parity-wsp';
const PRID = 'platform_20260303T000000Z';
const MF = 'a'.repeat(64);
const PH = 'b'.repeat(64);
let n = 0;

function row(flowId: bigint, amount = 12.5) {
  return {
    flow_id: flowId,
    event_seq: 0,
    event_type: 'AUTH_REQUEST',
    ts_utc: '2026-03-08T00:01:03.106979',
    amount: pyFloat(amount),
    seed: 42n,
    manifest_fingerprint: MF,
    parameter_hash: PH,
    scenario_id: 'baseline_v1',
    fraud_flag: false,
    campaign_id: null,
  };
}

function envelope(overrides: Record<string, unknown> = {}) {
  n++;
  const flowId = 9_000_000_000_000_000_000n + BigInt(n);
  return {
    event_id: sha256Hex(`http-api-test-${n}-${Date.now()}`),
    event_type: 's3_event_stream_with_fraud_6B',
    ts_utc: '2026-03-08T00:01:03.106979Z',
    manifest_fingerprint: MF,
    parameter_hash: PH,
    seed: 42,
    scenario_id: 'baseline_v1',
    run_id: '1'.repeat(32),
    platform_run_id: PRID,
    scenario_run_id: '2'.repeat(32),
    producer: 'svc:world_stream_producer',
    payload: row(flowId),
    ...overrides,
  };
}

async function call(path: string, init: { method?: string; body?: string; key?: string | null } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== null) headers['x-ig-api-key'] = init.key ?? KEY;
  const res = await fetch(`${BASE}${path}`, { method: init.method ?? 'GET', body: init.body, headers });
  const text = await res.text();
  return { status: res.status, body: text ? (parseJsonLossless(text) as Record<string, unknown>) : {} };
}

const push = (e: unknown, key?: string | null) =>
  call('/v1/ingest/push', { method: 'POST', body: typeof e === 'string' ? e : canonicalJson(e), key });

async function recordsFor(stream: string, eventId: string): Promise<string[]> {
  const found: string[] = [];
  for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    let iterator = ShardIterator;
    for (let i = 0; i < 20 && iterator; i++) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        const data = Buffer.from(r.Data ?? new Uint8Array()).toString('utf8');
        if (data.includes(`"event_id":"${eventId}"`)) found.push(`${r.PartitionKey}|${data}`);
      }
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return found;
}

describe('IG HTTP API on the local cloud', () => {
  afterAll(async () => {
    if (process.env.IG_PUSH_RATE_LIMIT_PER_MINUTE !== undefined) {
      // The rate-limit test restarted the Lambda part with a limit: restart it as the shared stack had it.
      delete process.env.IG_PUSH_RATE_LIMIT_PER_MINUTE;
      await stackDown(stackConfig(env), () => undefined, ['lambda']);
    }
    await stackUp(stackConfig(env), () => undefined); // leave the shared stack whole
  });

  it('§9.15: every route answers 401 without a valid key; the actor is SYSTEM::<principal> with one', async () => {
    for (const [path, method] of [
      ['/v1/ingest/push', 'POST'],
      ['/v1/ingest/batch', 'POST'],
      ['/v1/ops/health', 'GET'],
      ['/v1/ops/lookup?event_id=x', 'GET'],
    ] as const) {
      for (const key of [null, 'wrong-key']) {
        const r = await call(path, { method, body: method === 'POST' ? '{}' : undefined, key });
        expect(r.status, `${method} ${path} key=${key}`).toBe(401);
        expect(r.body).toEqual({ error: 'UNAUTHORIZED', detail: null });
      }
    }
    const health = await call('/v1/ops/health');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ state: 'GREEN', reasons: [] });
    const admitted = await push(envelope());
    expect(admitted.status).toBe(200);
    expect((admitted.body.receipt as { actor: unknown }).actor).toMatchObject({
      actor_id: 'SYSTEM::world_streamer',
    });
  });

  it('§9.12: ADMIT puts one record on fp.bus.traffic.fraud.v1 keyed by sha256(str(flow_id)); five re-pushes are DUPLICATE', async () => {
    const e = envelope();
    const first = await push(e);
    expect(first.status).toBe(200);
    expect(first.body.decision).toBe('ADMIT');
    const receipt = first.body.receipt as {
      eb_ref: Record<string, unknown>;
      receipt_id: string;
      dedupe_key: string;
    };
    expect(receipt.eb_ref).toMatchObject({
      topic: 'fp.bus.traffic.fraud.v1',
      offset_kind: 'kinesis_sequence',
    });
    for (let i = 0; i < 5; i++) {
      const again = await push(e);
      expect(again.body.decision).toBe('DUPLICATE');
      expect((again.body.receipt as { eb_ref: unknown }).eb_ref).toEqual(receipt.eb_ref);
      expect((again.body.receipt as { evidence_refs: unknown }).evidence_refs).toEqual([
        { kind: 'receipt_ref', ref: first.body.receipt_ref },
      ]);
    }
    const records = await recordsFor('fp.bus.traffic.fraud.v1', e.event_id);
    expect(records).toHaveLength(1);
    expect(records[0]?.split('|')[0]).toBe(sha256Hex(String(e.payload.flow_id)));
    // The record is the envelope, 64-bit ids and Python float form intact.
    expect(records[0]?.slice(65)).toBe(canonicalJson(e));
    const lookup = await call(`/v1/ops/lookup?event_id=${e.event_id}`);
    expect(lookup.body).toMatchObject({ receipt_id: receipt.receipt_id, decision: 'ADMIT' });
    const byKey = await call(`/v1/ops/lookup?dedupe_key=${receipt.dedupe_key}`);
    expect(byKey.body).toMatchObject({ receipt_id: receipt.receipt_id, decision: 'ADMIT' });
    expect((await call(`/v1/ops/lookup?dedupe_key=${'0'.repeat(64)}`)).body).toEqual({});
  });

  it('§9.13: quarantines (payload mismatch, dropped pin, extra 6B column, unknown type) are 200 QUARANTINE, queryable, and off the bus', async () => {
    const base = envelope();
    await push(base);
    const cases: Array<[string, Record<string, unknown>]> = [
      ['PAYLOAD_HASH_MISMATCH', { ...base, payload: row(base.payload.flow_id, 99.5) }],
      ['PINS_MISSING', (({ scenario_run_id: _s, ...rest }) => rest)(envelope())],
      ['SCHEMA_FAIL', { ...envelope(), payload: { ...row(1n), extra_column: 1 } }],
      ['SCHEMA_POLICY_MISSING', envelope({ event_type: 'no_such_event_type' })],
    ];
    for (const [code, e] of cases) {
      const r = await push(e);
      expect(r.status, code).toBe(200);
      expect(r.body.decision, code).toBe('QUARANTINE');
      const receipt = r.body.receipt as { reason_codes: string[]; receipt_id: string };
      expect(receipt.reason_codes).toEqual([code]);
      const lookup = await call(`/v1/ops/lookup?receipt_id=${receipt.receipt_id}`);
      expect(lookup.body).toMatchObject({ decision: 'QUARANTINE', reason_codes: [code] });
      if (code !== 'PAYLOAD_HASH_MISMATCH')
        expect(await recordsFor('fp.bus.traffic.fraud.v1', String(e.event_id))).toHaveLength(0);
    }
    expect(await recordsFor('fp.bus.traffic.fraud.v1', base.event_id)).toHaveLength(1);
  });

  it('bad input: not JSON, not an envelope, wrong types, oversize, unknown route each get their status and code', async () => {
    expect(await push('{"event_id": ')).toMatchObject({ status: 400, body: { error: 'INVALID_JSON' } });
    expect(await push('[1,2,3]')).toMatchObject({ status: 400, body: { error: 'NOT_AN_ENVELOPE' } });
    const wrong = await push(envelope({ ts_utc: 12345, seed: 'forty-two' }));
    expect(wrong).toMatchObject({ status: 200, body: { decision: 'QUARANTINE' } });
    expect((wrong.body.receipt as { reason_codes: string[] }).reason_codes).toEqual(['ENVELOPE_INVALID']);
    const big = envelope({ payload: { ...row(2n), padding: 'x'.repeat(1_100_000) } });
    expect(await push(big)).toMatchObject({ status: 413, body: { error: 'PAYLOAD_TOO_LARGE' } });
    expect(await call('/v1/ops/lookup')).toMatchObject({ status: 400, body: { error: 'MISSING_QUERY' } });
    expect((await call('/v1/ingest/pull', { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('batch: per-item results, a duplicate inside the batch admitted once, bad items answered in place', async () => {
    const a = envelope();
    const b = envelope();
    const r = await call('/v1/ingest/batch', {
      method: 'POST',
      body: canonicalJson({ envelopes: [a, b, a, 'not an envelope', envelope({ event_type: 'nope' })] }),
    });
    expect(r.status).toBe(200);
    const results = r.body.results as Array<Record<string, unknown>>;
    expect(results.map((x) => x.index)).toEqual([0, 1, 2, 3, 4]);
    expect(results[3]).toMatchObject({ error: 'NOT_AN_ENVELOPE' });
    expect(results[4]).toMatchObject({ decision: 'QUARANTINE', reason_codes: ['SCHEMA_POLICY_MISSING'] });
    const decisionsOfA = [
      results[0]?.decision ?? results[0]?.error,
      results[2]?.decision ?? results[2]?.error,
    ];
    expect(decisionsOfA).toEqual(['ADMIT', 'DUPLICATE']);
    expect(await recordsFor('fp.bus.traffic.fraud.v1', a.event_id)).toHaveLength(1);
    expect(await recordsFor('fp.bus.traffic.fraud.v1', b.event_id)).toHaveLength(1);
    // The receipts of the batch's first copies share one segment object (the in-batch duplicate is settled in a
    // second round, alone); every receipt_ref reads back (an S3 range GET for a segment line) its receipt.
    const decided = results.filter((x) => typeof x.receipt_ref === 'string');
    const segmentOf = (x: Record<string, unknown> | undefined) => String(x?.receipt_ref).split('#')[0];
    expect(new Set([results[0], results[1], results[4]].map(segmentOf)).size).toBe(1);
    expect(String(results[0]?.receipt_ref)).toMatch(
      /\/ig\/receipts\/segments\/[0-9a-f]{64}\.jsonl#bytes=\d+-\d+$/,
    );
    for (const x of decided) {
      const text = await readEvidenceRef(s3, String(x.receipt_ref));
      expect(IngestionReceipt.parse(JSON.parse(text ?? '{}')).receipt_id).toBe(x.receipt_id);
    }
    const looked = await call(`/v1/ops/lookup?receipt_id=${String(decided[1]?.receipt_id)}`, {});
    expect(looked.body.receipt_ref).toBe(decided[1]?.receipt_ref);
    const tooMany = await call('/v1/ingest/batch', {
      method: 'POST',
      body: canonicalJson({ envelopes: Array.from({ length: 501 }, () => ({})) }),
    });
    expect(tooMany).toMatchObject({ status: 400, body: { error: 'BATCH_SIZE_INVALID' } });
  });

  it('§9.14 with the outbox: a bus failure is 503 PUBLISH_PENDING_RETRY, repeated ones turn health RED, and once the bus is back every kept event reaches it once', async () => {
    const kept = [envelope(), envelope(), envelope()];
    await stackDown(stackConfig(env), () => undefined, ['kinesis']);
    for (const e of kept) {
      const r = await push(e);
      expect(r.status).toBe(503);
      expect(['PUBLISH_PENDING_RETRY', 'IG_UNHEALTHY']).toContain(r.body.error);
    }
    const refused = await push(envelope());
    expect(refused).toMatchObject({ status: 503, body: { error: 'IG_UNHEALTHY' } });
    expect((await call('/v1/ops/health')).body).toMatchObject({ state: 'RED' });

    await stackUp(stackConfig(env), () => undefined);
    // Health is cached for its probe interval (1 s in tests): push until intake resumes.
    const fresh = envelope();
    let answer = await push(fresh);
    for (let i = 0; i < 40 && answer.status === 503; i++) {
      await new Promise((r) => setTimeout(r, 250));
      answer = await push(fresh);
    }
    expect(answer.body.decision).toBe('ADMIT');
    for (const e of kept) {
      const again = await push(e);
      expect(['ADMIT', 'DUPLICATE']).toContain(again.body.decision);
      expect(await recordsFor('fp.bus.traffic.fraud.v1', e.event_id)).toHaveLength(1);
    }
  }, 120_000);

  it('§9.15 rate limit on the Lambda: with IG_PUSH_RATE_LIMIT_PER_MINUTE=1 the second push is 429 RATE_LIMITED', async () => {
    // The Lambda part reads the limit at start (the functions' environment): restart it with a limit of 1.
    process.env.IG_PUSH_RATE_LIMIT_PER_MINUTE = '1';
    await stackDown(stackConfig(env), () => undefined, ['lambda']);
    await stackUp(stackConfig(env), () => undefined);
    const first = await push(envelope());
    expect(first.status).toBe(200);
    const second = await push(envelope());
    expect(second).toMatchObject({ status: 429, body: { error: 'RATE_LIMITED' } });
    // Health and lookup are not pushes.
    expect((await call('/v1/ops/health')).status).toBe(200);
  }, 300_000);
});
