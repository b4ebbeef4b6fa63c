import { describe, expect, it } from 'vitest';
import { parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { dedupeKey, payloadHash, receiptId, sha256Hex } from '../../../lib/contracts/identity.ts';
import { IngestionReceipt, QuarantineRecord } from '../../../lib/contracts/receipts.ts';
import { admit, drainOutbox, IngestionError, shardNumber } from '../../../lib/ingestion-gate/admission.ts';
import { actor, envelope, FLOW_ID, fakes } from './admission-fakes.ts';

describe('IG admission (§5.3)', () => {
  it('admits once to the traffic.fraud stream with the flow_id partition key, then answers DUPLICATE with the same eb_ref', async () => {
    const f = fakes();
    const first = await admit(envelope(), actor, f.ctx);
    expect(first.decision).toBe('ADMIT');
    expect(IngestionReceipt.safeParse(first.receipt).success).toBe(true);
    expect(f.records).toHaveLength(1);
    expect(f.records[0]?.stream).toBe('fp.bus.traffic.fraud.v1');
    expect(f.records[0]?.partitionKey).toBe(sha256Hex(String(FLOW_ID)));
    // The record is the envelope, with the 64-bit id exact.
    expect(
      (parseJsonLossless(f.records[0]?.data ?? '') as { payload: { flow_id: bigint } }).payload.flow_id,
    ).toBe(FLOW_ID);
    expect(first.receipt.eb_ref).toMatchObject({
      topic: 'fp.bus.traffic.fraud.v1',
      partition: 1,
      offset_kind: 'kinesis_sequence',
    });
    expect(first.receipt.receipt_id).toBe(receiptId('ADMIT', 'e'.repeat(64)));
    expect(first.receipt_ref).toBe(
      `s3://fraud-platform/platform_20260301T000000Z/ig/receipts/${first.receipt.receipt_id}.json`,
    );
    expect(first.receipt.dedupe_key).toBe(
      dedupeKey('platform_20260301T000000Z', 'traffic_fraud', 'e'.repeat(64)),
    );

    for (let i = 0; i < 5; i++) {
      const again = await admit(envelope(), actor, f.ctx);
      expect(again.decision).toBe('DUPLICATE');
      expect(again.receipt.eb_ref).toEqual(first.receipt.eb_ref);
      expect(again.receipt.evidence_refs).toEqual([{ kind: 'receipt_ref', ref: first.receipt_ref }]);
    }
    expect(f.records).toHaveLength(1);
    // The index keeps one row per receipt id (Postgres: on conflict do nothing).
    expect(f.receipts.map((r) => r.decision)).toEqual(['ADMIT', 'DUPLICATE']);
    // Repeat duplicates reuse one receipt object.
    expect([...f.objects.keys()].filter((k) => k.includes('/ig/receipts/'))).toHaveLength(2);
  });

  it.each([
    [
      'PAYLOAD_HASH_MISMATCH',
      (e: Record<string, unknown>) => ({ ...e, payload: { flow_id: FLOW_ID, event_seq: 0, amount: 99 } }),
      true,
    ],
    ['PINS_MISSING', (e: Record<string, unknown>) => ({ ...e, scenario_run_id: undefined }), false],
    [
      'SCHEMA_FAIL',
      (e: Record<string, unknown>) => ({ ...e, payload: { flow_id: 1, extra_column: 1 } }),
      false,
    ],
    [
      'SCHEMA_POLICY_MISSING',
      (e: Record<string, unknown>) => ({ ...e, event_type: 'not_a_known_type' }),
      false,
    ],
    ['ENVELOPE_INVALID', (e: Record<string, unknown>) => ({ ...e, ts_utc: 'yesterday' }), false],
    [
      'SCHEMA_VERSION_REQUIRED',
      (e: Record<string, unknown>) => ({ ...e, event_type: 'decision_response', run_id: undefined }),
      false,
    ],
  ])(
    'quarantines %s with a record, a QUARANTINE receipt and nothing on the bus',
    async (code, change, admitFirst) => {
      const f = fakes();
      if (admitFirst) await admit(envelope(), actor, f.ctx);
      const before = f.records.length;
      const e = change(envelope()) as Record<string, unknown>;
      for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
      const out = await admit(e, actor, f.ctx);
      expect(out.decision).toBe('QUARANTINE');
      expect(out.receipt.reason_codes).toEqual([code]);
      expect(IngestionReceipt.safeParse(out.receipt).success).toBe(true);
      expect(f.records).toHaveLength(before);
      const recordKey = [...f.objects.keys()].find((k) => k.includes('/ig/quarantine/'));
      const record = JSON.parse(f.objects.get(recordKey ?? '') ?? '{}');
      expect(QuarantineRecord.safeParse(record).success).toBe(true);
      expect(record.reason_codes).toEqual([code]);
      expect(record.envelope.payload).toBeUndefined();
      expect(record.detail).toBeTruthy();
      expect(out.receipt.evidence_refs?.[0]?.kind).toBe('quarantine_record');
      expect(f.quarantines).toHaveLength(1);
    },
  );

  it('a body that is not an object is quarantined ENVELOPE_INVALID under no run', async () => {
    const f = fakes();
    const out = await admit([1, 2], actor, f.ctx);
    expect(out.decision).toBe('QUARANTINE');
    expect(out.receipt.event_id).toBe('unknown');
    expect(out.receipt_ref).toContain('/_no_platform_run/ig/receipts/');
  });

  it('RED health refuses intake with IG_UNHEALTHY and writes nothing; AMBER admits unless deny-on-amber', async () => {
    const f = fakes();
    f.setHealth({ state: 'RED', reasons: ['BUS_UNHEALTHY'] });
    await expect(admit(envelope(), actor, f.ctx)).rejects.toMatchObject({ code: 'IG_UNHEALTHY' });
    expect(f.objects.size + f.rows.size).toBe(0);
    f.setHealth({ state: 'AMBER', reasons: ['BUS_HEALTH_UNKNOWN'] });
    expect((await admit(envelope(), actor, f.ctx)).decision).toBe('ADMIT');
    f.ctx.policy.denyOnAmber = true;
    await expect(admit(envelope({ event_id: 'f'.repeat(64) }), actor, f.ctx)).rejects.toThrow(IngestionError);
  });

  it('a failed publish keeps the event in the outbox: the caller retries, the next push publishes it, exactly once', async () => {
    const f = fakes({ failPublishes: 1 });
    await expect(admit(envelope(), actor, f.ctx)).rejects.toMatchObject({ code: 'PUBLISH_PENDING_RETRY' });
    const row = f.rows.get(dedupeKey('platform_20260301T000000Z', 'traffic_fraud', 'e'.repeat(64)));
    expect(row).toMatchObject({ state: 'PUBLISH_PENDING', publish_attempts: 1 });
    expect(row?.last_error).toContain('ProvisionedThroughput');
    expect(f.records).toHaveLength(0);
    const retried = await admit(envelope(), actor, f.ctx);
    expect(retried.decision).toBe('ADMIT');
    expect((await admit(envelope(), actor, f.ctx)).decision).toBe('DUPLICATE');
    expect(f.records).toHaveLength(1);
  });

  it('the outbox drain publishes what no push came back for', async () => {
    const f = fakes({ failPublishes: 1 });
    await expect(admit(envelope(), actor, f.ctx)).rejects.toThrow(IngestionError);
    const drained = await drainOutbox(f.ctx, { actor_id: 'SYSTEM::ig-outbox', source_type: 'SYSTEM' });
    expect(drained.map((d) => d.decision)).toEqual(['ADMIT']);
    expect(f.records).toHaveLength(1);
    expect(await drainOutbox(f.ctx, actor)).toEqual([]);
    expect((await admit(envelope(), actor, f.ctx)).decision).toBe('DUPLICATE');
  });

  it('a commit that fails after the publish: the event is finished later (push or drain) without a second copy on the bus', async () => {
    for (const finish of ['push', 'drain'] as const) {
      const f = fakes({ failCommits: 1 });
      await expect(admit(envelope(), actor, f.ctx)).rejects.toThrow('connection terminated');
      expect(f.records).toHaveLength(1);
      f.tick(30_000); // the failed publisher's claim lapses
      const finished =
        finish === 'push'
          ? await admit(envelope(), actor, f.ctx)
          : (await drainOutbox(f.ctx, { actor_id: 'SYSTEM::ig-outbox', source_type: 'SYSTEM' }))[0];
      expect(finished?.decision, finish).toBe('ADMIT');
      expect(finished?.receipt.eb_ref?.offset).toBe(f.records[0]?.seq);
      expect(f.records, finish).toHaveLength(1);
      expect((await admit(envelope(), actor, f.ctx)).decision).toBe('DUPLICATE');
    }
  });

  it('a publish whose answer was lost is found on the bus by the next push or the drain, not published twice', async () => {
    for (const finish of ['push', 'drain'] as const) {
      const f = fakes({ loseAnswers: 1 });
      await expect(admit(envelope(), actor, f.ctx)).rejects.toMatchObject({ code: 'PUBLISH_PENDING_RETRY' });
      expect(f.records).toHaveLength(1); // Kinesis took it; the gate never heard
      const finished =
        finish === 'push'
          ? await admit(envelope(), actor, f.ctx)
          : (await drainOutbox(f.ctx, { actor_id: 'SYSTEM::ig-outbox', source_type: 'SYSTEM' }))[0];
      expect(finished?.decision, finish).toBe('ADMIT');
      expect(finished?.receipt.eb_ref?.offset, finish).toBe(f.records[0]?.seq);
      expect(f.records, finish).toHaveLength(1);
    }
  });

  it('a DUPLICATE receipt names its pusher: two pushers, two receipts; the same pusher again, the same receipt', async () => {
    const f = fakes();
    await admit(envelope(), actor, f.ctx);
    const other = { ...actor, actor_id: 'SYSTEM::replay_tool', principal: 'replay_tool' };
    const byFirst = await admit(envelope(), actor, f.ctx);
    const byOther = await admit(envelope(), other, f.ctx);
    expect(byFirst.receipt.actor?.actor_id).toBe(actor.actor_id);
    expect(byOther.receipt.actor?.actor_id).toBe('SYSTEM::replay_tool');
    expect(byOther.receipt.receipt_id).not.toBe(byFirst.receipt.receipt_id);
    const stored = f.objects.get(String(byOther.receipt_ref).replace('s3://fraud-platform/', ''));
    expect(JSON.parse(stored ?? '{}').actor.actor_id).toBe('SYSTEM::replay_tool');
    expect((await admit(envelope(), actor, f.ctx)).receipt.receipt_id).toBe(byFirst.receipt.receipt_id);
  });

  it('a push racing an in-flight publish waits, then answers PUBLISH_IN_FLIGHT_RETRY without publishing', async () => {
    const f = fakes();
    const key = dedupeKey('platform_20260301T000000Z', 'traffic_fraud', 'e'.repeat(64));
    const e = envelope();
    await f.ctx.store.reserveMany(
      [
        {
          dedupe_key: key,
          state: 'PUBLISH_PENDING',
          platform_run_id: 'platform_20260301T000000Z',
          event_class: 'traffic_fraud',
          event_id: e.event_id,
          event_type: e.event_type,
          payload_hash: payloadHash(e),
          stream: 'fp.bus.traffic.fraud.v1',
          partition_key: 'k',
          partitioning_profile_id: 'ig.partitioning.v0.traffic.fraud',
          record: '{}',
          publish_attempts: 0,
          last_error: null,
          eb_ref: null,
          receipt_ref: null,
          admitted_at_utc: null,
        },
      ],
      new Date(Date.parse('2026-03-01T00:01:00Z')),
    );
    await expect(admit(e, actor, f.ctx)).rejects.toMatchObject({ code: 'PUBLISH_IN_FLIGHT_RETRY' });
    expect(f.records).toHaveLength(0);
  });

  it('shard ids map to their number', () => {
    expect(shardNumber('shardId-000000000003')).toBe(3);
    expect(shardNumber('weird')).toBe(0);
  });
});
