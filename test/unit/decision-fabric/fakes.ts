import { PublishFailed } from '../../../lib/adapters/ingestion-gate-publisher.ts';
import { DatabaseUnavailable } from '../../../lib/adapters/postgres/pool.ts';
import { resolveFlowBindingQuery } from '../../../lib/context-store/query.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import type { ContextQueryResponse } from '../../../lib/contracts/context-store.ts';
import type { PublishDecision } from '../../../lib/contracts/decision-lane.ts';
import type { CanonicalEnvelope } from '../../../lib/contracts/envelope.ts';
import { payloadHash } from '../../../lib/contracts/identity.ts';
import type { GetFeaturesRequest, GetFeaturesResponse } from '../../../lib/contracts/online-features.ts';
import type {
  DecisionContextPort,
  DecisionFabricPorts,
  DecisionLedger,
  LedgerClaim,
  LedgerEntry,
} from '../../../lib/decision-fabric/ports.ts';
import type { Posture } from '../../../lib/degrade-ladder/ladder.ts';
import { type DegradePolicy, type Mode, policyRevOf } from '../../../lib/degrade-ladder/policy.ts';
import { effectivePosture } from '../../../lib/degrade-ladder/posture-reader.ts';
import { historyReader } from '../../../lib/online-features/history.ts';
import type { FeaturePolicy } from '../../../lib/online-features/policy.ts';
import { getFeatures } from '../../../lib/online-features/snapshot.ts';
import { tsMicrosOf } from '../../../lib/online-features/windows.ts';
import { loadDegradePolicy } from '../../../lib/runtime/degrade-ladder-config.ts';
import { loadFeaturePolicy } from '../../../lib/runtime/online-features-config.ts';
import { inMemoryContextStore } from '../context-store/in-memory-context-store.ts';
import { inMemoryOnlineFeatureStore } from '../online-features/in-memory-online-feature-store.ts';

/**
 * In-memory ports of the decision fabric (lib/decision-fabric/ports.ts), for fabric.test.ts and the handler's fuzz:
 * the context read from the Online Feature Plane's and the Context Store's in-memory stores through their own query
 * code (as lib/adapters/decision-fabric-context.ts does on Postgres), a replay ledger with the Postgres ledger's
 * semantics, IG's batch route answering by event id, the posture judged by `effectivePosture`, a fake clock and a
 * sleeper that moves it. An outage after `outage.after` port calls makes every later one fail as its adapter would.
 */

export const T0 = new Date('2026-12-07T10:00:00.000Z');

export function fakeClock(start: Date = T0) {
  let ms = start.getTime();
  return {
    now: () => new Date(ms),
    advance: (by: number) => {
      ms += by;
    },
  };
}

/** How a world fails: after `after` calls of its ports (undefined: never) each later call throws; `ig`: IG is down. */
export interface Outage {
  after: number | undefined;
  calls: number;
  ig: boolean;
}

export function inMemoryDecisionContext(
  features: ReturnType<typeof inMemoryOnlineFeatureStore>,
  contexts: ReturnType<typeof inMemoryContextStore>,
  policy: FeaturePolicy,
  now: () => Date,
): DecisionContextPort {
  return {
    async featureProgress() {
      const offsets = new Map<string, string>();
      for (const c of await features.checkpoints()) offsets.set(`${c.topic}|${c.partition}`, c.next_offset);
      return { offsets };
    },
    async flowEntities(pins, flowIds) {
      const found = await features.flowEntities(pins, flowIds);
      return found.map((f) => ({
        flow_id: f.flow_id,
        anchor_event_id: f.anchor_event_id,
        entities: f.entities as Record<string, string>,
      }));
    },
    async flowBindings(pins, flowIds) {
      const answers = new Map<string, ContextQueryResponse>();
      for (const flowId of flowIds)
        answers.set(
          flowId,
          await resolveFlowBindingQuery(
            contexts,
            { request_id: `df:${flowId}`, pins, flow_id: flowId },
            now(),
          ),
        );
      return answers;
    },
    async snapshots(requests: readonly GetFeaturesRequest[]): Promise<GetFeaturesResponse[]> {
      const checkpoints = await features.checkpoints();
      const answers: GetFeaturesResponse[] = [];
      const bound = requests.map((q) => tsMicrosOf(q.as_of_time_utc)).reduce((a, b) => (a > b ? a : b), 0n);
      for (const r of requests) {
        const scope = { platform_run_id: r.pins.platform_run_id, scenario_run_id: r.pins.scenario_run_id };
        const history = await features.loadHistory(scope, r.feature_keys, bound);
        const reader = historyReader(scope, history, checkpoints, await features.hasState(scope));
        answers.push(await getFeatures(reader, r, policy));
      }
      return answers;
    },
  };
}

interface LedgerRow {
  entry: LedgerEntry;
  envelopes_json: string;
  published: boolean;
  decisions: PublishDecision[] | null;
  admitted_at_ms: number | null;
  replay_count: number;
  mismatch_count: number;
}

/** The replay ledger with lib/adapters/decision-fabric-stores.ts's semantics (envelopes kept as canonical JSON). */
export function inMemoryDecisionLedger(down: () => void = () => undefined) {
  const rows = new Map<string, LedgerRow>();
  const mismatches: { decision_id: string; incoming: string; stored: string }[] = [];
  const metrics = new Map<string, number>();
  /** The entries of every claim, in order (what each batch decided, before the ledger's answer). */
  const claims: LedgerEntry[][] = [];
  const ledger: DecisionLedger = {
    async claim(entries) {
      down();
      claims.push(entries.map((e) => structuredClone(e)));
      return entries.map((entry): LedgerClaim => {
        const row = rows.get(entry.decision_id);
        if (!row) {
          rows.set(entry.decision_id, {
            entry: structuredClone(entry),
            envelopes_json: canonicalJson(entry.envelopes),
            published: false,
            decisions: null,
            admitted_at_ms: null,
            replay_count: 0,
            mismatch_count: 0,
          });
          return { status: 'NEW' };
        }
        row.replay_count += 1;
        const stored = parseJsonLossless(row.envelopes_json) as CanonicalEnvelope[];
        if (row.entry.payload_hash !== entry.payload_hash) {
          row.mismatch_count += 1;
          mismatches.push({
            decision_id: entry.decision_id,
            incoming: entry.payload_hash,
            stored: row.entry.payload_hash,
          });
          return { status: 'MISMATCH', stored, published: row.published };
        }
        return row.published ? { status: 'REPLAY_MATCH' } : { status: 'PENDING', stored, published: false };
      });
    },
    async markPublished(results) {
      down();
      for (const r of results) {
        const row = rows.get(r.decision_id);
        if (!row) continue;
        row.published = true;
        row.decisions = [...r.decisions];
        row.admitted_at_ms ??= r.admitted_at_ms;
      }
    },
    async addMetrics(counts) {
      down();
      for (const [name, by] of Object.entries(counts)) metrics.set(name, (metrics.get(name) ?? 0) + by);
    },
  };
  return { ledger, rows, mismatches, metrics, claims };
}

/**
 * IG's batch route: ADMIT for a new event id, DUPLICATE for one it has with the same payload hash, QUARANTINE for one
 * with another. Every batch the fabric sent is kept (`attempts`), even those IG could not take.
 */
export function fakeIngestionGate(down: () => void = () => undefined) {
  const attempts: CanonicalEnvelope[][] = [];
  const hashes = new Map<string, string>();
  /** Per event id, the canonical JSON of each envelope IG answered for. */
  const received = new Map<string, Set<string>>();
  const answers: { event_id: string; decision: PublishDecision }[] = [];
  const publisher = {
    async publish(envelopes: readonly CanonicalEnvelope[]) {
      attempts.push([...envelopes]);
      down();
      return envelopes.map((e) => {
        const hash = payloadHash(e);
        const known = hashes.get(e.event_id);
        const decision: PublishDecision =
          known === undefined ? 'ADMIT' : known === hash ? 'DUPLICATE' : 'QUARANTINE';
        if (known === undefined) hashes.set(e.event_id, hash);
        const seen = received.get(e.event_id) ?? new Set<string>();
        seen.add(canonicalJson(e));
        received.set(e.event_id, seen);
        answers.push({ event_id: e.event_id, decision });
        return { decision };
      });
    },
  };
  return { publisher, attempts, received, answers };
}

export const DEGRADE_POLICY: DegradePolicy = loadDegradePolicy();
export const FEATURE_POLICY: FeaturePolicy = loadFeaturePolicy();

/** A posture as the Degrade Ladder stores it, decided `ageSeconds` before `now`. */
export function storedPosture(mode: Mode, now: Date, ageSeconds = 5, seq = 7): Posture {
  const decided = new Date(now.getTime() - ageSeconds * 1000).toISOString();
  return {
    mode,
    capabilities_mask: DEGRADE_POLICY.modes[mode],
    policy_rev: policyRevOf(DEGRADE_POLICY),
    posture_seq: seq,
    decided_at_utc: decided,
    reason: 'ALL_SIGNALS_OK',
    evidence_refs: [],
    upshift_quiet_seconds: null,
    started_at_utc: decided,
  };
}

export interface WorldOptions {
  /** The feature policy OFP answers under (default: config/online-features/feature-policy.json). */
  featurePolicy?: FeaturePolicy;
  /** Called after each sleep with the sleeps so far (context arriving while the fabric waits). */
  onSleep?: (sleeps: number) => Promise<void> | void;
}

/** The fabric's ports over fresh in-memory stores, with handles on each. */
export function fabricWorld(options: WorldOptions = {}) {
  const clock = fakeClock();
  const outage: Outage = { after: undefined, calls: 0, ig: false };
  const down = () => outage.after !== undefined && outage.calls++ >= outage.after;
  const dbDown = () => {
    if (down())
      throw new DatabaseUnavailable(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
  };
  // What the real publisher throws once its attempts are spent.
  const igDown = () => {
    if (down() || outage.ig)
      throw new PublishFailed('IG_PUBLISH_AMBIGUOUS', 'envelopes unanswered after 5 attempts');
  };
  const features = inMemoryOnlineFeatureStore();
  const contexts = inMemoryContextStore();
  const context = inMemoryDecisionContext(
    features,
    contexts,
    options.featurePolicy ?? FEATURE_POLICY,
    clock.now,
  );
  const ledger = inMemoryDecisionLedger(dbDown);
  const ig = fakeIngestionGate(igDown);
  const posture: { stored: Posture | undefined; failing: boolean } = {
    stored: storedPosture('NORMAL', clock.now()),
    failing: false,
  };
  const sleeps: number[] = [];
  const watched = Object.fromEntries(
    Object.entries(context).map(([name, call]) => [
      name,
      (...args: unknown[]) => {
        dbDown();
        return (call as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as DecisionContextPort;
  const ports: DecisionFabricPorts = {
    context: watched,
    ledger: ledger.ledger,
    publisher: ig.publisher,
    posture: () =>
      effectivePosture(
        async () => {
          if (posture.failing) throw new DatabaseUnavailable(new Error('posture store down'));
          return posture.stored;
        },
        DEGRADE_POLICY,
        clock.now(),
      ),
    clock,
    sleeper: {
      async sleep(ms) {
        sleeps.push(ms);
        clock.advance(ms);
        await options.onSleep?.(sleeps.length);
      },
    },
  };
  return { ports, clock, outage, features, contexts, ledger, ig, posture, sleeps };
}
export type FabricWorld = ReturnType<typeof fabricWorld>;
