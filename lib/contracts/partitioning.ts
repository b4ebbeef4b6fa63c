import { PlatformError } from '../errors/platform-error.ts';
import { sha256Hex } from './identity.ts';
import { pythonStr } from './python-format.ts';

/**
 * IG routing (control-ingress.md §5.3 step 3, §5.6): event_type → class → partitioning profile → stream and
 * partition key. Tables are the reference's `class_map_v0.yaml` and `partitioning_profiles_v0.yaml`.
 */

export const EVENT_CLASS_BY_TYPE = {
  s2_event_stream_baseline_6B: 'traffic_baseline',
  s3_event_stream_with_fraud_6B: 'traffic_fraud',
  arrival_events_5B: 'context_arrival',
  s1_arrival_entities_6B: 'context_arrival_entities',
  s2_flow_anchor_baseline_6B: 'context_flow_baseline',
  s3_flow_anchor_with_fraud_6B: 'context_flow_fraud',
  decision_response: 'rtdl_decision',
  action_intent: 'rtdl_action_intent',
  action_outcome: 'rtdl_action_outcome',
  case_trigger: 'case_trigger',
  'ig.policy.activation': 'audit',
  'ig.quarantine.spike': 'audit',
  'ig.pull.run': 'audit',
  'ig.audit.verify': 'audit',
  'dla.audit_record.v1': 'audit',
} as const;

export type EventClass =
  | (typeof EVENT_CLASS_BY_TYPE)[keyof typeof EVENT_CLASS_BY_TYPE]
  | 'traffic'
  | 'control';

/** §5.3 step 3: the class of an event type; unmapped types are `traffic`. */
export function eventClassOf(eventType: string): EventClass {
  return Object.hasOwn(EVENT_CLASS_BY_TYPE, eventType)
    ? EVENT_CLASS_BY_TYPE[eventType as keyof typeof EVENT_CLASS_BY_TYPE]
    : 'traffic';
}

const ENGINE_PINS = [
  'platform_run_id',
  'scenario_run_id',
  'manifest_fingerprint',
  'parameter_hash',
  'seed',
  'scenario_id',
  'run_id',
] as const;
const RTDL_PINS = ENGINE_PINS.filter((pin) => pin !== 'run_id');

/** §5.3 step 3 `required_pins` per class (class_map_v0.yaml). */
export const REQUIRED_PINS: Record<EventClass, readonly string[]> = {
  traffic: ENGINE_PINS,
  traffic_baseline: ENGINE_PINS,
  traffic_fraud: ENGINE_PINS,
  context_arrival: ENGINE_PINS,
  context_arrival_entities: ENGINE_PINS,
  context_flow_baseline: ENGINE_PINS,
  context_flow_fraud: ENGINE_PINS,
  rtdl_decision: RTDL_PINS,
  rtdl_action_intent: RTDL_PINS,
  rtdl_action_outcome: RTDL_PINS,
  case_trigger: RTDL_PINS,
  control: ['platform_run_id', 'scenario_run_id', 'manifest_fingerprint', 'run_id'],
  audit: ['platform_run_id', 'scenario_run_id', 'manifest_fingerprint'],
};

export interface PartitionProfile {
  stream: string;
  keyPrecedence: readonly string[];
}

const TRAFFIC_KEYS = [
  'payload.flow_id',
  'payload.merchant_id',
  'payload.account_id',
  'payload.party_id',
  'event_id',
];
const ARRIVAL_KEYS = ['payload.merchant_id', 'payload.arrival_seq', 'event_id'];
const FLOW_ANCHOR_KEYS = ['payload.flow_id', 'payload.merchant_id', 'payload.arrival_seq', 'event_id'];
const RTDL_ACTION_KEYS = [
  'payload.idempotency_key',
  'payload.decision_id',
  'payload.pins.platform_run_id',
  'payload.pins.scenario_run_id',
  'event_id',
];

/** The one case topic shared by IG, case trigger, case management and the archive writer. */
export const CASE_STREAM = 'fp.bus.case.v1';

/** partitioning_profiles_v0.yaml (all `hash_algo: sha256`). */
export const PARTITION_PROFILES = {
  'ig.partitioning.v0.traffic': { stream: 'fp.bus.traffic.v1', keyPrecedence: TRAFFIC_KEYS },
  'ig.partitioning.v0.traffic.baseline': {
    stream: 'fp.bus.traffic.baseline.v1',
    keyPrecedence: TRAFFIC_KEYS,
  },
  'ig.partitioning.v0.traffic.fraud': { stream: 'fp.bus.traffic.fraud.v1', keyPrecedence: TRAFFIC_KEYS },
  'ig.partitioning.v0.control': {
    stream: 'fp.bus.control.v1',
    keyPrecedence: ['run_id', 'manifest_fingerprint', 'event_id'],
  },
  'ig.partitioning.v0.audit': {
    stream: 'fp.bus.audit.v1',
    keyPrecedence: ['event_id', 'manifest_fingerprint'],
  },
  'ig.partitioning.v0.context.arrival_events': {
    stream: 'fp.bus.context.arrival_events.v1',
    keyPrecedence: ARRIVAL_KEYS,
  },
  'ig.partitioning.v0.context.arrival_entities': {
    stream: 'fp.bus.context.arrival_entities.v1',
    keyPrecedence: ARRIVAL_KEYS,
  },
  'ig.partitioning.v0.context.flow_anchor.baseline': {
    stream: 'fp.bus.context.flow_anchor.baseline.v1',
    keyPrecedence: FLOW_ANCHOR_KEYS,
  },
  'ig.partitioning.v0.context.flow_anchor.fraud': {
    stream: 'fp.bus.context.flow_anchor.fraud.v1',
    keyPrecedence: FLOW_ANCHOR_KEYS,
  },
  'ig.partitioning.v0.rtdl.decision': {
    stream: 'fp.bus.rtdl.v1',
    keyPrecedence: [
      'payload.source_event.event_id',
      'payload.pins.platform_run_id',
      'payload.pins.scenario_run_id',
      'event_id',
    ],
  },
  'ig.partitioning.v0.rtdl.action_intent': { stream: 'fp.bus.rtdl.v1', keyPrecedence: RTDL_ACTION_KEYS },
  'ig.partitioning.v0.rtdl.action_outcome': { stream: 'fp.bus.rtdl.v1', keyPrecedence: RTDL_ACTION_KEYS },
  'ig.partitioning.v0.case.trigger': {
    // The reference routes to fp.bus.case.triggers.v1 but creates only fp.bus.case.v1 (downstream.md §… "make
    // it one config value"): one case stream here, declared in config/substrate.cjs.
    stream: CASE_STREAM,
    keyPrecedence: [
      'payload.case_id',
      'payload.case_subject_key.event_id',
      'payload.pins.platform_run_id',
      'event_id',
    ],
  },
} as const satisfies Record<string, PartitionProfile>;

export type PartitionProfileId = keyof typeof PARTITION_PROFILES;

const PROFILE_BY_CLASS: Partial<Record<EventClass, PartitionProfileId>> = {
  control: 'ig.partitioning.v0.control',
  audit: 'ig.partitioning.v0.audit',
  rtdl_decision: 'ig.partitioning.v0.rtdl.decision',
  rtdl_action_intent: 'ig.partitioning.v0.rtdl.action_intent',
  rtdl_action_outcome: 'ig.partitioning.v0.rtdl.action_outcome',
  case_trigger: 'ig.partitioning.v0.case.trigger',
  traffic_baseline: 'ig.partitioning.v0.traffic.baseline',
  traffic_fraud: 'ig.partitioning.v0.traffic.fraud',
  context_arrival: 'ig.partitioning.v0.context.arrival_events',
  context_arrival_entities: 'ig.partitioning.v0.context.arrival_entities',
  context_flow_baseline: 'ig.partitioning.v0.context.flow_anchor.baseline',
  context_flow_fraud: 'ig.partitioning.v0.context.flow_anchor.fraud',
};

/** The profile of a class; plain `traffic` takes the wiring default (parity `ig.partitioning.v0.traffic`). */
export function partitionProfileIdFor(
  eventClass: EventClass,
  defaultProfileId: PartitionProfileId = 'ig.partitioning.v0.traffic',
): PartitionProfileId {
  return PROFILE_BY_CLASS[eventClass] ?? defaultProfileId;
}

/** Thrown when no key in the precedence list has a value (reason code of §5.3 step 6). */
export class PartitionKeyMissing extends PlatformError<'PARTITION_KEY_MISSING'> {
  constructor() {
    super('PARTITION_KEY_MISSING');
  }
}

function lookup(envelope: Readonly<Record<string, unknown>>, path: string): unknown {
  if (!path.startsWith('payload.')) return envelope[path];
  let current: unknown = envelope.payload ?? {};
  for (const part of path.split('.').slice(1)) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = Object.hasOwn(current, part) ? (current as Record<string, unknown>)[part] : undefined;
  }
  return current;
}

/**
 * §5.6 partition key = sha256 hex of Python `str()` of the first field in `keyPrecedence` whose value is
 * neither null/absent nor "" (0 and false count). None at all → `PartitionKeyMissing`.
 */
export function partitionKey(
  keyPrecedence: readonly string[],
  envelope: Readonly<Record<string, unknown>>,
): string {
  for (const path of keyPrecedence) {
    const value = lookup(envelope, path);
    if (value !== null && value !== undefined && value !== '') return sha256Hex(pythonStr(value));
  }
  throw new PartitionKeyMissing();
}

/** §5.6 route of an envelope: stream (= topic, `EVENT_BUS_STREAM=auto`), profile and partition key. */
export function routeEnvelope(
  envelope: Readonly<Record<string, unknown>> & { event_type: string },
  defaultProfileId: PartitionProfileId = 'ig.partitioning.v0.traffic',
): { eventClass: EventClass; profileId: PartitionProfileId; stream: string; partitionKey: string } {
  const eventClass = eventClassOf(envelope.event_type);
  const profileId = partitionProfileIdFor(eventClass, defaultProfileId);
  const profile: PartitionProfile = PARTITION_PROFILES[profileId];
  return {
    eventClass,
    profileId,
    stream: profile.stream,
    partitionKey: partitionKey(profile.keyPrecedence, envelope),
  };
}
