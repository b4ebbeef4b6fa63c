import { canonicalJson } from '../contracts/canonical-json.ts';
import type { BundleRef, LaneBusRecord } from '../contracts/decision-lane.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { payloadHash, sha256Hex } from '../contracts/identity.ts';
import type { GetFeaturesRequest, GetFeaturesResponse } from '../contracts/online-features.ts';
import type { RulesBundle } from './bundle.ts';
import { type ContextWaitSettings, flowIdOf, gatherContext, pinsOf, type TrafficEvent } from './context.ts';
import { type ContextStatus, decide } from './decide.ts';
import { type BuiltDecision, buildDecision, FAIL_CLOSED_BUNDLE } from './envelopes.ts';
import { inletVerdict } from './inlet.ts';
import type { DecisionFabricPorts, FlowEntityIds, LedgerEntry, PublishResult } from './ports.ts';
import { resolveRegistry, scoreRules } from './rules.ts';

/**
 * The Decision Fabric's batch (downstream.md §3.2 with our rules; docs/decision-lane.md): inlet, in-batch dedupe and
 * the run-scope gate; the context, waited for once per batch (lib/decision-fabric/context.ts); one posture read;
 * the snapshots; registry, rules and the decision rule; the replay ledger; then one publish of every new decision
 * and intent through IG's batch route, and the ledger's record of it. A store or publish failure throws: the batch
 * is retried, and the ledger makes the retry publish the same envelopes (IG answers DUPLICATE for those it has).
 */

export interface DecisionFabricSettings extends ContextWaitSettings {
  /** Records of other runs are skipped (run_scope_mismatch); undefined: every run is in scope. */
  requiredPlatformRunId?: string;
  bundle: RulesBundle;
  /** sha256 of the bundle's canonical JSON (its registry snapshot id). */
  bundleDigest: string;
  /** sha256 of the policies a decision depends on (bundle, feature policy, degrade policy). */
  runConfigDigest: string;
}

export interface DecisionBatchAnswer {
  decided: number;
  published: number;
  replayed: number;
  /** Counters added for this batch (also written to the ledger's metrics). */
  counts: Record<string, number>;
}

const ANCHOR_KEY_TYPES = ['party_id', 'account_id', 'instrument_id', 'device_id', 'ip_id', 'merchant_id'];
const COMPOSITES: Record<string, [string, string]> = {
  account_device: ['account_id', 'device_id'],
  account_ip: ['account_id', 'ip_id'],
};
/** IG's batch route takes at most this many envelopes a request. */
const PUBLISH_CHUNK = 500;

/** The keys a decision asks features for: the flow's, and its entities' that a rule reads. */
export function featureKeysOf(event: TrafficEvent, entities: FlowEntityIds | undefined, bundle: RulesBundle) {
  const wanted = new Set<string>(bundle.rules.flatMap((r) => r.conditions.map((c) => c.key_type)));
  const keys = [
    event.flowId === null
      ? { key_type: 'event_id', key_id: event.envelope.event_id }
      : { key_type: 'flow_id', key_id: event.flowId },
  ];
  if (!entities) return keys;
  for (const type of ANCHOR_KEY_TYPES) {
    const id = entities.entities[type];
    if (wanted.has(type) && id !== undefined) keys.push({ key_type: type, key_id: id });
  }
  for (const [type, [a, b]] of Object.entries(COMPOSITES)) {
    const [first, second] = [entities.entities[a], entities.entities[b]];
    if (wanted.has(type) && first !== undefined && second !== undefined)
      keys.push({ key_type: type, key_id: `${first}|${second}` });
  }
  return keys;
}

function contextOf(
  event: TrafficEvent,
  covered: boolean,
  entities: FlowEntityIds | undefined,
  bindingStatus: string | undefined,
  answer: GetFeaturesResponse | undefined,
  allowedGroups: readonly string[],
): { status: ContextStatus; reasons: string[] } {
  if (!answer) return { status: 'CONTEXT_MISSING', reasons: ['OFP_FEATURE_KEYS_MISSING'] };
  if (answer.status === 'ERROR')
    return {
      status: 'CONTEXT_UNAVAILABLE',
      reasons: [answer.error.code === 'UNAVAILABLE' ? 'OFP_UNAVAILABLE' : `OFP_ERROR:${answer.error.code}`],
    };
  const reasons: string[] = [];
  if (!covered) reasons.push('STALE_INPUT_BASIS');
  if (allowedGroups.length === 0) return { status: 'CONTEXT_BLOCKED', reasons };
  if (event.flowId === null || !entities || bindingStatus !== 'READY') {
    reasons.push('JOIN_WAIT_EXCEEDED');
    if (!entities) reasons.push('FLOW_ENTITIES_MISSING');
    if (bindingStatus !== 'READY') reasons.push(`FLOW_BINDING:${bindingStatus ?? 'NOT_ASKED'}`);
    return { status: 'CONTEXT_MISSING', reasons };
  }
  return { status: 'CONTEXT_READY', reasons };
}

const add = (counts: Record<string, number>, name: string, by = 1) => {
  counts[name] = (counts[name] ?? 0) + by;
};

/** Inlet, in-batch dedupe and the run-scope gate: the traffic events to decide on, in bus order. */
function admitted(
  records: readonly LaneBusRecord[],
  settings: DecisionFabricSettings,
  counts: Record<string, number>,
) {
  const seen = new Map<string, string>();
  const events: TrafficEvent[] = [];
  for (const record of records) {
    const verdict = inletVerdict(record.topic, record.envelope);
    if (!verdict.accepted) {
      add(counts, `inlet_rejected|reason=${verdict.reason}`);
      continue;
    }
    const envelope = CanonicalEnvelope.parse(record.envelope);
    const runScope = `${envelope.platform_run_id}|${envelope.event_id}`;
    const hash = payloadHash(envelope);
    const before = seen.get(runScope);
    if (before !== undefined) {
      add(
        counts,
        before === hash ? 'inlet_rejected|reason=DUPLICATE' : 'inlet_rejected|reason=PAYLOAD_HASH_MISMATCH',
      );
      continue;
    }
    seen.set(runScope, hash);
    if (
      settings.requiredPlatformRunId !== undefined &&
      envelope.platform_run_id !== settings.requiredPlatformRunId
    ) {
      add(counts, 'run_scope_mismatch');
      continue;
    }
    events.push({ record, envelope, flowId: flowIdOf(envelope), pins: pinsOf(envelope) });
  }
  return events;
}

export async function decideBatch(
  ports: DecisionFabricPorts,
  records: readonly LaneBusRecord[],
  settings: DecisionFabricSettings,
): Promise<DecisionBatchAnswer> {
  const counts: Record<string, number> = {};
  const events = admitted(records, settings, counts);
  if (events.length === 0) {
    if (Object.keys(counts).length > 0) await ports.ledger.addMetrics(counts);
    return { decided: 0, published: 0, replayed: 0, counts };
  }
  const now = () => ports.clock.now().getTime();
  const context = await gatherContext(ports.context, ports.sleeper, now, events, settings);
  const posture = await ports.posture();
  const { bundle } = settings;
  const allowedGroups = bundle.requires_feature_groups
    .map((g) => g.name)
    .filter((name) => (posture.capabilities_mask.allowed_feature_groups as readonly string[]).includes(name));
  const requests: GetFeaturesRequest[] = events.map((e) => ({
    request_id: e.envelope.event_id,
    pins: e.pins,
    as_of_time_utc: e.envelope.ts_utc,
    feature_keys: featureKeysOf(e, e.flowId === null ? undefined : context.entities.get(e.flowId), bundle),
    feature_groups: bundle.requires_feature_groups.map((g) => ({ name: g.name, version: g.version })),
    graph_resolution_mode: 'none',
  }));
  const answers = await ports.context.snapshots(requests);
  const decidedAt = ports.clock
    .now()
    .toISOString()
    .replace(/(\.\d{3})Z$/, '$1000Z');
  const resolvedRef: BundleRef = {
    bundle_id: settings.bundleDigest,
    bundle_version: bundle.bundle_version,
    registry_ref: `registry://${bundle.scope.environment}/${bundle.scope.mode}/${bundle.scope.bundle_slot}/${bundle.bundle_id}`,
  };
  const built: { event: TrafficEvent; decision: BuiltDecision; entry: LedgerEntry }[] = [];
  events.forEach((event, i) => {
    const entities = event.flowId === null ? undefined : context.entities.get(event.flowId);
    const binding = event.flowId === null ? undefined : context.bindings.get(event.flowId);
    const answer = answers[i];
    const ctx = contextOf(
      event,
      context.covered[i] ?? false,
      entities,
      binding?.status,
      answer,
      allowedGroups,
    );
    const snapshot = answer?.status === 'OK' ? answer.snapshot : null;
    const groups = snapshot
      ? snapshot.feature_groups.filter((g) => !snapshot.freshness.missing_groups.includes(g.name))
      : [];
    const registry = resolveRegistry(bundle, groups, posture.capabilities_mask);
    const rules =
      registry.outcome === 'RESOLVED' && ctx.status === 'CONTEXT_READY' && snapshot
        ? scoreRules(bundle, snapshot.features)
        : undefined;
    const decision = decide(
      {
        registry,
        context: ctx,
        actionPosture: posture.capabilities_mask.action_posture,
        ...(rules ? { rules } : {}),
      },
      bundle.actions,
    );
    if (posture.source === 'FAILSAFE')
      decision.reason_codes = [...new Set([...decision.reason_codes, posture.reason ?? 'FAILSAFE'])].sort();
    const evidence = sha256Hex(
      canonicalJson({
        snapshot_hash: snapshot?.snapshot_hash ?? null,
        anchor_event_id: entities?.anchor_event_id ?? null,
        binding: binding?.flow_binding?.payload_hash ?? null,
      }),
    );
    const made = buildDecision({
      event,
      bundleRef: registry.outcome === 'RESOLVED' ? resolvedRef : FAIL_CLOSED_BUNDLE,
      policyRev: { policy_id: bundle.bundle_id, revision: bundle.bundle_version },
      runConfigDigest: settings.runConfigDigest,
      posture,
      snapshot,
      contextStatus: ctx.status,
      registryOutcome: registry.outcome,
      contextEvidenceDigest: evidence,
      decision,
      score: rules?.score ?? 0,
      decidedAt,
    });
    add(counts, 'decisions_total');
    add(counts, `decisions|action=${decision.action_kind}`);
    add(counts, `decisions|context=${ctx.status}`);
    if (ctx.reasons.includes('STALE_INPUT_BASIS')) add(counts, 'stale_input_basis_total');
    if (ctx.status === 'CONTEXT_MISSING') add(counts, 'missing_context_total');
    if (registry.outcome === 'FAIL_CLOSED') add(counts, 'fail_closed_total');
    if (decision.reason_codes.includes('ACTION_POSTURE_CLAMPED:STEP_UP_ONLY')) add(counts, 'degrade_total');
    built.push({
      event,
      decision: made,
      entry: {
        decision_id: made.decisionId,
        platform_run_id: event.pins.platform_run_id,
        scenario_run_id: event.pins.scenario_run_id,
        source_event_id: event.envelope.event_id,
        flow_id: event.flowId,
        action_kind: decision.action_kind,
        context_status: ctx.status,
        reason_codes: decision.reason_codes,
        payload_hash: made.payloadHash,
        envelopes: made.envelopes,
        bus_arrival_ms: Date.parse(event.record.published_at_utc),
      },
    });
  });
  const claims = await ports.ledger.claim(built.map((b) => b.entry));
  const toPublish: { decisionId: string; envelopes: CanonicalEnvelope[] }[] = [];
  let replayed = 0;
  claims.forEach((claim, i) => {
    const item = built[i];
    if (!item) return;
    if (claim.status === 'NEW')
      toPublish.push({ decisionId: item.entry.decision_id, envelopes: item.entry.envelopes });
    else if (claim.status === 'REPLAY_MATCH') replayed += 1;
    else {
      if (claim.status === 'MISMATCH') add(counts, 'payload_mismatch_total');
      if (!claim.published) toPublish.push({ decisionId: item.entry.decision_id, envelopes: claim.stored });
      else replayed += 1;
    }
  });
  if (replayed > 0) add(counts, 'replay_match_total', replayed);
  const flat = toPublish.flatMap((p) => p.envelopes);
  // The chunks go at once: IG answers each on its own, and a failed one fails the batch (retried whole, the ledger
  // republishing the same envelopes; IG answers DUPLICATE for those it admitted).
  const chunks: CanonicalEnvelope[][] = [];
  for (let start = 0; start < flat.length; start += PUBLISH_CHUNK)
    chunks.push(flat.slice(start, start + PUBLISH_CHUNK));
  const results: PublishResult[] = (
    await Promise.all(chunks.map((chunk) => ports.publisher.publish(chunk)))
  ).flat();
  const admittedAt = now();
  let cursor = 0;
  const marks = toPublish.map((p) => {
    const decisions = p.envelopes.map(() => results[cursor++]?.decision ?? 'QUARANTINE');
    for (const d of decisions) add(counts, `publish_${d.toLowerCase()}_total`);
    return { decision_id: p.decisionId, decisions, admitted_at_ms: admittedAt };
  });
  if (marks.length > 0) await ports.ledger.markPublished(marks);
  await ports.ledger.addMetrics(counts);
  return { decided: built.length, published: marks.length, replayed, counts };
}
