import fs from 'node:fs';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type pg from 'pg';
import { parse } from 'yaml';
import { postgresDecisionContext } from '../lib/adapters/decision-fabric-context.ts';
import { postgresPostureStore } from '../lib/adapters/degrade-ladder-stores.ts';
import { ingestionGateBatchPublisher } from '../lib/adapters/ingestion-gate-publisher.ts';
import { canonicalJson, parseJsonLossless } from '../lib/contracts/canonical-json.ts';
import type { ContextPins } from '../lib/contracts/context-store.ts';
import type { CanonicalEnvelope } from '../lib/contracts/envelope.ts';
import { consumerCheckpointScope, sha256Hex } from '../lib/contracts/identity.ts';
import { effectivePosture } from '../lib/degrade-ladder/posture-reader.ts';
import { DEGRADE_LADDER_STREAM_BASE, GLOBAL_SCOPE } from '../lib/degrade-ladder/tick.ts';
import { loadDegradePolicy } from '../lib/runtime/degrade-ladder-config.ts';
import { loadFeaturePolicy } from '../lib/runtime/online-features-config.ts';
import { toEventRecord } from '../local/event-source-mapping/kinesis-event.ts';
import type { StackState } from '../local/stack.ts';
import { type LatencyFigures, latencyFigures, latencyFlow, trafficOf } from './decision-world.ts';
import { waitFor } from './esm-latency.ts';
import { secondsSince } from './report.ts';
import { invoke, type Mapping, putBacklog, setEnabled } from './rtdl-bus.ts';
import type { Drain } from './rtdl-drain.ts';
import { sampleWaits } from './rtdl-drain.ts';
import { type Backlog, flowEvents, type Placement, TOPIC } from './rtdl-world.ts';

/**
 * The decision fabric's side of `npm run bench -- decision` (bench/decision.ts): its drain of a backlog whose
 * context is in place (enable → one published decision per traffic event in df_decisions), the flows decided one at
 * a time on an idle cloud (bus arrival → IG admitted, from df_decisions), what the decisions were, and the posture
 * the fabric reads (`effectivePosture`, as the function does).
 */

/** The product stack as the decision lane's measures use it. */
export interface LaneContext {
  db: pg.Pool;
  kinesis: KinesisClient;
  lambda: LambdaClient;
  esm: LambdaClient;
  state: StackState;
  run: string;
  /** The decision fabric's mappings (the traffic topic). */
  fabric: Mapping[];
  /** The online features' and the context store's mappings. */
  context: Mapping[];
  limitSeconds: number;
  /** The stack's Lambda log (serverless-offline), where each invocation's duration is written. */
  lambdaLog: string;
}

export const fabricFunction = (state: StackState) => `${state.service}-${state.stage}-decision-fabric`;

/** The posture the fabric reads for the run now: the stored one while fresh, else FAIL_CLOSED with the reason. */
export async function postureOf(ctx: LaneContext): Promise<string> {
  const store = postgresPostureStore(ctx.db, consumerCheckpointScope(DEGRADE_LADDER_STREAM_BASE, ctx.run));
  const p = await effectivePosture(() => store.current(GLOBAL_SCOPE), loadDegradePolicy(), new Date());
  return p.source === 'FAILSAFE' ? `${p.mode} (${p.reason})` : `${p.mode} (seq ${p.posture_seq})`;
}

/** The run's decisions in the ledger: rows, distinct traffic events, and those published. */
async function ledgerCounts(db: pg.Pool, run: string) {
  const r = await db.query<{ decisions: number; events: number; published: number }>(
    `SELECT count(*)::int AS decisions, count(DISTINCT source_event_id)::int AS events,
       count(DISTINCT source_event_id) FILTER (WHERE published)::int AS published
     FROM df_decisions WHERE platform_run_id = $1`,
    [run],
  );
  return r.rows[0] ?? { decisions: 0, events: 0, published: 0 };
}

/** What the decisions were (the run's, or those on `events`): action × context, IG's answers, reason codes. */
export async function decisionMix(db: pg.Pool, run: string, events?: string[]) {
  const where = `platform_run_id = $1${events ? ' AND source_event_id = ANY($2::text[])' : ''}`;
  const args = events ? [run, events] : [run];
  const tally = async (select: string) =>
    Object.fromEntries(
      (
        await db.query<{ k: string; n: number }>(
          `SELECT ${select} AS k, count(*)::int AS n FROM df_decisions WHERE ${where} GROUP BY 1 ORDER BY 2 DESC, 1`,
          args,
        )
      ).rows.map((r) => [r.k, r.n]),
    );
  return {
    actions: await tally(`action_kind || ' / ' || context_status`),
    publish: await tally(`coalesce(array_to_string(publish_decisions, ','), 'unpublished')`),
    reasons: await tally('unnest(reason_codes)'),
  };
}
export type DecisionMix = Awaited<ReturnType<typeof decisionMix>>;

/**
 * Starts a worker per consumer that will invoke at once (serverless-offline starts one per concurrent call), each
 * having read the run scope and opened its pool: a one-record batch of another run's traffic event (skipped as
 * run_scope_mismatch, a counter of the fabric's metrics); and IG's API, which the decisions are published through.
 */
async function warm(ctx: LaneContext, workers: number) {
  const { state } = ctx;
  const envelope = flowEvents('platform_20320101T000009Z', 0).find(
    (e) => e.topic === TOPIC.traffic,
  )?.envelope;
  const record = toEventRecord(
    { Data: Buffer.from(canonicalJson(envelope)), SequenceNumber: '1', PartitionKey: 'warm' },
    {
      shardId: 'shardId-000000000000',
      streamArn: `arn:aws:kinesis:${state.region}:${state.accountId}:stream/${TOPIC.traffic}`,
      region: state.region,
      invokeIdentityArn: `arn:aws:iam::${state.accountId}:role/bench-decision`,
    },
  );
  const calls = Array.from({ length: workers }, () => undefined);
  await Promise.all(calls.map(() => invoke(ctx.lambda, fabricFunction(state), { Records: [record] })));
  await Promise.all(
    calls.map(async () => {
      const res = await fetch(`${state.endpoints.http}/v1/ops/health`);
      await res.text();
    }),
  );
}

/** Invocations per function in a stretch of the Lambda log: count, mean and max duration (ms). */
export type Invocations = Record<string, { n: number; meanMs: number; maxMs: number }>;

/** The byte length of the Lambda log now (0 when there is none). */
const logSize = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/** The invocations a stretch of the Lambda log records (serverless-offline's `(λ: fn) RequestId: … Duration: x ms`). */
export function invocationsIn(text: string): Invocations {
  const byFunction = new Map<string, number[]>();
  for (const m of text.matchAll(/\(λ: ([\w.-]+)\) RequestId: \S+\s+Duration: ([0-9.]+) ms/g)) {
    const list = byFunction.get(m[1] as string) ?? [];
    list.push(Number(m[2]));
    byFunction.set(m[1] as string, list);
  }
  return Object.fromEntries(
    [...byFunction].map(([fn, ms]) => [
      fn,
      {
        n: ms.length,
        meanMs: Math.round(ms.reduce((a, b) => a + b, 0) / ms.length),
        maxMs: Math.round(Math.max(...ms)),
      },
    ]),
  );
}

/** The Lambda log from byte `from` on. */
function logFrom(file: string, from: number): string {
  if (!fs.existsSync(file)) return '';
  const fd = fs.openSync(file, 'r');
  try {
    const length = Math.max(0, fs.fstatSync(fd).size - from);
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, from);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export interface FabricDrain extends Drain {
  placement: Placement;
  posture: { before: string; after: string };
  waits: Record<string, number>;
  mix: DecisionMix;
  /** The functions invoked during the drain (the fabric's batches, IG's publishes), from the Lambda log. */
  invocations: Invocations;
}

/**
 * The fabric's mappings enabled, alone, with the backlog's context already applied; timed until df_decisions holds
 * a published decision for every traffic event of the backlog (then exactly one each, or the bench fails).
 */
export async function drainFabric(ctx: LaneContext, backlog: Backlog): Promise<FabricDrain> {
  const traffic = trafficOf(backlog);
  const records = traffic.records;
  const shards = new Set(traffic.topics.get(TOPIC.traffic)?.map((r) => r.shard)).size;
  await warm(ctx, shards);
  const before = await postureOf(ctx);
  const sampler = sampleWaits(ctx.db);
  const logAt = logSize(ctx.lambdaLog);
  const t0 = performance.now();
  await setEnabled(ctx.esm, ctx.fabric, true, false);
  await waitFor(
    `decision-fabric: ${records} decisions`,
    ctx.limitSeconds,
    async () => (await ledgerCounts(ctx.db, ctx.run)).published >= records,
    50,
  ).finally(() => sampler.stop());
  const seconds = secondsSince(t0);
  const waits = await sampler.result;
  await setEnabled(ctx.esm, ctx.fabric, false, true);
  const invocations = invocationsIn(logFrom(ctx.lambdaLog, logAt));
  const after = await postureOf(ctx);
  const counts = await ledgerCounts(ctx.db, ctx.run);
  if (counts.decisions !== records || counts.events !== records)
    throw new Error(
      `decision-fabric: ${records} traffic events, the ledger holds ${counts.decisions} decisions on ${counts.events} events`,
    );
  const mix = await decisionMix(ctx.db, ctx.run);
  const missing = Object.entries(mix.actions).filter(([k]) => k.endsWith('CONTEXT_MISSING'));
  if (missing.length > 0)
    throw new Error(`decision-fabric: context missing on a backlog whose context was applied: ${missing}`);
  return {
    records,
    seconds,
    rate: records / seconds,
    placement: backlog.placement,
    posture: { before, after },
    waits,
    mix,
    invocations,
  };
}

export interface LatencyRun {
  figures: LatencyFigures;
  /** Per flow: bus arrival → admitted (ms), in the order decided. */
  samples: number[];
  posture: { before: string; after: string };
  mix: DecisionMix;
  /** Seconds from a flow's context put to its context READY (the wait before its traffic is put). */
  contextSeconds: number[];
}

/**
 * With the online features, the context store and the fabric enabled, flows `firstFlow` … one at a time: its
 * context put on the bus, waited for until the fabric's own context port finds its entities and a READY binding,
 * then its first traffic event put, waited for until its decision is published; latency = admitted_at_ms −
 * bus_arrival_ms of its row in df_decisions.
 */
export async function decisionLatency(
  ctx: LaneContext,
  firstFlow: number,
  flows: number,
  placement: Placement,
  say: (line: string) => void,
): Promise<LatencyRun> {
  const port = postgresDecisionContext(ctx.db, ctx.run, loadFeaturePolicy());
  const ready = async (pins: ContextPins, flowId: string) => {
    const [entities, bindings] = await Promise.all([
      port.flowEntities(pins, [flowId]),
      port.flowBindings(pins, [flowId]),
    ]);
    return entities.length > 0 && bindings.get(flowId)?.status === 'READY';
  };
  const perFlow = Math.max(60, ctx.limitSeconds / 10);
  await setEnabled(ctx.esm, [...ctx.context, ...ctx.fabric], true, true);
  await warm(ctx, 1);
  const before = await postureOf(ctx);
  const events: string[] = [];
  const contextSeconds: number[] = [];
  for (let f = firstFlow; f < firstFlow + flows; f++) {
    const flow = latencyFlow(ctx.run, f, placement);
    const t0 = performance.now();
    await putBacklog(ctx.kinesis, flow.context);
    await waitFor(`context of flow ${f}`, perFlow, () => ready(flow.pins, flow.flowId), 50);
    contextSeconds.push(secondsSince(t0));
    await putBacklog(ctx.kinesis, flow.traffic);
    await waitFor(
      `decision on flow ${f}`,
      perFlow,
      async () =>
        (
          await ctx.db.query(
            'SELECT 1 FROM df_decisions WHERE platform_run_id = $1 AND source_event_id = $2 AND published',
            [ctx.run, flow.trafficEventId],
          )
        ).rowCount === 1,
      50,
    );
    events.push(flow.trafficEventId);
  }
  const after = await postureOf(ctx);
  const rows = await ctx.db.query<{ source_event_id: string; ms: string }>(
    `SELECT source_event_id, (admitted_at_ms - bus_arrival_ms)::text AS ms FROM df_decisions
     WHERE platform_run_id = $1 AND source_event_id = ANY($2::text[])`,
    [ctx.run, events],
  );
  const byEvent = new Map(rows.rows.map((r) => [r.source_event_id, Number(r.ms)]));
  const samples = events.map((e) => byEvent.get(e) ?? Number.NaN);
  say(`    latency (ms, in order): ${samples.join(', ')}`);
  return {
    figures: latencyFigures(samples),
    samples,
    posture: { before, after },
    mix: await decisionMix(ctx.db, ctx.run, events),
    contextSeconds: contextSeconds.map((s) => Math.round(s * 1000) / 1000),
  };
}

export interface IngestionGateBound {
  /** Envelopes posted (the run's decisions and intents, re-keyed), in how many requests, how many at once. */
  envelopes: number;
  requests: number;
  inFlight: number;
  seconds: number;
  /** Envelopes admitted per second. */
  rate: number;
  /** Decisions per second IG can admit at that rate: two envelopes (decision and intent) a decision. */
  decisionsPerSecond: number;
  answers: Record<string, number>;
}

/** The fabric's IG API key of the stack's stage (config/stages/<stage>.yml). */
function fabricKey(state: StackState): string {
  const file = new URL(`../config/stages/${state.stage}.yml`, import.meta.url);
  const key = (parse(fs.readFileSync(file, 'utf8')) as { dfIgApiKey?: unknown }).dfIgApiKey;
  if (typeof key !== 'string' || key === '')
    throw new Error(`no dfIgApiKey in config/stages/${state.stage}.yml`);
  return key;
}

/**
 * What IG alone allows the fabric: the envelopes the fabric published for the run (each decision's response and
 * intent), given new event ids (so IG admits them again, not DUPLICATE), posted to IG's batch route with the fabric's
 * own publisher and key, 500 a request, as many requests at once as the fabric's drain had (each of its consumers
 * sends a batch's chunks at once). Timed from the first request to the last answer.
 */
export async function ingestionGateBound(ctx: LaneContext, inFlight: number): Promise<IngestionGateBound> {
  const rows = await ctx.db.query<{ envelopes_json: string }>(
    'SELECT envelopes_json FROM df_decisions WHERE platform_run_id = $1 ORDER BY decision_id',
    [ctx.run],
  );
  const envelopes = rows.rows.flatMap((r) =>
    (parseJsonLossless(r.envelopes_json) as CanonicalEnvelope[]).map((e) => ({
      ...e,
      event_id: sha256Hex(`ig-bound:${e.event_id}`).slice(0, e.event_id.length),
    })),
  );
  const key = fabricKey(ctx.state);
  const publisher = ingestionGateBatchPublisher({
    url: ctx.state.endpoints.http,
    apiKey: async () => key,
    timeoutMs: 120_000,
    maxAttempts: 1,
    baseDelayMs: 100,
    maxDelayMs: 100,
  });
  const chunks: CanonicalEnvelope[][] = [];
  for (let i = 0; i < envelopes.length; i += 500) chunks.push(envelopes.slice(i, i + 500));
  const answers: Record<string, number> = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < chunks.length; i = next++)
        for (const r of await publisher.publish(chunks[i] ?? []))
          answers[r.decision] = (answers[r.decision] ?? 0) + 1;
    }),
  );
  const seconds = secondsSince(t0);
  if ((answers.ADMIT ?? 0) !== envelopes.length)
    throw new Error(`IG bound: ${envelopes.length} envelopes posted, IG answered ${JSON.stringify(answers)}`);
  return {
    envelopes: envelopes.length,
    requests: chunks.length,
    inFlight,
    seconds,
    rate: envelopes.length / seconds,
    decisionsPerSecond: envelopes.length / 2 / seconds,
    answers,
  };
}
