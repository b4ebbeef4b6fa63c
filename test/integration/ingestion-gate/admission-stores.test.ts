import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  kinesisEventBus,
  postgresAdmissionStore,
  s3EvidenceStore,
} from '../../../lib/adapters/ingestion-gate-stores.ts';
import { createPool } from '../../../lib/adapters/postgres/pool.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import {
  type Actor,
  admit,
  admitMany,
  drainOutbox,
  IngestionError,
} from '../../../lib/ingestion-gate/admission.ts';
import type { AdmissionContext, EventBus } from '../../../lib/ingestion-gate/ports.ts';
import { clientsFor } from '../../support/clients.ts';

/** The IG admission core on the real parts: Postgres (dedupe authority + outbox), kinesalite, the S3 emulator. */

const { state } = inject('stack');
const { s3, kinesis } = clientsFor(state);
const pool = createPool({ connectionString: state.databaseUrl });
afterAll(async () => {
  await pool.end();
});

const actor: Actor = { actor_id: 'SYSTEM::local-parity-wsp', source_type: 'SYSTEM', auth_mode: 'api_key' };
const PRID = 'platform_20260302T000000Z';
let counter = 0;

function envelope(overrides: Record<string, unknown> = {}) {
  counter++;
  return {
    event_id: `${'0'.repeat(56)}${String(counter).padStart(8, '0')}`,
    event_type: 'arrival_events_5B',
    ts_utc: '2026-03-08T00:01:03.106979Z',
    manifest_fingerprint: 'a'.repeat(64),
    parameter_hash: 'b'.repeat(64),
    seed: 42,
    scenario_id: 'baseline_v1',
    run_id: '1'.repeat(32),
    platform_run_id: PRID,
    scenario_run_id: '2'.repeat(32),
    payload: { merchant_id: 18_446_744_073_709_551_000n, arrival_seq: counter },
    ...overrides,
  };
}

function context(bus: EventBus = kinesisEventBus(kinesis)): AdmissionContext {
  return {
    store: postgresAdmissionStore(pool),
    bus,
    evidence: s3EvidenceStore(s3, 'fraud-platform'),
    payloads: { validate: () => [] },
    health: async () => ({ state: 'GREEN', reasons: [] }),
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    policy: {
      revision: 'local-parity-v0',
      contentDigest: 'c'.repeat(64),
      serviceReleaseId: 'dev-local',
      environment: 'local_parity',
      claimMs: 30_000,
      inFlightWaitMs: 2_000,
      denyOnAmber: false,
    },
  };
}

/** The record an eb_ref points at. */
async function recordAt(ebRef: { topic: string; partition: number; offset: string }) {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand({
      StreamName: ebRef.topic,
      ShardId: `shardId-${String(ebRef.partition).padStart(12, '0')}`,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: ebRef.offset,
    }),
  );
  const out = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
  return Buffer.from(out.Records?.[0]?.Data ?? new Uint8Array()).toString('utf8');
}

async function recordsWithEventId(stream: string, eventId: string): Promise<number> {
  let n = 0;
  for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
    let iterator: string | undefined;
    try {
      iterator = (
        await kinesis.send(
          new GetShardIteratorCommand({
            StreamName: stream,
            ShardId: shard,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
    } catch {
      continue;
    }
    for (let i = 0; i < 20 && iterator; i++) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? [])
        if (
          Buffer.from(r.Data ?? new Uint8Array())
            .toString('utf8')
            .includes(`"event_id":"${eventId}"`)
        )
          n++;
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
  }
  return n;
}

describe('IG admission on Postgres, Kinesis and S3', () => {
  it('admits once: the eb_ref points at a record holding the envelope; five re-pushes are DUPLICATE', async () => {
    const ctx = context();
    const e = envelope();
    const first = await admit(e, actor, ctx);
    expect(first.decision).toBe('ADMIT');
    const ebRef = first.receipt.eb_ref;
    expect(ebRef?.topic).toBe('fp.bus.context.arrival_events.v1');
    const data = await recordAt(ebRef ?? { topic: '', partition: 0, offset: '' });
    expect(data).toBe(canonicalJson(e));
    expect((parseJsonLossless(data) as { payload: { merchant_id: bigint } }).payload.merchant_id).toBe(
      18_446_744_073_709_551_000n,
    );
    for (let i = 0; i < 5; i++) {
      const again = await admit(e, actor, ctx);
      expect(again.decision).toBe('DUPLICATE');
      expect(again.receipt.eb_ref).toEqual(ebRef);
    }
    expect(await recordsWithEventId('fp.bus.context.arrival_events.v1', e.event_id)).toBe(1);
    const stored = await s3.send(
      new GetObjectCommand({
        Bucket: 'fraud-platform',
        Key: `${PRID}/ig/receipts/${first.receipt.receipt_id}.json`,
      }),
    );
    expect(JSON.parse((await stored.Body?.transformToString()) ?? '{}').decision).toBe('ADMIT');
    const index = await pool.query(
      'SELECT decision FROM ig_receipts WHERE event_id = $1 ORDER BY created_at_utc',
      [e.event_id],
    );
    expect(index.rows.map((r) => r.decision)).toEqual(['ADMIT', 'DUPLICATE']);
  });

  it('eight concurrent pushes of one event put it on the bus once', async () => {
    const ctx = context();
    const e = envelope();
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => admit(e, actor, ctx)));
    const decisions = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value.decision : ((o.reason as IngestionError).code ?? 'ERROR'),
    );
    expect(decisions.filter((d) => d === 'ADMIT')).toHaveLength(1);
    expect(decisions.every((d) => ['ADMIT', 'DUPLICATE', 'PUBLISH_IN_FLIGHT_RETRY'].includes(d))).toBe(true);
    expect(await recordsWithEventId('fp.bus.context.arrival_events.v1', e.event_id)).toBe(1);
  });

  it('a bus failure leaves the event in the Postgres outbox; the drain publishes it once', async () => {
    const real = kinesisEventBus(kinesis);
    let fail = true;
    const flaky: EventBus = {
      publish: (stream, records) => {
        if (fail) return Promise.resolve(records.map(() => ({ error: 'ServiceUnavailable' })));
        return real.publish(stream, records);
      },
      locate: (stream, records) => real.locate(stream, records),
    };
    const ctx = context(flaky);
    const e = envelope();
    await expect(admit(e, actor, ctx)).rejects.toMatchObject({ code: 'PUBLISH_PENDING_RETRY' });
    const row = await pool.query(
      'SELECT state, publish_attempts, last_error FROM ig_admissions WHERE event_id = $1',
      [e.event_id],
    );
    expect(row.rows[0]).toMatchObject({
      state: 'PUBLISH_PENDING',
      publish_attempts: 1,
      last_error: 'ServiceUnavailable',
    });
    fail = false;
    const drained = await drainOutbox(ctx, { actor_id: 'SYSTEM::ig-outbox', source_type: 'SYSTEM' });
    expect(drained.map((d) => d.receipt.event_id)).toContain(e.event_id);
    expect((await admit(e, actor, ctx)).decision).toBe('DUPLICATE');
    expect(await recordsWithEventId('fp.bus.context.arrival_events.v1', e.event_id)).toBe(1);
  });

  it('a publish Kinesis took but whose answer was lost is found on the stream (AT_TIMESTAMP) and finished, never published twice', async () => {
    const real = kinesisEventBus(kinesis);
    let loseAnswer = true;
    const lossy: EventBus = {
      publish: async (stream, records) => {
        const out = await real.publish(stream, records);
        if (!loseAnswer) return out;
        loseAnswer = false;
        return records.map(() => ({ error: 'TimeoutError: socket hang up' }));
      },
      locate: (stream, records) => real.locate(stream, records),
    };
    const ctx = context(lossy);
    const events = [envelope(), envelope(), envelope()];
    const first = await admitMany(events, actor, ctx);
    expect(first.every((r) => r instanceof IngestionError)).toBe(true);
    for (const e of events)
      expect(await recordsWithEventId('fp.bus.context.arrival_events.v1', e.event_id)).toBe(1);
    // One event comes back as a push; the outbox drains the others.
    const pushed = await admit(events[0] as Record<string, unknown>, actor, ctx);
    expect(pushed.decision).toBe('ADMIT');
    const drained = await drainOutbox(ctx, { actor_id: 'SYSTEM::ig-outbox', source_type: 'SYSTEM' });
    expect(drained.map((d) => d.receipt.event_id)).toEqual(
      expect.arrayContaining([events[1]?.event_id, events[2]?.event_id]),
    );
    for (const e of events)
      expect(await recordsWithEventId('fp.bus.context.arrival_events.v1', e.event_id)).toBe(1);
  });

  it('quarantines a dropped pin with a record in S3 and a row in ig_quarantines, nothing on the bus', async () => {
    const ctx = context();
    const e = envelope({ run_id: undefined });
    delete (e as Record<string, unknown>).run_id;
    const out = await admit(e, actor, ctx);
    expect(out.decision).toBe('QUARANTINE');
    expect(out.receipt.reason_codes).toEqual(['PINS_MISSING']);
    const q = await pool.query(
      'SELECT reason_codes_json, evidence_ref FROM ig_quarantines WHERE event_id = $1',
      [e.event_id],
    );
    expect(q.rows[0]?.reason_codes_json).toEqual(['PINS_MISSING']);
    const key = String(q.rows[0]?.evidence_ref).replace('s3://fraud-platform/', '');
    const record = JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: 'fraud-platform', Key: key }))
      ).Body?.transformToString()) ?? '{}',
    );
    expect(record).toMatchObject({ decision: 'QUARANTINE', detail: 'run_id' });
    expect(await recordsWithEventId('fp.bus.context.arrival_events.v1', e.event_id)).toBe(0);
  });
});
