import type { ContextPins, ContextQueryResponse } from '../contracts/context-store.ts';
import type { LaneBusRecord } from '../contracts/decision-lane.ts';
import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import { pythonStr } from '../contracts/python-format.ts';
import type { DecisionContextPort, FlowEntityIds, Sleeper } from './ports.ts';

/**
 * The context of a batch's traffic events (downstream.md §3.2 "Context", as issue 14 asks): the decision must not
 * depend on timing, so the fabric waits — bounded, once per batch — until the Online Feature Plane has applied the
 * traffic topic up to each event's own offset, and the flow's anchor is known to both the Online Feature Plane (its
 * entities) and the Context Store (a READY binding). Whatever is still missing at the deadline is decided on as it
 * is, and says so: `STALE_INPUT_BASIS` (features behind the event) or CONTEXT_MISSING (no binding or entities).
 */

export interface TrafficEvent {
  record: LaneBusRecord;
  envelope: CanonicalEnvelope;
  /** The payload's flow id as Python `str`, when it names one. */
  flowId: string | null;
  pins: ContextPins;
}

export interface GatheredContext {
  /** Per event (same order): whether the features have applied its offset. */
  covered: boolean[];
  entities: Map<string, FlowEntityIds>;
  bindings: Map<string, ContextQueryResponse>;
  /** How long the batch waited (ms). */
  waitedMs: number;
}

/** The longest pause between two looks: the pause doubles from `pollMs` up to this. */
const MAX_POLL_MS = 1_000;

export interface ContextWaitSettings {
  /** The longest a batch waits for its context (the reference's join wait: 2000 ms). */
  joinWaitMs: number;
  /** The first pause between two looks (doubling up to 1 s). */
  pollMs: number;
}

const PIN_NAMES = [
  'platform_run_id',
  'scenario_run_id',
  'manifest_fingerprint',
  'parameter_hash',
  'scenario_id',
  'seed',
] as const;

/** The envelope's context pins (the inlet has checked the six are there). */
export function pinsOf(envelope: CanonicalEnvelope): ContextPins {
  const pins: Record<string, unknown> = {};
  for (const name of PIN_NAMES) pins[name] = envelope[name];
  if (envelope.run_id !== undefined) pins.run_id = envelope.run_id;
  return pins as ContextPins;
}

export function flowIdOf(envelope: CanonicalEnvelope): string | null {
  const value = envelope.payload?.flow_id;
  if (value === null || value === undefined || value === '') return null;
  return ['string', 'number', 'bigint'].includes(typeof value) ? pythonStr(value) : null;
}

const isCovered = (applied: ReadonlyMap<string, string>, record: LaneBusRecord) => {
  const offset = applied.get(`${record.topic}|${record.partition}`);
  return offset !== undefined && BigInt(offset) >= BigInt(record.offset);
};

/** Groups flow ids by the pins they are asked under (one run per batch in practice). */
function byPins(events: readonly TrafficEvent[], flows: ReadonlySet<string>) {
  const groups = new Map<string, { pins: ContextPins; flowIds: string[] }>();
  for (const e of events) {
    if (e.flowId === null || !flows.has(e.flowId)) continue;
    const key = `${e.pins.platform_run_id}|${e.pins.scenario_run_id}`;
    const group = groups.get(key) ?? { pins: e.pins, flowIds: [] };
    if (!group.flowIds.includes(e.flowId)) group.flowIds.push(e.flowId);
    groups.set(key, group);
  }
  return [...groups.values()];
}

export async function gatherContext(
  port: DecisionContextPort,
  sleeper: Sleeper,
  now: () => number,
  events: readonly TrafficEvent[],
  settings: ContextWaitSettings,
): Promise<GatheredContext> {
  const started = now();
  const entities = new Map<string, FlowEntityIds>();
  const bindings = new Map<string, ContextQueryResponse>();
  const flows = new Set(events.flatMap((e) => (e.flowId === null ? [] : [e.flowId])));
  let covered = events.map(() => false);
  let pollEvery = settings.pollMs;
  for (;;) {
    const applied = (await port.featureProgress()).offsets;
    covered = events.map((e, i) => covered[i] || isCovered(applied, e.record));
    const needEntities = new Set([...flows].filter((f) => !entities.has(f)));
    for (const group of byPins(events, needEntities))
      for (const found of await port.flowEntities(group.pins, group.flowIds))
        entities.set(found.flow_id, found);
    const needBinding = new Set([...flows].filter((f) => bindings.get(f)?.status !== 'READY'));
    for (const group of byPins(events, needBinding))
      for (const [flowId, answer] of await port.flowBindings(group.pins, group.flowIds))
        bindings.set(flowId, answer);
    const complete =
      covered.every(Boolean) &&
      [...flows].every((f) => entities.has(f) && bindings.get(f)?.status === 'READY');
    const waited = now() - started;
    if (complete || waited >= settings.joinWaitMs) return { covered, entities, bindings, waitedMs: waited };
    await sleeper.sleep(Math.min(pollEvery, settings.joinWaitMs - waited));
    pollEvery = Math.min(pollEvery * 2, Math.max(settings.pollMs, MAX_POLL_MS));
  }
}
