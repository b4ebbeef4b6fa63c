import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PublishFailed } from '../../../lib/adapters/ingestion-gate-publisher.ts';
import { canonicalJson } from '../../../lib/contracts/canonical-json.ts';
import type {
  ActionIntentPayload,
  DecisionResponsePayload,
  LaneBusRecord,
} from '../../../lib/contracts/decision-lane.ts';
import { sha256Hex } from '../../../lib/contracts/identity.ts';
import { bundleRefOf } from '../../../lib/decision-fabric/bundle.ts';
import { FAIL_CLOSED_BUNDLE } from '../../../lib/decision-fabric/envelopes.ts';
import { type DecisionFabricSettings, decideBatch } from '../../../lib/decision-fabric/fabric.ts';
import { loadRulesBundle } from '../../../lib/runtime/decision-fabric-config.ts';
import { RUN } from '../../support/online-features.ts';
import { DEGRADE_POLICY, type FabricWorld, FEATURE_POLICY, fabricWorld, storedPosture, T0 } from './fakes.ts';
import {
  type FlowRecords,
  type FlowSpec,
  FOUR_ACTIONS,
  FOUR_FLOWS,
  flowRecords,
  laneRecord,
  project,
  projectFlows,
} from './flows.ts';

/**
 * `decideBatch` (lib/decision-fabric/fabric.ts) on in-memory ports (fakes.ts): the inlet (§9 #6), replays (§9 #7), the
 * posture's clamp and the registry failing closed (§9 #8), a missing or stale posture (§9 #9), IG down, the bounded
 * wait for context on a fake clock, and the truth columns never reaching a decision.
 */

const bundle = loadRulesBundle();
const SETTINGS: DecisionFabricSettings = {
  requiredPlatformRunId: RUN,
  bundle,
  bundleDigest: bundleRefOf(bundle),
  runConfigDigest: sha256Hex('fabric.test run config'),
  joinWaitMs: 2000,
  pollMs: 50,
};

async function readyWorld(specs: readonly FlowSpec[] = FOUR_FLOWS, world: FabricWorld = fabricWorld()) {
  const flows = specs.map(flowRecords);
  await projectFlows(world, flows);
  return { world, flows, batch: flows.map((f) => laneRecord(f.traffic)) };
}

/** The decision_response payloads IG was sent, in order. */
const decisionsSent = (world: FabricWorld) =>
  world.ig.attempts
    .flat()
    .filter((e) => e.event_type === 'decision_response')
    .map((e) => e.payload as DecisionResponsePayload);
const actionsOf = (world: FabricWorld) => decisionsSent(world).map((d) => d.decision.action_kind);

/** A record of the traffic topic (or `topic`) carrying a changed copy of a traffic envelope. */
function otherRecord(base: FlowRecords, change: Record<string, unknown>, topic?: string): LaneBusRecord {
  const record = laneRecord({ ...base.traffic, envelope: { ...base.traffic.envelope, ...change } });
  return topic === undefined ? record : { ...record, topic };
}

describe('decideBatch: the inlet (§9 #6)', () => {
  it('the lane’s own and other planes’ events, other types, other topics and non-JSON: no decision, each counted', async () => {
    const { world, flows } = await readyWorld([FOUR_FLOWS[1] as FlowSpec]);
    const base = flows[0] as FlowRecords;
    const rejected: LaneBusRecord[] = [
      ...['decision_response', 'action_intent', 'ig.quarantine.spike', 'al.outcome', 'df.metrics'].map((t) =>
        otherRecord(base, { event_type: t, event_id: `loop-${t}` }),
      ),
      otherRecord(base, { event_type: 'decision_response' }, 'fp.bus.rtdl.v1'),
      otherRecord(base, { event_type: 's2_event_stream_baseline_6B' }),
      otherRecord(base, { schema_version: 'v2' }),
      otherRecord(base, { seed: null }),
      { ...laneRecord(base.traffic), envelope: undefined },
      otherRecord(base, { platform_run_id: 'platform_20260309T000000Z' }),
    ];
    const counts = {
      'inlet_rejected|reason=LOOP_PREVENTION': 5,
      'inlet_rejected|reason=NON_TRAFFIC_TOPIC': 1,
      'inlet_rejected|reason=EVENT_TYPE_NOT_ALLOWED': 1,
      'inlet_rejected|reason=SCHEMA_VERSION_NOT_ALLOWED': 1,
      'inlet_rejected|reason=MISSING_REQUIRED_PINS': 1,
      'inlet_rejected|reason=INVALID_ENVELOPE': 1,
      run_scope_mismatch: 1,
    };
    expect(await decideBatch(world.ports, rejected, SETTINGS)).toEqual({
      decided: 0,
      published: 0,
      replayed: 0,
      counts,
    });
    expect(world.ledger.claims).toEqual([]);
    expect(world.ig.attempts).toEqual([]);
    expect(world.sleeps).toEqual([]);
    expect(Object.fromEntries(world.ledger.metrics)).toEqual(counts);

    const answer = await decideBatch(world.ports, [...rejected, laneRecord(base.traffic)], SETTINGS);
    expect(answer).toMatchObject({ decided: 1, published: 1, counts: { ...counts, decisions_total: 1 } });
    expect(decisionsSent(world).map((d) => d.source_event.event_id)).toEqual([
      base.traffic.envelope.event_id,
    ]);
  });
});

describe('decideBatch: replays (§9 #7)', () => {
  it('the same source events at the same offsets again: identical ids, key and hash; REPLAY_MATCH, nothing sent', async () => {
    const { world, batch } = await readyWorld();
    expect(await decideBatch(world.ports, batch, SETTINGS)).toMatchObject({ decided: 4, published: 4 });
    expect(actionsOf(world)).toEqual(FOUR_ACTIONS);
    world.clock.advance(30_000);
    const again = await decideBatch(world.ports, batch, SETTINGS);
    expect(again).toMatchObject({ decided: 4, published: 0, replayed: 4, counts: { replay_match_total: 4 } });
    expect(world.ig.attempts).toHaveLength(1);
    const [first, second] = world.ledger.claims.map((claim) =>
      claim.map((e) => ({
        decision_id: e.decision_id,
        event_ids: e.envelopes.map((env) => env.event_id),
        idempotency_key: (e.envelopes[1]?.payload as ActionIntentPayload | undefined)?.idempotency_key,
        payload_hash: e.payload_hash,
      })),
    );
    expect(first?.map((d) => d.idempotency_key)).toEqual(
      Array(4).fill(expect.stringMatching(/^[0-9a-f]{32}$/)),
    );
    expect(second).toEqual(first);
    // Built again 30 s later: the times differ, the identity does not.
    const decidedAt = world.ledger.claims.map((claim) => claim[0]?.envelopes[0]?.ts_utc);
    expect(decidedAt[0]).not.toBe(decidedAt[1]);
  });
});

describe('decideBatch: posture and registry (§9 #8)', () => {
  it('READY context and a resolved bundle under STEP_UP_ONLY: ALLOW becomes STEP_UP, clamped', async () => {
    const { world, batch } = await readyWorld([FOUR_FLOWS[1] as FlowSpec]);
    world.posture.stored = storedPosture('DEGRADED_1', world.clock.now());
    const answer = await decideBatch(world.ports, batch, SETTINGS);
    expect(answer.counts).toMatchObject({ degrade_total: 1, 'decisions|context=CONTEXT_READY': 1 });
    const [decision] = decisionsSent(world);
    expect(decision?.decision).toMatchObject({
      action_kind: 'STEP_UP',
      context_status: 'CONTEXT_READY',
      registry_outcome: 'RESOLVED',
    });
    expect(decision?.reason_codes).toEqual(['ACTION_POSTURE_CLAMPED:STEP_UP_ONLY', 'ACTIVE_BUNDLE_RESOLVED']);
    expect(decision?.bundle_ref.bundle_id).toBe(SETTINGS.bundleDigest);
    // The same flow under NORMAL is allowed: the clamp is the posture's.
    const normal = await readyWorld([FOUR_FLOWS[1] as FlowSpec]);
    await decideBatch(normal.world.ports, normal.batch, SETTINGS);
    expect(actionsOf(normal.world)).toEqual(['ALLOW']);
  });

  it('a snapshot without core_features: QUEUE_REVIEW, REGISTRY_FAIL_CLOSED, FEATURE_GROUP_MISSING:core_features', async () => {
    const featurePolicy = {
      ...FEATURE_POLICY,
      feature_groups: FEATURE_POLICY.feature_groups.filter((g) => g.name !== 'core_features'),
    };
    const { world, batch } = await readyWorld([FOUR_FLOWS[1] as FlowSpec], fabricWorld({ featurePolicy }));
    const answer = await decideBatch(world.ports, batch, SETTINGS);
    expect(answer.counts).toMatchObject({ fail_closed_total: 1 });
    const [decision] = decisionsSent(world);
    expect(decision?.decision).toMatchObject({
      action_kind: 'QUEUE_REVIEW',
      context_status: 'CONTEXT_READY',
      registry_outcome: 'FAIL_CLOSED',
    });
    expect(decision?.reason_codes).toEqual([
      'ACTIVE_BUNDLE_INCOMPATIBLE',
      'FEATURE_GROUP_MISSING:core_features',
      'REGISTRY_FAIL_CLOSED',
    ]);
    expect(decision?.bundle_ref).toEqual(FAIL_CLOSED_BUNDLE);
  });
});

describe('decideBatch: a posture nobody vouches for (§9 #9)', () => {
  const maxAge = DEGRADE_POLICY.posture_max_age_seconds;

  it('property: none stored, older than 120 s or unreadable ⇒ the FAIL_CLOSED mask, never ALLOW', async () => {
    const trouble = fc.oneof(
      fc.constant({ reason: 'FAILSAFE_MISSING' as const }),
      fc.constant({ reason: 'FAILSAFE_STORE_ERROR' as const }),
      fc.record({
        reason: fc.constant('FAILSAFE_STALE' as const),
        age: fc.integer({ min: maxAge + 1, max: 1e7 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(trouble, fc.subarray([...FOUR_FLOWS], { minLength: 1 }), async (t, specs) => {
        const { world, batch } = await readyWorld(specs);
        world.posture.stored =
          'age' in t
            ? storedPosture('NORMAL', world.clock.now(), t.age)
            : t.reason === 'FAILSAFE_MISSING'
              ? undefined
              : world.posture.stored;
        world.posture.failing = t.reason === 'FAILSAFE_STORE_ERROR';
        await decideBatch(world.ports, batch, SETTINGS);
        const decisions = decisionsSent(world);
        expect(decisions).toHaveLength(specs.length);
        for (const d of decisions) {
          expect(d.decision.action_kind).not.toBe('ALLOW');
          expect(d.degrade_posture).toMatchObject({
            mode: 'FAIL_CLOSED',
            capabilities_mask: DEGRADE_POLICY.modes.FAIL_CLOSED,
            reason: t.reason,
          });
          expect(d.reason_codes).toContain(t.reason);
        }
      }),
      { numRuns: 40, seed: 20261207 },
    );
  });

  it('a posture exactly 120 s old is still the stored one (the plain flow is allowed)', async () => {
    const { world, batch } = await readyWorld([FOUR_FLOWS[1] as FlowSpec]);
    world.posture.stored = storedPosture('NORMAL', world.clock.now(), maxAge);
    await decideBatch(world.ports, batch, SETTINGS);
    expect(decisionsSent(world).map((d) => [d.decision.action_kind, d.degrade_posture.mode])).toEqual([
      ['ALLOW', 'NORMAL'],
    ]);
  });
});

describe('decideBatch: IG unavailable', () => {
  it('the batch fails, the ledger keeps its decisions PENDING; the retry sends the same envelopes once, then none', async () => {
    const { world, batch } = await readyWorld();
    world.outage.ig = true;
    await expect(decideBatch(world.ports, batch, SETTINGS)).rejects.toBeInstanceOf(PublishFailed);
    expect([...world.ledger.rows.values()].map((r) => r.published)).toEqual([false, false, false, false]);
    expect(world.ledger.metrics.size).toBe(0);

    world.outage.ig = false;
    // A minute later; the ladder has ticked meanwhile (a stale posture would fail closed: another decision).
    world.clock.advance(60_000);
    world.posture.stored = storedPosture('NORMAL', world.clock.now());
    expect(await decideBatch(world.ports, batch, SETTINGS)).toMatchObject({
      decided: 4,
      published: 4,
      replayed: 0,
    });
    const [tried, sent] = world.ig.attempts;
    expect(tried?.map((e) => e.event_id)).toHaveLength(8);
    expect(canonicalJson(sent)).toBe(canonicalJson(tried));
    expect(world.ig.answers.map((a) => a.decision)).toEqual(Array(8).fill('ADMIT'));
    expect([...world.ledger.rows.values()].every((r) => r.published)).toBe(true);

    world.clock.advance(60_000);
    world.posture.stored = storedPosture('NORMAL', world.clock.now());
    expect(await decideBatch(world.ports, batch, SETTINGS)).toMatchObject({ published: 0, replayed: 4 });
    expect(world.ig.attempts).toHaveLength(2);
  });
});

describe('decideBatch: waiting for context', () => {
  const alone = () => flowRecords(FOUR_FLOWS[1] as FlowSpec);

  it('no anchor and no binding by the deadline: CONTEXT_MISSING, JOIN_WAIT_EXCEEDED, after sleeping the join wait', async () => {
    const world = fabricWorld();
    const flow = alone();
    await project(world, { features: [flow.traffic] });
    const answer = await decideBatch(world.ports, [laneRecord(flow.traffic)], SETTINGS);
    expect(answer.counts).toMatchObject({ missing_context_total: 1, 'decisions|action=STEP_UP': 1 });
    // The pause doubles from pollMs (50) up to 1 s; the last one is cut to the deadline.
    expect(world.sleeps).toEqual([50, 100, 200, 400, 800, 450]);
    expect(world.clock.now().getTime() - T0.getTime()).toBe(2000);
    const [decision] = decisionsSent(world);
    expect(decision?.decision).toMatchObject({ action_kind: 'STEP_UP', context_status: 'CONTEXT_MISSING' });
    expect(decision?.reason_codes).toEqual([
      'ACTIVE_BUNDLE_RESOLVED',
      'CONTEXT_STATUS:CONTEXT_MISSING',
      'FLOW_BINDING:MISSING_BINDING',
      'FLOW_ENTITIES_MISSING',
      'JOIN_WAIT_EXCEEDED',
    ]);
  });

  it('the anchor arriving while the fabric waits: READY once both stores have it, no longer wait', async () => {
    const flow = alone();
    const world = fabricWorld({
      onSleep: (n) =>
        n === 3
          ? project(world, { features: [flow.anchor], context: [flow.anchor, flow.arrival] })
          : undefined,
    });
    await project(world, { features: [flow.traffic] });
    await decideBatch(world.ports, [laneRecord(flow.traffic)], SETTINGS);
    expect(world.sleeps).toEqual([50, 100, 200]);
    expect(decisionsSent(world).map((d) => [d.decision.action_kind, d.decision.context_status])).toEqual([
      ['ALLOW', 'CONTEXT_READY'],
    ]);
  });

  it('the pause doubles and the last one is cut to the deadline', async () => {
    const world = fabricWorld();
    const flow = alone();
    await project(world, { features: [flow.traffic] });
    await decideBatch(world.ports, [laneRecord(flow.traffic)], { ...SETTINGS, joinWaitMs: 120 });
    expect(world.sleeps).toEqual([50, 70]);
  });
});

describe('decideBatch: truth never decides', () => {
  const truth = fc.option(fc.oneof(fc.boolean(), fc.string({ maxLength: 12 }), fc.integer()), {
    nil: undefined,
  });
  const scramble = (records: FlowRecords[], values: [unknown, unknown][]) =>
    records.map((flow, i) => {
      const copy = structuredClone(flow);
      for (const [j, record] of [copy.traffic, copy.anchor].entries()) {
        const payload = record.envelope.payload as Record<string, unknown>;
        const [flag, campaign] = values[i * 2 + j] ?? [undefined, undefined];
        if (flag === undefined) delete payload.fraud_flag;
        else payload.fraud_flag = flag;
        if (campaign === undefined) delete payload.campaign_id;
        else payload.campaign_id = campaign;
      }
      return copy;
    });
  const sentBytes = async (flows: FlowRecords[]) => {
    const world = fabricWorld();
    await projectFlows(world, flows);
    await decideBatch(
      world.ports,
      flows.map((f) => laneRecord(f.traffic)),
      SETTINGS,
    );
    return { bytes: canonicalJson(world.ig.attempts), actions: actionsOf(world) };
  };

  it('property: fraud_flag and campaign_id scrambled in every traffic and anchor payload ⇒ byte-identical envelopes', async () => {
    const flows = FOUR_FLOWS.map(flowRecords);
    const baseline = await sentBytes(flows);
    expect(baseline.actions).toEqual(FOUR_ACTIONS);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(truth, truth), { minLength: 8, maxLength: 8 }), async (values) => {
        const scrambled = await sentBytes(scramble(flows, values));
        expect(scrambled.bytes).toBe(baseline.bytes);
      }),
      { numRuns: 30, seed: 20261207 },
    );
  });
});
