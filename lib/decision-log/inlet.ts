import { ActionOutcomePayload } from '../contracts/action-layer.ts';
import {
  ACTION_INTENT,
  ACTION_OUTCOME,
  ActionIntentPayload,
  DECISION_RESPONSE,
  DecisionResponsePayload,
  pinScope,
  type RtdlPins,
} from '../contracts/decision-lane.ts';
import {
  type DecisionLogBusRecord,
  LINEAGE_EVENT_TYPES,
  LINEAGE_SCHEMA_VERSION,
  type LineageEventType,
} from '../contracts/decision-log.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { payloadHash } from '../contracts/identity.ts';
import { REQUIRED_PINS } from '../contracts/partitioning.ts';
import { SafeText } from '../contracts/wire-primitives.ts';
import { describeIssues } from '../errors/platform-error.ts';

/**
 * The decision log's inlet (downstream.md §3.4): which records of fp.bus.rtdl.v1 are candidates. The checks run in
 * the reference's order, the run scope before the event family, and the first that fails names the reason:
 * INVALID_ENVELOPE, NON_AUDIT_TOPIC, MISSING_REQUIRED_PINS, RUN_SCOPE_MISMATCH, UNKNOWN_EVENT_FAMILY,
 * SCHEMA_VERSION_REQUIRED / _NOT_ALLOWED, MISSING_EVENT_ID, PAYLOAD_CONTRACT_INVALID (the payload must parse as the
 * decision fabric's or action layer's contract and name the envelope's pins).
 */

export const INLET_REJECTIONS = [
  'INVALID_ENVELOPE',
  'NON_AUDIT_TOPIC',
  'MISSING_REQUIRED_PINS',
  'RUN_SCOPE_MISMATCH',
  'UNKNOWN_EVENT_FAMILY',
  'SCHEMA_VERSION_REQUIRED',
  'SCHEMA_VERSION_NOT_ALLOWED',
  'MISSING_EVENT_ID',
  'PAYLOAD_CONTRACT_INVALID',
] as const;
export type InletRejection = (typeof INLET_REJECTIONS)[number];

export interface DecisionLogInletSettings {
  /** The run scope gate: other runs' records are RUN_SCOPE_MISMATCH (undefined: every run is in scope). */
  requiredPlatformRunId?: string;
  /** The admitted topics (fp.bus.rtdl.v1). */
  admittedTopics: readonly string[];
}

/** A candidate's payload, parsed by its family's contract. */
export type LineageEvent =
  | { kind: 'decision'; payload: DecisionResponsePayload }
  | { kind: 'intent'; payload: ActionIntentPayload }
  | { kind: 'outcome'; payload: ActionOutcomePayload };

export interface InletCandidate {
  envelope: CanonicalEnvelope;
  event_type: LineageEventType;
  event_id: string;
  schema_version: string;
  ts_utc: string;
  /** sha256 of canonical {event_type, schema_version, payload}. */
  payload_hash: string;
  pins: RtdlPins;
  decision_id: string;
  lineage: LineageEvent;
}

/** What the rows of a rejected record say about it: each field only when it is a storable text. */
export interface RejectedFacts {
  platform_run_id: string | null;
  scenario_run_id: string | null;
  event_type: string | null;
  event_id: string | null;
  schema_version: string | null;
}

export type InletVerdict =
  | { accepted: true; candidate: InletCandidate }
  | {
      accepted: false;
      reason: InletRejection;
      detail: string | null;
      facts: RejectedFacts;
      envelope: unknown;
    };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const blank = (value: unknown) =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
const StorableText = SafeText(256);
const storable = (value: unknown): string | null => {
  const parsed = StorableText.safeParse(value);
  return parsed.success ? parsed.data : null;
};

function factsOf(raw: unknown): RejectedFacts {
  const r = isObject(raw) ? raw : {};
  return {
    platform_run_id: storable(r.platform_run_id),
    scenario_run_id: storable(r.scenario_run_id),
    event_type: storable(r.event_type),
    event_id: storable(r.event_id),
    schema_version: storable(r.schema_version),
  };
}

const PAYLOAD_CONTRACTS = {
  [DECISION_RESPONSE]: DecisionResponsePayload,
  [ACTION_INTENT]: ActionIntentPayload,
  [ACTION_OUTCOME]: ActionOutcomePayload,
} as const;

function lineageEventOf(eventType: LineageEventType, payload: unknown) {
  const parsed = PAYLOAD_CONTRACTS[eventType].safeParse(payload);
  if (!parsed.success) return { error: describeIssues(parsed.error.issues).slice(0, 512) };
  const data = parsed.data;
  const event: LineageEvent =
    eventType === DECISION_RESPONSE
      ? { kind: 'decision', payload: data as DecisionResponsePayload }
      : eventType === ACTION_INTENT
        ? { kind: 'intent', payload: data as ActionIntentPayload }
        : { kind: 'outcome', payload: data as ActionOutcomePayload };
  return { event };
}

/** The envelope pins the payload names otherwise (compared as strings, as pin_scope writes them). */
function pinsDiffering(envelope: CanonicalEnvelope, pins: RtdlPins): string[] {
  const scope = pinScope(pins);
  return (Object.keys(scope) as (keyof typeof scope)[]).filter(
    (pin) => String(envelope[pin as keyof CanonicalEnvelope]) !== scope[pin],
  );
}

/** The §3.4 inlet checks in the reference's order; the first that fails names the reason. */
export function inletVerdict(record: DecisionLogBusRecord, settings: DecisionLogInletSettings): InletVerdict {
  const raw = record.envelope;
  const reject = (reason: InletRejection, detail: string | null = null): InletVerdict => ({
    accepted: false,
    reason,
    detail,
    facts: factsOf(raw),
    envelope: raw,
  });
  if (!isObject(raw)) return reject('INVALID_ENVELOPE', 'not a JSON object');
  const parsed = CanonicalEnvelope.safeParse(raw);
  if (!parsed.success) return reject('INVALID_ENVELOPE', describeIssues(parsed.error.issues).slice(0, 512));
  const envelope = parsed.data;
  if (!settings.admittedTopics.includes(record.topic))
    return reject('NON_AUDIT_TOPIC', storable(record.topic));
  const missing = REQUIRED_PINS.rtdl_decision.filter((pin) => blank(raw[pin]));
  if (missing.length > 0) return reject('MISSING_REQUIRED_PINS', missing.join(','));
  const required = settings.requiredPlatformRunId;
  if (required && envelope.platform_run_id !== required)
    return reject('RUN_SCOPE_MISMATCH', `platform_run_id=${envelope.platform_run_id}`);
  const eventType = LINEAGE_EVENT_TYPES.find((t) => t === envelope.event_type);
  if (!eventType) return reject('UNKNOWN_EVENT_FAMILY', `event_type=${envelope.event_type}`);
  if (blank(envelope.schema_version)) return reject('SCHEMA_VERSION_REQUIRED');
  if (envelope.schema_version !== LINEAGE_SCHEMA_VERSION)
    return reject(
      'SCHEMA_VERSION_NOT_ALLOWED',
      `event_type=${eventType} schema_version=${envelope.schema_version}`,
    );
  if (blank(envelope.event_id)) return reject('MISSING_EVENT_ID');
  if (!isObject(envelope.payload)) return reject('PAYLOAD_CONTRACT_INVALID', 'payload must be an object');
  const lineage = lineageEventOf(eventType, envelope.payload);
  if ('error' in lineage) return reject('PAYLOAD_CONTRACT_INVALID', lineage.error);
  const { event } = lineage;
  const differing = pinsDiffering(envelope, event.payload.pins);
  if (differing.length > 0)
    return reject(
      'PAYLOAD_CONTRACT_INVALID',
      `payload.pins differ from the envelope: ${differing.join(',')}`,
    );
  return {
    accepted: true,
    candidate: {
      envelope,
      event_type: eventType,
      event_id: envelope.event_id,
      schema_version: LINEAGE_SCHEMA_VERSION,
      ts_utc: envelope.ts_utc,
      payload_hash: payloadHash(envelope),
      pins: event.payload.pins,
      decision_id: event.payload.decision_id,
      lineage: event,
    },
  };
}
