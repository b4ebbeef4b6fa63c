import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { IngestionReceipt, parseEvidenceRef, QuarantineRecord } from '../../../lib/contracts/receipts.ts';
import {
  type Admission,
  type AdmissionResult,
  admit,
  admitMany,
  drainOutbox,
  IngestionError,
} from '../../../lib/ingestion-gate/admission.ts';
import { actor, envelope, FLOW_ID, fakes } from './admission-fakes.ts';

/** The text an evidence ref points at, from the fake object store (a whole object or a byte range of one). */
function resolve(objects: Map<string, string>, ref: string): string {
  const { key, range } = parseEvidenceRef(ref);
  const body = objects.get(key);
  if (body === undefined) throw new Error(`no object ${key}`);
  if (!range) return body.trimEnd();
  return Buffer.from(body, 'utf8')
    .subarray(range.start, range.end + 1)
    .toString('utf8');
}

const event = (i: number, overrides: Record<string, unknown> = {}) =>
  envelope({
    event_id: sha256Hex(`batch-${i}`),
    payload: { flow_id: FLOW_ID + BigInt(i), event_seq: i, amount: 1.5 },
    ...overrides,
  });

const decisionOf = (r: AdmissionResult | undefined) => (r instanceof IngestionError ? r.code : r?.decision);

describe('IG admission of a batch (one reserve, one PutRecords, one segment, one commit)', () => {
  it('answers every item in order: new events ADMIT, a copy inside the batch and a re-push DUPLICATE, bad items QUARANTINE', async () => {
    const f = fakes();
    await admit(event(0), actor, f.ctx);
    const calls = { ...f.calls };
    const bodies = [
      event(1),
      event(2),
      event(1),
      event(0),
      event(3, { scenario_run_id: undefined, run_id: undefined }),
      event(0, { payload: { flow_id: FLOW_ID, event_seq: 0, amount: 99 } }),
      ...Array.from({ length: 20 }, (_, i) => event(10 + i)),
    ];
    const out = await admitMany(bodies, actor, f.ctx);
    expect(out.map(decisionOf)).toEqual([
      'ADMIT',
      'ADMIT',
      'DUPLICATE',
      'DUPLICATE',
      'QUARANTINE',
      'QUARANTINE',
      ...Array.from({ length: 20 }, () => 'ADMIT'),
    ]);
    expect(f.records).toHaveLength(1 + 22);
    // The copy inside the batch names the record its first copy put on the bus.
    const [first, , copy] = out as Admission[];
    expect(copy?.receipt.eb_ref).toEqual(first?.receipt.eb_ref);
    // One PutRecords for the batch's new events; one reserve and one commit, and one more of each for the
    // copies of events already in the batch (they are answered once their first copy is settled).
    expect(f.calls.publish - calls.publish).toBe(1);
    expect(f.calls.reserve - calls.reserve).toBe(2);
    expect(f.calls.commit - calls.commit).toBe(2);
  });

  it('writes the receipts of a batch in one segment; each receipt ref is the byte range of its receipt', async () => {
    const f = fakes();
    const out = (await admitMany(
      [event(1), event(2, { scenario_run_id: undefined, run_id: undefined }), event(3)],
      actor,
      f.ctx,
    )) as { receipt: IngestionReceipt; receipt_ref: string }[];
    const segments = [...f.objects.keys()].filter((k) => k.includes('/ig/receipts/segments/'));
    expect(segments).toHaveLength(1);
    expect(segments[0]).toMatch(/platform_20260301T000000Z\/ig\/receipts\/segments\/[0-9a-f]{64}\.jsonl$/);
    for (const r of out) {
      expect(r.receipt_ref).toMatch(/#bytes=\d+-\d+$/);
      const text = resolve(f.objects, r.receipt_ref);
      expect(IngestionReceipt.parse(JSON.parse(text))).toEqual(JSON.parse(JSON.stringify(r.receipt)));
    }
    // The quarantine record is an object of its own (the only one of its run and kind); the receipt points at it.
    const quarantine = out[1]?.receipt.evidence_refs?.[0];
    expect(quarantine?.kind).toBe('quarantine_record');
    expect(
      QuarantineRecord.parse(JSON.parse(resolve(f.objects, quarantine?.ref ?? ''))).reason_codes,
    ).toEqual(['PINS_MISSING']);
    // The index rows carry the same refs, and the admission rows the ADMIT receipts' refs.
    expect(f.receipts.map((r) => r.receipt_ref).sort()).toEqual(out.map((r) => r.receipt_ref).sort());
    for (const r of [out[0], out[2]])
      expect(f.rows.get(r?.receipt.dedupe_key ?? '')?.receipt_ref).toBe(r?.receipt_ref);
  });

  it('a record the bus refuses stays in the outbox (PUBLISH_PENDING_RETRY) while the others are admitted', async () => {
    const refused = sha256Hex('batch-2');
    const f = fakes({ failRecord: (data) => data.includes(refused) });
    const out = await admitMany([event(1), event(2), event(3)], actor, f.ctx);
    expect(out.map(decisionOf)).toEqual(['ADMIT', 'PUBLISH_PENDING_RETRY', 'ADMIT']);
    expect([...f.rows.values()].filter((r) => r.state === 'PUBLISH_PENDING')).toHaveLength(1);
    expect(f.receipts).toHaveLength(2);
    const g = { ...f, ctx: { ...f.ctx, bus: fakes().ctx.bus } };
    // The drain (with a bus that accepts it now) publishes it once.
    const drained = await drainOutbox(g.ctx, actor);
    expect(drained.map((d) => d.decision)).toEqual(['ADMIT']);
    expect((await admit(event(2), actor, f.ctx)).decision).toBe('DUPLICATE');
  });

  it('RED health refuses the whole batch before anything is written', async () => {
    const f = fakes();
    f.setHealth({ state: 'RED', reasons: ['OPS_DB_UNHEALTHY'] });
    await expect(admitMany([event(1), event(2)], actor, f.ctx)).rejects.toMatchObject({
      code: 'IG_UNHEALTHY',
    });
    expect(f.rows.size + f.objects.size + f.records.length).toBe(0);
  });

  it('property: any sequence of batches with repeats and bus failures leaves each event on the bus exactly once, every item answered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 12 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 0, max: 3 }),
        async (batches, failPublishes) => {
          const f = fakes({ failPublishes });
          const seen = new Set<number>();
          for (const batch of batches) {
            const out = await admitMany(
              batch.map((i) => event(i)),
              actor,
              f.ctx,
            );
            expect(out).toHaveLength(batch.length);
            for (const r of out)
              expect(['ADMIT', 'DUPLICATE', 'PUBLISH_PENDING_RETRY']).toContain(decisionOf(r));
            for (const i of batch) seen.add(i);
          }
          // The outbox drain runs until the bus has taken everything (failures are finite).
          for (let i = 0; i < 5 && [...f.rows.values()].some((r) => r.state === 'PUBLISH_PENDING'); i++)
            await drainOutbox(f.ctx, actor);
          const ids = f.records.map((r) => (JSON.parse(r.data) as { event_id: string }).event_id);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids.sort()).toEqual([...seen].map((i) => sha256Hex(`batch-${i}`)).sort());
          expect(f.receipts.filter((r) => r.decision === 'ADMIT')).toHaveLength(seen.size);
        },
      ),
      { numRuns: 60 },
    );
  });
});
