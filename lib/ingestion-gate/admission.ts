import { parseJsonLossless } from '../contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { InvariantViolation, PlatformError } from '../errors/platform-error.ts';
import { checkEnvelope } from './admission-checks.ts';
import { type Actor, type Admission, OutcomeLedger } from './outcome-ledger.ts';
import type { AdmissionContext, AdmissionRow, Envelope } from './ports.ts';

export type { Actor, Admission } from './outcome-ledger.ts';

/**
 * The admission pipeline of control-ingress.md §5.3, set-wise: one call admits one pushed envelope or a batch
 * of up to 500. In order: health; per body the envelope, pins, schema policy, payload schema, dedupe key and
 * partition key (admission-checks.ts); then for the whole call one query reserves the new keys (the admission
 * row is also the outbox entry: it holds the record), one reads the rows that existed (DUPLICATE, or
 * PAYLOAD_HASH_MISMATCH), PutRecords publishes the reserved rows per stream, and the outcome ledger writes the
 * receipts and commits. Every event that enters ends ADMIT, DUPLICATE or QUARANTINE, or its answer tells the
 * caller to retry (IngestionError) with the event safe in the outbox.
 *
 * Deliberate difference (spec README): a failed publish is not PUBLISH_AMBIGUOUS forever. The row stays
 * PUBLISH_PENDING and is published by the next push of the event or by the outbox drain. A publish that failed
 * after Kinesis stored the record can therefore reach the bus twice; consumers dedupe by event_id.
 */

export type IngestionErrorCode = 'IG_UNHEALTHY' | 'PUBLISH_IN_FLIGHT_RETRY' | 'PUBLISH_PENDING_RETRY';

/** A push the gate cannot decide now; the caller retries (HTTP 503). */
export class IngestionError extends PlatformError<IngestionErrorCode> {
  override readonly detail: string;
  constructor(code: IngestionErrorCode, detail: string) {
    super(code, `${code}: ${detail}`, { detail, retryable: true, httpStatus: 503 });
    this.detail = detail;
  }
}

export type AdmissionResult = Admission | IngestionError;

/** Kinesis shard ids are `shardId-000000000003`; the eb_ref partition is the number. */
export function shardNumber(shardId: string): number {
  const m = /(\d+)$/.exec(shardId);
  return m ? Number(m[1]) : 0;
}

interface Publishable {
  index: number;
  env: Envelope;
  row: AdmissionRow;
  /**
   * The row was reserved before, by a publisher that may have published it and then died or lost the answer: its
   * record is looked for on the bus before it is published again.
   */
  inDoubt?: boolean;
}

const groupByStream = (items: readonly Publishable[]) => {
  const byStream = new Map<string, Publishable[]>();
  for (const item of items) {
    const group = byStream.get(item.row.stream);
    if (group) group.push(item);
    else byStream.set(item.row.stream, [item]);
  }
  return byStream;
};

/**
 * Publishes claimed rows (PutRecords per stream) into the ledger; a failed one stays in the outbox. A row that
 * already has an eb_ref was published before (markPublished) and only gets its receipt.
 */
async function publishRows(
  ctx: AdmissionContext,
  ledger: OutcomeLedger,
  items: readonly Publishable[],
  results: AdmissionResult[],
): Promise<void> {
  const failed: { dedupe_key: string; error: string }[] = [];
  const published: { dedupe_key: string; eb_ref: EbRef }[] = [];
  const ebRefOf = (stream: string, at: { shardId: string; sequenceNumber: string }): EbRef => ({
    topic: stream,
    partition: shardNumber(at.shardId),
    offset: at.sequenceNumber,
    offset_kind: 'kinesis_sequence',
    published_at_utc: ctx.now().toISOString(),
  });
  // Rows already on the bus (an earlier publisher recorded where) are finished, not published again.
  for (const item of items)
    if (item.row.eb_ref) ledger.admitted(item.index, item.env, item.row, item.row.eb_ref);
  let toSend = items.filter((item) => !item.row.eb_ref);
  // A row an earlier publisher may have published without recording it: look on the bus first.
  const doubtful = toSend.filter((item) => item.inDoubt);
  if (doubtful.length > 0) {
    const settled = new Set<Publishable>();
    for (const [stream, group] of groupByStream(doubtful)) {
      try {
        const found = await ctx.bus.locate(
          stream,
          group.map((g) => ({
            partitionKey: g.row.partition_key,
            data: g.row.record,
            since: new Date(g.row.created_at ?? 0),
          })),
        );
        for (const [i, at] of found) {
          const g = group[i] as Publishable;
          const ebRef = ebRefOf(stream, at);
          published.push({ dedupe_key: g.row.dedupe_key, eb_ref: ebRef });
          ledger.admitted(g.index, g.env, g.row, ebRef);
          settled.add(g);
        }
      } catch (error) {
        // Not knowing whether it is there, the row is not published again now: it stays in the outbox.
        for (const g of group) {
          const message = `cannot look for an earlier publish on ${stream}: ${(error as Error).message}`;
          failed.push({ dedupe_key: g.row.dedupe_key, error: message });
          results[g.index] = new IngestionError('PUBLISH_PENDING_RETRY', message);
          settled.add(g);
        }
      }
    }
    toSend = toSend.filter((item) => !settled.has(item));
  }
  const byStream = groupByStream(toSend);
  await Promise.all(
    [...byStream].map(async ([stream, group]) => {
      const out = await ctx.bus.publish(
        stream,
        group.map((g) => ({ partitionKey: g.row.partition_key, data: g.row.record })),
      );
      const publishedAt = ctx.now().toISOString();
      group.forEach((g, i) => {
        const put = out[i] ?? { error: 'no result for the record' };
        if ('error' in put) {
          failed.push({ dedupe_key: g.row.dedupe_key, error: put.error });
          results[g.index] = new IngestionError(
            'PUBLISH_PENDING_RETRY',
            `${stream}: ${put.error}; the event is kept in the outbox and published on the next push or drain`,
          );
          return;
        }
        const ebRef: EbRef = { ...ebRefOf(stream, put), published_at_utc: publishedAt };
        published.push({ dedupe_key: g.row.dedupe_key, eb_ref: ebRef });
        ledger.admitted(g.index, g.env, g.row, ebRef);
      });
    }),
  );
  // Where each record went is recorded before any evidence: if what follows fails, the row is finished later
  // without a second copy on the bus.
  if (published.length > 0) await ctx.store.markPublished(published);
  if (failed.length > 0) await ctx.store.markPublishFailed(failed);
}

/**
 * §5.3 step 9 with the outbox, for a row that already existed: a duplicate, a mismatch, or a publish still to
 * finish (claimed here, or waited for while another push publishes it).
 */
async function settleExisting(
  ctx: AdmissionContext,
  ledger: OutcomeLedger,
  item: Publishable,
  found: AdmissionRow | undefined,
): Promise<Publishable | IngestionError | undefined> {
  const { index, env, row } = item;
  if (!found) throw new InvariantViolation(`admission row ${row.dedupe_key} neither inserted nor found`);
  if (found.payload_hash !== row.payload_hash) {
    ledger.quarantine(
      index,
      env,
      'PAYLOAD_HASH_MISMATCH',
      `dedupe_key ${found.dedupe_key} was admitted with payload_hash ${found.payload_hash}`,
    );
    return undefined;
  }
  const started = ctx.now().getTime();
  let current: AdmissionRow | undefined = found;
  while (current?.state === 'PUBLISH_PENDING') {
    const now = ctx.now();
    if (await ctx.store.claim(row.dedupe_key, now, new Date(now.getTime() + ctx.policy.claimMs)))
      return { index, env, row: current, inDoubt: true };
    if (now.getTime() - started >= ctx.policy.inFlightWaitMs)
      return new IngestionError(
        'PUBLISH_IN_FLIGHT_RETRY',
        `${row.dedupe_key} is being published by another push`,
      );
    await ctx.sleep(50);
    current = await ctx.store.find(row.dedupe_key);
  }
  if (!current) throw new InvariantViolation(`admission row ${row.dedupe_key} vanished`);
  ledger.duplicate(index, env, current);
  return undefined;
}

async function assertHealthy(ctx: AdmissionContext): Promise<void> {
  const health = await ctx.health();
  if (health.state === 'RED' || (health.state === 'AMBER' && ctx.policy.denyOnAmber))
    throw new IngestionError(
      'IG_UNHEALTHY',
      `${health.state}: ${health.reasons.join(', ') || 'no reason given'}`,
    );
}

/**
 * Admits pushed bodies (already JSON-parsed); one result per body, in order. Throws IngestionError
 * IG_UNHEALTHY for the whole call when health refuses intake.
 */
export async function admitMany(
  bodies: readonly unknown[],
  actor: Actor,
  ctx: AdmissionContext,
): Promise<AdmissionResult[]> {
  await assertHealthy(ctx);
  const results = new Array<AdmissionResult>(bodies.length);
  const ledger = new OutcomeLedger(ctx, actor);
  const leaders = new Map<string, Publishable>();
  const followers: number[] = [];
  bodies.forEach((body, index) => {
    const checked = checkEnvelope(body, ctx.payloads);
    if (checked.kind === 'quarantine') ledger.quarantine(index, checked.env, checked.code, checked.detail);
    else if (leaders.has(checked.row.dedupe_key)) followers.push(index);
    else leaders.set(checked.row.dedupe_key, { index, env: checked.env, row: checked.row });
  });

  const toPublish: Publishable[] = [];
  if (leaders.size > 0) {
    const now = ctx.now();
    const candidates = [...leaders.values()];
    const reserved = await ctx.store.reserveMany(
      candidates.map((c) => c.row),
      new Date(now.getTime() + ctx.policy.claimMs),
    );
    const existed = candidates.filter((c) => !reserved.has(c.row.dedupe_key));
    const rows = existed.length > 0 ? await ctx.store.findMany(existed.map((c) => c.row.dedupe_key)) : [];
    const byKey = new Map(rows.map((r) => [r.dedupe_key, r]));
    toPublish.push(...candidates.filter((c) => reserved.has(c.row.dedupe_key)));
    const settled = await Promise.all(
      existed.map((c) => settleExisting(ctx, ledger, c, byKey.get(c.row.dedupe_key))),
    );
    for (const s of settled) {
      if (s instanceof IngestionError) continue;
      if (s) toPublish.push(s);
    }
    existed.forEach((c, i) => {
      const s = settled[i];
      if (s instanceof IngestionError) results[c.index] = s;
    });
  }
  if (toPublish.length > 0) await publishRows(ctx, ledger, toPublish, results);
  if (ledger.size > 0) for (const [index, admission] of await ledger.commit()) results[index] = admission;

  // The same event twice in one call: the later copies are pushes of an event now admitted (or pending).
  if (followers.length > 0) {
    const again = await admitMany(
      followers.map((i) => bodies[i]),
      actor,
      ctx,
    );
    followers.forEach((index, n) => {
      results[index] = again[n] as AdmissionResult;
    });
  }
  return results;
}

/** Admits one pushed body; an answer to retry is thrown (IngestionError). */
export async function admit(body: unknown, actor: Actor, ctx: AdmissionContext): Promise<Admission> {
  const [result] = await admitMany([body], actor, ctx);
  if (result instanceof IngestionError) throw result;
  if (!result) throw new InvariantViolation('admission returned no result');
  return result;
}

/** The outbox drain: publishes rows whose publish failed or whose publisher died; returns what it admitted. */
/** Who the outbox publishes as. */
export const OUTBOX_ACTOR: Actor = { actor_id: 'SYSTEM::ig-outbox', source_type: 'SYSTEM' };

export async function drainOutbox(ctx: AdmissionContext, actor: Actor, limit = 100): Promise<Admission[]> {
  const claimed: Publishable[] = [];
  for (const row of await ctx.store.pending(ctx.now(), limit)) {
    const now = ctx.now();
    if (!(await ctx.store.claim(row.dedupe_key, now, new Date(now.getTime() + ctx.policy.claimMs)))) continue;
    claimed.push({
      index: claimed.length,
      env: CanonicalEnvelope.parse(parseJsonLossless(row.record)),
      row,
      inDoubt: true,
    });
  }
  if (claimed.length === 0) return [];
  const ledger = new OutcomeLedger(ctx, actor);
  const results = new Array<AdmissionResult>(claimed.length);
  await publishRows(ctx, ledger, claimed, results);
  if (ledger.size > 0) for (const [index, admission] of await ledger.commit()) results[index] = admission;
  return results.filter((r): r is Admission => r !== undefined && !(r instanceof IngestionError));
}
