import type { z } from 'zod';
import { canonicalJson } from '../contracts/canonical-json.ts';
import {
  duplicateReceiptId,
  quarantineId,
  quarantineReceiptId,
  receiptId,
  sha256Hex,
} from '../contracts/identity.ts';
import type {
  Actor as ActorSchema,
  EbRef,
  IngestionReceipt,
  QuarantineRecord,
} from '../contracts/receipts.ts';
import type { AdmissionContext, AdmissionRow, AdmittedEntry, Envelope } from './ports.ts';
import {
  type EnvelopeLike,
  envelopeSnapshot,
  quarantineBodyDigest,
  quarantineIdentity,
  runPrefix,
} from './quarantine-evidence.ts';

/**
 * The outcomes of one admission call, written together (§5.4, §5.5, §5.8). Quarantine records, then receipts,
 * go to the evidence store: a document written alone is an object of its own at its id
 * (`<run>/ig/receipts/<receipt_id>.json`), documents written together share one segment object per run and kind
 * (`<run>/ig/receipts/segments/<sha256>.jsonl`, one canonical JSON per line) and each is addressed by the byte
 * range of its line (`#bytes=START-END`). Then one store commit marks the published rows ADMITTED and indexes
 * every receipt and quarantine record, so an index row always points at evidence that exists. A crash between
 * the evidence and the commit leaves the published rows PUBLISH_PENDING: the outbox publishes them again (a
 * duplicate on the bus, which consumers drop by event_id) and an unreferenced segment stays behind.
 */

export type Actor = z.infer<typeof ActorSchema>;

export interface Admission {
  decision: 'ADMIT' | 'DUPLICATE' | 'QUARANTINE';
  receipt: IngestionReceipt;
  receipt_ref: string;
}

const prune = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;

function microsZ(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface Doc {
  prefix: string;
  id: string;
  text: string;
}

/** Lays documents out as objects: alone at their id, or together in a content-addressed segment per run. */
function layout(
  docs: readonly Doc[],
  kind: 'receipts' | 'quarantine',
  refOf: (key: string) => string,
): { refs: string[]; objects: { key: string; body: string }[] } {
  const refs = new Array<string>(docs.length);
  const objects: { key: string; body: string }[] = [];
  const byPrefix = new Map<string, number[]>();
  docs.forEach((d, i) => {
    const group = byPrefix.get(d.prefix);
    if (group) group.push(i);
    else byPrefix.set(d.prefix, [i]);
  });
  for (const [prefix, indexes] of byPrefix) {
    if (indexes.length === 1) {
      const doc = docs[indexes[0] as number] as Doc;
      const key = `${prefix}/ig/${kind}/${doc.id}.json`;
      objects.push({ key, body: `${doc.text}\n` });
      refs[indexes[0] as number] = refOf(key);
      continue;
    }
    let offset = 0;
    const spans: Array<[number, number]> = [];
    for (const i of indexes) {
      const length = Buffer.byteLength((docs[i] as Doc).text, 'utf8');
      spans.push([offset, offset + length - 1]);
      offset += length + 1;
    }
    const body = `${indexes.map((i) => (docs[i] as Doc).text).join('\n')}\n`;
    const key = `${prefix}/ig/${kind}/segments/${sha256Hex(body)}.jsonl`;
    objects.push({ key, body });
    indexes.forEach((i, n) => {
      const [start, end] = spans[n] as [number, number];
      refs[i] = `${refOf(key)}#bytes=${start}-${end}`;
    });
  }
  return { refs, objects };
}

interface Entry {
  index: number;
  env: EnvelopeLike;
  /** Builds the receipt once the quarantine record's ref (if any) is known. */
  receipt: (quarantineRef: string | undefined) => IngestionReceipt;
  quarantine?: QuarantineRecord;
  admitted?: Omit<AdmittedEntry, 'receipt_ref'>;
  dedupeKey?: string | null;
  /** The run and event the index rows name: only values that passed their schema. */
  platformRunId: string | undefined;
  eventId: string | undefined;
}

/** The entry of an envelope that passed its checks: its own run and event ids name the index rows. */
const validEntry = (index: number, env: Envelope, row: AdmissionRow, receipt: IngestionReceipt): Entry => ({
  index,
  env,
  dedupeKey: row.dedupe_key,
  platformRunId: env.platform_run_id,
  eventId: env.event_id,
  receipt: () => receipt,
});

export class OutcomeLedger {
  private readonly entries: Entry[] = [];

  constructor(
    private readonly ctx: AdmissionContext,
    private readonly actor: Actor,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  private stamp() {
    const { policy } = this.ctx;
    return {
      actor: this.actor,
      service_release_id: policy.serviceReleaseId,
      environment: policy.environment,
      policy_rev: { policy_id: 'ig_policy', revision: policy.revision, content_digest: policy.contentDigest },
      run_config_digest: policy.contentDigest,
    };
  }

  private base(env: Envelope, row: AdmissionRow, decision: 'ADMIT' | 'DUPLICATE') {
    const { pins } = quarantineIdentity(env);
    return {
      receipt_id:
        decision === 'DUPLICATE'
          ? duplicateReceiptId(env.event_id, this.actor.actor_id)
          : receiptId(decision, env.event_id),
      decision,
      event_id: env.event_id,
      event_type: env.event_type,
      event_class: row.event_class,
      ts_utc: env.ts_utc,
      manifest_fingerprint: env.manifest_fingerprint,
      platform_run_id: env.platform_run_id,
      dedupe_key: row.dedupe_key,
      pins: pins as IngestionReceipt['pins'],
      scenario_run_id: (pins.scenario_run_id as string | undefined) ?? undefined,
      payload_hash: { algo: 'sha256' as const, hex: row.payload_hash },
      schema_version: env.schema_version,
      producer: env.producer,
      ...this.stamp(),
    };
  }

  /**
   * §5.5: a quarantine record (without the payload) and a QUARANTINE receipt pointing at it. `body` is what was
   * pushed (for the record's id); by default the envelope itself.
   */
  quarantine(index: number, env: EnvelopeLike, code: string, detail: string, body: EnvelopeLike = env): void {
    const id = quarantineIdentity(env);
    const stamp = this.stamp();
    const record: QuarantineRecord = prune({
      quarantine_id: quarantineId({
        platformRunId: id.platformRunId,
        eventId: id.eventId,
        bodyDigest: quarantineBodyDigest(body),
      }),
      received_at_utc: this.ctx.now().toISOString(),
      decision: 'QUARANTINE' as const,
      reason_codes: [code],
      detail,
      manifest_fingerprint: id.manifestFingerprint,
      pins: id.pins as QuarantineRecord['pins'],
      envelope: envelopeSnapshot(env),
      actor: stamp.actor,
      service_release_id: stamp.service_release_id,
      environment: stamp.environment,
      policy_rev: stamp.policy_rev,
    });
    const tsUtc = id.tsUtc ?? microsZ(this.ctx.now());
    this.entries.push({
      index,
      env,
      quarantine: record,
      dedupeKey: null,
      platformRunId: id.platformRunId,
      eventId: id.eventId,
      receipt: (ref) =>
        prune({
          receipt_id: quarantineReceiptId(record.quarantine_id),
          decision: 'QUARANTINE' as const,
          event_id: id.eventId ?? 'unknown',
          event_type: id.eventType ?? 'unknown',
          ts_utc: tsUtc,
          manifest_fingerprint: record.manifest_fingerprint,
          platform_run_id: id.platformRunId,
          pins: record.pins,
          reason_codes: [code],
          evidence_refs: ref ? [{ kind: 'quarantine_record', ref }] : undefined,
          producer: id.producer,
          ...stamp,
        }),
    });
  }

  duplicate(index: number, env: Envelope, row: AdmissionRow): void {
    const receipt: IngestionReceipt = prune({
      ...this.base(env, row, 'DUPLICATE'),
      eb_ref: row.eb_ref ?? undefined,
      admitted_at_utc: row.admitted_at_utc ?? undefined,
      reason_codes: ['DUPLICATE'],
      evidence_refs: row.receipt_ref ? [{ kind: 'receipt_ref', ref: row.receipt_ref }] : undefined,
    });
    this.entries.push(validEntry(index, env, row, receipt));
  }

  admitted(index: number, env: Envelope, row: AdmissionRow, ebRef: EbRef): void {
    const receipt: IngestionReceipt = prune({
      ...this.base(env, row, 'ADMIT'),
      partitioning_profile_id: row.partitioning_profile_id,
      partition_key: row.partition_key,
      eb_ref: ebRef,
      admitted_at_utc: ebRef.published_at_utc,
    });
    this.entries.push({
      ...validEntry(index, env, row, receipt),
      admitted: { dedupe_key: row.dedupe_key, eb_ref: ebRef, admitted_at_utc: ebRef.published_at_utc ?? '' },
    });
  }

  /** Writes the evidence, then commits; answers each entry's admission by its index. */
  async commit(): Promise<Map<number, Admission>> {
    const { ctx } = this;
    const refOf = ctx.evidence.refOf;
    const quarantined = this.entries.filter((e) => e.quarantine);
    const records = layout(
      quarantined.map((e) => ({
        prefix: runPrefix(e.env),
        id: e.quarantine?.quarantine_id ?? '',
        text: canonicalJson(e.quarantine),
      })),
      'quarantine',
      refOf,
    );
    const recordRef = new Map(quarantined.map((e, i) => [e, records.refs[i] as string]));
    const receipts = this.entries.map((e) => e.receipt(recordRef.get(e)));
    const docs = layout(
      this.entries.map((e, i) => ({
        prefix: runPrefix(e.env),
        id: (receipts[i] as IngestionReceipt).receipt_id,
        text: canonicalJson(receipts[i]),
      })),
      'receipts',
      refOf,
    );
    await Promise.all([...records.objects, ...docs.objects].map((o) => ctx.evidence.putOnce(o.key, o.body)));
    const createdAt = ctx.now().toISOString();
    await ctx.store.commit({
      admitted: this.entries.flatMap((e, i) =>
        e.admitted ? [{ ...e.admitted, receipt_ref: docs.refs[i] as string }] : [],
      ),
      receipts: this.entries.map((e, i) => {
        const r = receipts[i] as IngestionReceipt;
        return {
          receipt_id: r.receipt_id,
          platform_run_id: e.platformRunId ?? '',
          event_id: r.event_id,
          event_type: r.event_type,
          dedupe_key: e.dedupeKey ?? null,
          decision: r.decision,
          eb_ref: r.eb_ref ?? null,
          receipt_ref: docs.refs[i] as string,
          reason_codes: r.reason_codes ?? [],
          created_at_utc: createdAt,
        };
      }),
      quarantines: quarantined.map((e, i) => ({
        quarantine_id: e.quarantine?.quarantine_id ?? '',
        platform_run_id: e.platformRunId ?? '',
        event_id: e.eventId ?? null,
        reason_codes: e.quarantine?.reason_codes ?? [],
        evidence_ref: records.refs[i] as string,
        created_at_utc: createdAt,
      })),
    });
    return new Map(
      this.entries.map((e, i) => [
        e.index,
        {
          decision: (receipts[i] as IngestionReceipt).decision,
          receipt: receipts[i] as IngestionReceipt,
          receipt_ref: docs.refs[i] as string,
        },
      ]),
    );
  }
}
