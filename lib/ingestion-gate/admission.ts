import type { z } from 'zod';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import {
  type AdmissionDecision,
  dedupeKey,
  payloadHash,
  quarantineId,
  receiptId,
} from '../contracts/identity.ts';
import {
  eventClassOf,
  PartitionKeyMissing,
  REQUIRED_PINS,
  routeEnvelope,
} from '../contracts/partitioning.ts';
import {
  type Actor as ActorSchema,
  type EbRef,
  type IngestionReceipt,
  type QuarantineRecord,
  ZERO_FINGERPRINT,
} from '../contracts/receipts.ts';
import type { AdmissionContext, AdmissionRow, Envelope } from './ports.ts';
import { schemaPolicyCode } from './schema-policy.ts';

export type Actor = z.infer<typeof ActorSchema>;

/**
 * The admission pipeline of control-ingress.md §5.3, in order: health, envelope, class pins, schema policy and
 * payload, dedupe, partition key, reserve, publish, receipt. Every event that enters ends ADMIT, DUPLICATE or
 * QUARANTINE, or the caller is told to retry (IngestionError) with the event safe in the outbox.
 *
 * Deliberate difference (spec README): a failed publish is not PUBLISH_AMBIGUOUS forever. The admission row is
 * the outbox entry (it holds the record); the publish is retried by the next push of the event or by the outbox
 * drain until it succeeds. A publish that failed after Kinesis stored the record can therefore reach the bus
 * twice; consumers dedupe by event_id.
 */

export type IngestionErrorCode = 'IG_UNHEALTHY' | 'PUBLISH_IN_FLIGHT_RETRY' | 'PUBLISH_PENDING_RETRY';

/** A push the gate cannot decide now; the caller retries (HTTP 503). */
export class IngestionError extends Error {
  override readonly name: IngestionErrorCode;
  constructor(
    readonly code: IngestionErrorCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = code;
  }
}

export interface Admission {
  decision: AdmissionDecision;
  receipt: IngestionReceipt;
  receipt_ref: string;
}

const PIN_FIELDS = [
  'manifest_fingerprint',
  'platform_run_id',
  'scenario_run_id',
  'parameter_hash',
  'seed',
  'scenario_id',
  'run_id',
] as const;

type EnvelopeLike = Partial<Record<string, unknown>>;

const present = (v: unknown) => v !== undefined && v !== null && v !== '';
const prune = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

function pinsOf(env: EnvelopeLike) {
  const pins: Record<string, unknown> = {};
  for (const f of PIN_FIELDS) if (present(env[f])) pins[f] = env[f];
  if (!pins.scenario_run_id && present(env.run_id)) pins.scenario_run_id = env.run_id;
  return pins;
}

function runPrefix(env: EnvelopeLike): string {
  return str(env.platform_run_id) ?? '_no_platform_run';
}

function policyRev(ctx: AdmissionContext) {
  return { policy_id: 'ig_policy', revision: ctx.policy.revision, content_digest: ctx.policy.contentDigest };
}

function stamp(ctx: AdmissionContext, actor: Actor) {
  return {
    actor,
    service_release_id: ctx.policy.serviceReleaseId,
    environment: ctx.policy.environment,
    policy_rev: policyRev(ctx),
    run_config_digest: ctx.policy.contentDigest,
  };
}

/** Kinesis shard ids are `shardId-000000000003`; the eb_ref partition is the number. */
export function shardNumber(shardId: string): number {
  const m = /(\d+)$/.exec(shardId);
  return m ? Number(m[1]) : 0;
}

async function writeReceipt(ctx: AdmissionContext, env: EnvelopeLike, receipt: IngestionReceipt) {
  const key = `${runPrefix(env)}/ig/receipts/${receipt.receipt_id}.json`;
  const { ref } = await ctx.evidence.putOnce(key, `${canonicalJson(prune(receipt))}\n`);
  await ctx.store.indexReceipt({
    receipt_id: receipt.receipt_id,
    platform_run_id: str(env.platform_run_id) ?? '',
    event_id: receipt.event_id,
    event_type: receipt.event_type,
    dedupe_key: receipt.dedupe_key ?? null,
    decision: receipt.decision,
    eb_ref: receipt.eb_ref ?? null,
    receipt_ref: ref,
    reason_codes: receipt.reason_codes ?? [],
    created_at_utc: ctx.now().toISOString(),
  });
  return ref;
}

/** §5.5: a quarantine record (without the payload) and a QUARANTINE receipt pointing at it. */
async function quarantine(
  ctx: AdmissionContext,
  actor: Actor,
  env: EnvelopeLike,
  code: string,
  detail: string,
): Promise<Admission> {
  const eventId = str(env.event_id);
  const qid = quarantineId(eventId);
  const { payload: _payload, ...snapshot } = env;
  const record: QuarantineRecord = prune({
    quarantine_id: qid,
    received_at_utc: ctx.now().toISOString(),
    decision: 'QUARANTINE' as const,
    reason_codes: [code],
    detail,
    manifest_fingerprint: str(env.manifest_fingerprint) ?? ZERO_FINGERPRINT,
    pins: pinsOf(env) as QuarantineRecord['pins'],
    envelope: snapshot,
    actor,
    service_release_id: ctx.policy.serviceReleaseId,
    environment: ctx.policy.environment,
    policy_rev: policyRev(ctx),
  });
  const { ref } = await ctx.evidence.putOnce(
    `${runPrefix(env)}/ig/quarantine/${qid}.json`,
    `${canonicalJson(record)}\n`,
  );
  await ctx.store.indexQuarantine({
    quarantine_id: qid,
    platform_run_id: str(env.platform_run_id) ?? '',
    event_id: eventId ?? null,
    reason_codes: [code],
    evidence_ref: ref,
    created_at_utc: ctx.now().toISOString(),
  });
  const receipt: IngestionReceipt = prune({
    receipt_id: receiptId('QUARANTINE', eventId ?? 'unknown'),
    decision: 'QUARANTINE' as const,
    event_id: eventId ?? 'unknown',
    event_type: str(env.event_type) ?? 'unknown',
    ts_utc: typeof env.ts_utc === 'string' && /\.\d{6}Z$/.test(env.ts_utc) ? env.ts_utc : microsZ(ctx.now()),
    manifest_fingerprint: record.manifest_fingerprint,
    platform_run_id: str(env.platform_run_id),
    pins: record.pins,
    reason_codes: [code],
    evidence_refs: [{ kind: 'quarantine_record', ref }],
    producer: str(env.producer),
    ...stamp(ctx, actor),
  });
  return { decision: 'QUARANTINE', receipt, receipt_ref: await writeReceipt(ctx, env, receipt) };
}

function microsZ(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function baseReceipt(
  ctx: AdmissionContext,
  actor: Actor,
  env: Envelope,
  row: AdmissionRow,
  decision: 'ADMIT' | 'DUPLICATE',
) {
  const pins = pinsOf(env);
  return {
    receipt_id: receiptId(decision, env.event_id),
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
    ...stamp(ctx, actor),
  };
}

/** Publishes a reserved (claimed) row, then records it ADMITTED and writes the ADMIT receipt. */
async function publish(
  ctx: AdmissionContext,
  actor: Actor,
  env: Envelope,
  row: AdmissionRow,
): Promise<Admission> {
  let put: { shardId: string; sequenceNumber: string };
  try {
    put = await ctx.bus.publish(row.stream, row.partition_key, row.record);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    await ctx.store.markPublishFailed(row.dedupe_key, message);
    throw new IngestionError(
      'PUBLISH_PENDING_RETRY',
      `${row.stream}: ${message}; the event is kept in the outbox and published on the next push or drain`,
    );
  }
  const admittedAt = ctx.now().toISOString();
  const ebRef: EbRef = {
    topic: row.stream,
    partition: shardNumber(put.shardId),
    offset: put.sequenceNumber,
    offset_kind: 'kinesis_sequence',
    published_at_utc: admittedAt,
  };
  const receipt: IngestionReceipt = prune({
    ...baseReceipt(ctx, actor, env, { ...row }, 'ADMIT'),
    partitioning_profile_id: row.partitioning_profile_id,
    partition_key: row.partition_key,
    eb_ref: ebRef,
    admitted_at_utc: admittedAt,
  });
  const receiptRef = ctx.evidence.refOf(`${runPrefix(env)}/ig/receipts/${receipt.receipt_id}.json`);
  // Recorded before the receipt is written: a published row must never be published again.
  await ctx.store.markAdmitted(row.dedupe_key, ebRef, receiptRef, admittedAt);
  return { decision: 'ADMIT', receipt, receipt_ref: await writeReceipt(ctx, env, receipt) };
}

async function duplicate(
  ctx: AdmissionContext,
  actor: Actor,
  env: Envelope,
  row: AdmissionRow,
): Promise<Admission> {
  const receipt: IngestionReceipt = prune({
    ...baseReceipt(ctx, actor, env, row, 'DUPLICATE'),
    eb_ref: row.eb_ref ?? undefined,
    admitted_at_utc: row.admitted_at_utc ?? undefined,
    reason_codes: ['DUPLICATE'],
    evidence_refs: row.receipt_ref ? [{ kind: 'receipt_ref', ref: row.receipt_ref }] : undefined,
  });
  return { decision: 'DUPLICATE', receipt, receipt_ref: await writeReceipt(ctx, env, receipt) };
}

/** §5.3 step 9, with the outbox: an existing row is a duplicate, a mismatch, or a publish still to finish. */
async function existing(
  ctx: AdmissionContext,
  actor: Actor,
  env: Envelope,
  row: AdmissionRow,
  hash: string,
): Promise<Admission> {
  if (row.payload_hash !== hash)
    return quarantine(
      ctx,
      actor,
      env,
      'PAYLOAD_HASH_MISMATCH',
      `dedupe_key ${row.dedupe_key} was admitted with payload_hash ${row.payload_hash}`,
    );
  if (row.state === 'ADMITTED') return duplicate(ctx, actor, env, row);
  const started = ctx.now().getTime();
  let current: AdmissionRow | undefined = row;
  while (current && current.state === 'PUBLISH_PENDING') {
    const now = ctx.now();
    if (await ctx.store.claim(row.dedupe_key, now, new Date(now.getTime() + ctx.policy.claimMs)))
      return publish(ctx, actor, env, current);
    if (now.getTime() - started >= ctx.policy.inFlightWaitMs)
      throw new IngestionError(
        'PUBLISH_IN_FLIGHT_RETRY',
        `${row.dedupe_key} is being published by another push`,
      );
    await ctx.sleep(50);
    current = await ctx.store.find(row.dedupe_key);
  }
  if (!current) throw new Error(`admission row ${row.dedupe_key} vanished`);
  return duplicate(ctx, actor, env, current);
}

/** Admits one pushed body (already JSON-parsed). */
export async function admit(body: unknown, actor: Actor, ctx: AdmissionContext): Promise<Admission> {
  const health = await ctx.health();
  if (health.state === 'RED' || (health.state === 'AMBER' && ctx.policy.denyOnAmber))
    throw new IngestionError(
      'IG_UNHEALTHY',
      `${health.state}: ${health.reasons.join(', ') || 'no reason given'}`,
    );
  const raw = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as EnvelopeLike;

  const parsed = CanonicalEnvelope.safeParse(body);
  if (!parsed.success)
    return quarantine(
      ctx,
      actor,
      raw,
      'ENVELOPE_INVALID',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(envelope)'}: ${i.message}`).join('; '),
    );
  const env = parsed.data;

  const eventClass = eventClassOf(env.event_type);
  const missing = REQUIRED_PINS[eventClass].filter((pin) => !present((env as EnvelopeLike)[pin]));
  if (missing.length > 0) return quarantine(ctx, actor, env, 'PINS_MISSING', missing.join(', '));

  const policyCode = schemaPolicyCode(env.event_type, env.schema_version);
  if (policyCode) return quarantine(ctx, actor, env, policyCode, `event_type ${env.event_type}`);
  const problems = ctx.payloads.validate(env.event_type, env.payload);
  if (problems.length > 0) return quarantine(ctx, actor, env, 'SCHEMA_FAIL', problems.join('; '));

  const key = dedupeKey(env.platform_run_id, eventClass, env.event_id);
  const hash = payloadHash(env);
  const found = await ctx.store.find(key);
  if (found) return existing(ctx, actor, env, found, hash);

  let route: ReturnType<typeof routeEnvelope>;
  try {
    route = routeEnvelope(env);
  } catch (error) {
    if (error instanceof PartitionKeyMissing)
      return quarantine(
        ctx,
        actor,
        env,
        'PARTITION_KEY_MISSING',
        `no key of the ${eventClass} profile has a value`,
      );
    throw error;
  }
  const row: AdmissionRow = {
    dedupe_key: key,
    state: 'PUBLISH_PENDING',
    platform_run_id: env.platform_run_id ?? '',
    event_class: eventClass,
    event_id: env.event_id,
    event_type: env.event_type,
    payload_hash: hash,
    stream: route.stream,
    partition_key: route.partitionKey,
    partitioning_profile_id: route.profileId,
    record: canonicalJson(env),
    publish_attempts: 0,
    last_error: null,
    eb_ref: null,
    receipt_ref: null,
    admitted_at_utc: null,
  };
  const now = ctx.now();
  if (!(await ctx.store.reserve(row, new Date(now.getTime() + ctx.policy.claimMs)))) {
    const winner = await ctx.store.find(key);
    if (!winner) throw new Error(`admission row ${key} neither inserted nor found`);
    return existing(ctx, actor, env, winner, hash);
  }
  return publish(ctx, actor, env, row);
}

/** The outbox drain: publishes rows whose publish failed or whose publisher died; returns what it admitted. */
export async function drainOutbox(ctx: AdmissionContext, actor: Actor, limit = 100): Promise<Admission[]> {
  const done: Admission[] = [];
  for (const row of await ctx.store.pending(ctx.now(), limit)) {
    const now = ctx.now();
    if (!(await ctx.store.claim(row.dedupe_key, now, new Date(now.getTime() + ctx.policy.claimMs)))) continue;
    const env = CanonicalEnvelope.parse(parseJsonLossless(row.record));
    try {
      done.push(await publish(ctx, actor, env, row));
    } catch (error) {
      if (!(error instanceof IngestionError)) throw error;
    }
  }
  return done;
}
