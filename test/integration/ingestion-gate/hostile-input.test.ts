import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { stackDown, stackUp } from '../../../local/stack.ts';
import { stackConfig } from '../../../local/stack-config.ts';
import { readStream } from '../../support/bus.ts';
import { clientsFor } from '../../support/clients.ts';
import { trafficEnvelope } from '../../support/envelopes.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * The gate under the pushes of issue 12's probe (an attacker or a broken producer), on the local cloud: nothing a
 * request carries can write outside its run's folder, answer a 500, turn health RED, leak the API key into
 * evidence, or push an event type its principal may not; Postgres going away is a 503 and health mends itself.
 */

const { state, env } = inject('stack');
const { kinesis, s3 } = clientsFor(state);
const BASE = state.endpoints.http;
const WSP_KEY = 'local-parity-wsp';
const CASE_TRIGGER_KEY = 'local-parity-case-trigger';
const PRID = 'platform_20260404T000000Z';
const BUCKET = 'fraud-platform';
let n = 0;

function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return trafficEnvelope(sha256Hex(`hostile-${n}-${Date.now()}`), PRID, 7_000_000 + n, overrides);
}

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
}

async function call(
  path: string,
  init: { method?: string; body?: string; key?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${BASE}${path}`, {
    method: init.method ?? 'GET',
    body: init.body,
    headers: { 'content-type': 'application/json', 'x-ig-api-key': init.key ?? WSP_KEY },
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (parseJsonLossless(text) as Record<string, unknown>) : {} };
}

/** JSON.stringify writes lone surrogates and NUL as \u escapes, so the body says exactly what is meant. */
const push = (e: unknown, key?: string) =>
  call('/v1/ingest/push', { method: 'POST', body: JSON.stringify(e), key });
const health = async () => (await call('/v1/ops/health')).body;

const receiptOf = (a: Answer) =>
  a.body.receipt as {
    receipt_id: string;
    evidence_refs?: { ref: string }[];
    actor?: unknown;
    decision: string;
  };

/** The copies of an event on a stream (by its event_id). */
async function busRecordsFor(stream: string, eventId: string) {
  return (await readStream(kinesis, stream)).filter((r) => r.data.includes(`"event_id":"${eventId}"`));
}

async function objectText(ref: string): Promise<string> {
  const key = ref.replace(`s3://${BUCKET}/`, '').split('#')[0] as string;
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

describe('the Ingestion Gate under hostile input (issue 12, findings 1-7)', () => {
  it('1-2: a platform_run_id S3 cannot take or that climbs out of its folder is quarantined under _no_platform_run; health stays GREEN', async () => {
    const hostile = [
      `${PRID}\u0000`,
      'x'.repeat(300),
      `/${PRID}`,
      '../../../x',
      `${PRID}/ig/receipts`,
      'a/'.repeat(600),
    ];
    for (const platform_run_id of hostile) {
      const r = await push(envelope({ platform_run_id }));
      expect(r.status, JSON.stringify(platform_run_id).slice(0, 40)).toBe(200);
      expect(r.body.decision).toBe('QUARANTINE');
      const receipt = receiptOf(r);
      const ref = receipt.evidence_refs?.[0]?.ref ?? '';
      expect(ref.startsWith(`s3://${BUCKET}/_no_platform_run/ig/quarantine/`)).toBe(true);
      expect(r.body.receipt_ref).toMatch(new RegExp(`^s3://${BUCKET}/_no_platform_run/ig/receipts/`));
    }
    // Nothing was written under another run's folder or at the bucket root.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PRID}/` }));
    expect(listed.KeyCount ?? 0).toBe(0);
    expect(await health()).toEqual({ state: 'GREEN', reasons: [] });
    expect((await push(envelope())).body.decision).toBe('ADMIT');
  });

  it('3: evidence and answers name the principal SYSTEM::world_streamer, never the key', async () => {
    const admitted = await push(envelope());
    const quarantined = await push(envelope({ payload: { not: 'a 6B row' } }));
    for (const a of [admitted, quarantined]) {
      expect(receiptOf(a).actor).toEqual({
        actor_id: 'SYSTEM::world_streamer',
        source_type: 'SYSTEM',
        auth_mode: 'api_key',
        principal: 'world_streamer',
      });
      expect(a.text).not.toContain(WSP_KEY);
      expect(await objectText(String(a.body.receipt_ref))).not.toContain(WSP_KEY);
    }
    expect(await objectText(receiptOf(quarantined).evidence_refs?.[0]?.ref ?? '')).not.toContain(WSP_KEY);
  });

  it('4: deep nesting, an over-long or NUL event_id and lone surrogates are QUARANTINE, a bad lookup is 400; a batch answers each item in place', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 1100; i++) deep = [deep];
    const bad = [
      envelope({ trace_id: deep }),
      envelope({ event_id: 'e'.repeat(3000) }),
      envelope({ event_id: 'a\u0000b' }),
      envelope({ event_id: '\ud800X' }),
      envelope({ event_id: '\udbffX' }),
    ];
    for (const e of bad) {
      const r = await push(e);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        decision: 'QUARANTINE',
        receipt: { reason_codes: ['ENVELOPE_INVALID'] },
      });
    }
    for (const query of ['event_id=a%00b', 'receipt_id=not-hex', `dedupe_key=${'z'.repeat(64)}`]) {
      const r = await call(`/v1/ops/lookup?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.error).toBe('LOOKUP_INVALID');
    }
    const good = [envelope(), envelope()];
    const batch = await call('/v1/ingest/batch', {
      method: 'POST',
      body: JSON.stringify({ envelopes: [good[0], bad[0], bad[2], good[1]] }),
    });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ admitted: 2, quarantined: 2, retry: 0 });
    for (const e of good)
      expect(await busRecordsFor('fp.bus.traffic.fraud.v1', String(e.event_id))).toHaveLength(1);
    expect(await health()).toEqual({ state: 'GREEN', reasons: [] });
  });

  it('6: a key pushes only what its principal may (config/ingestion-gate/producer-policy.json): else 403, nothing written', async () => {
    const audit = envelope({ event_type: 'ig.audit.verify' });
    const byWsp = await push(audit);
    expect(byWsp.status).toBe(403);
    expect(byWsp.body.error).toBe('PRODUCER_NOT_AUTHORIZED');
    const traffic = envelope();
    expect((await push(traffic, CASE_TRIGGER_KEY)).status).toBe(403);
    expect((await push(envelope({ producer: 'svc:decision_fabric' }))).body.error).toBe(
      'PRODUCER_NOT_AUTHORIZED',
    );
    expect(await call(`/v1/ops/lookup?event_id=${traffic.event_id}`)).toMatchObject({
      status: 200,
      body: {},
    });
    expect(await busRecordsFor('fp.bus.traffic.fraud.v1', String(traffic.event_id))).toHaveLength(0);
    const batch = await call('/v1/ingest/batch', {
      method: 'POST',
      body: JSON.stringify({ envelopes: [envelope(), envelope({ event_type: 'decision_response' })] }),
    });
    expect(batch.body).toMatchObject({
      admitted: 1,
      results: [
        { index: 0, decision: 'ADMIT' },
        { index: 1, error: 'PRODUCER_NOT_AUTHORIZED', retryable: false },
      ],
    });
  });

  it('7: two different mismatches of one event and two bodies without event_id get records of their own', async () => {
    const first = envelope();
    expect((await push(first)).body.decision).toBe('ADMIT');
    const mismatches = [1, 2].map((k) => ({
      ...first,
      payload: { ...(first.payload as object), amount: k },
    }));
    const records = new Set<string>();
    for (const m of mismatches) {
      const r = await push(m);
      expect(r.body).toMatchObject({
        decision: 'QUARANTINE',
        receipt: { reason_codes: ['PAYLOAD_HASH_MISMATCH'] },
      });
      records.add(receiptOf(r).evidence_refs?.[0]?.ref ?? '');
    }
    for (const k of [1, 2]) {
      const { event_id: _dropped, ...noId } = envelope({ scenario_id: `no-id-${k}` });
      records.add(receiptOf(await push(noId)).evidence_refs?.[0]?.ref ?? '');
    }
    expect(records.size).toBe(4);
  });

  it('5: Postgres down is 503 IG_UNHEALTHY (never a 500, nothing internal), health RED; it is GREEN again by itself and each event is on the bus once', async () => {
    const kept = [envelope(), envelope(), envelope()];
    await stackDown(stackConfig(env), () => undefined, ['postgres']);
    try {
      for (const e of kept) {
        const r = await push(e);
        expect(r.status).toBe(503);
        expect(r.body.error).toBe('IG_UNHEALTHY');
        expect(r.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
      }
      expect(await health()).toMatchObject({ state: 'RED', reasons: ['OPS_DB_UNHEALTHY'] });
    } finally {
      await stackUp(stackConfig(env), () => undefined);
    }
    await eventually(
      async () => ((await health()).state === 'GREEN' ? true : undefined),
      'IG health GREEN again after Postgres came back',
      30_000,
    );
    for (const e of kept) {
      expect((await push(e)).body.decision).toBe('ADMIT');
      expect(await busRecordsFor('fp.bus.traffic.fraud.v1', String(e.event_id))).toHaveLength(1);
    }
  }, 240_000);
});
