import type { CanonicalEnvelope } from '../contracts/envelope.ts';
import type { FeatureKey } from '../contracts/online-features.ts';
import { pythonStr } from '../contracts/python-format.ts';

/**
 * Which keys an event feeds. Traffic feeds its flow (`flow_id`, else the event id): the engine's traffic payload
 * carries no entity. A flow anchor feeds the six entities it names and two composite keys (`account_device` =
 * `<account>|<device>`, `account_ip`), whose first sighting is "this device / ip is new to this account". Only
 * these payload fields are read (plus `amount` and the envelope's `ts_utc`), so nothing else can feed a feature.
 */

/** The entities a flow anchor carries (`s3_flow_anchor_with_fraud_6B`, `s2_flow_anchor_baseline_6B`). */
export const ANCHOR_ENTITY_TYPES = [
  'party_id',
  'account_id',
  'instrument_id',
  'device_id',
  'ip_id',
  'merchant_id',
] as const;
export type AnchorEntityType = (typeof ANCHOR_ENTITY_TYPES)[number];

/** Composite keys of an anchor: `<first id>|<second id>`. */
export const COMPOSITE_KEY_TYPES = {
  account_device: ['account_id', 'device_id'],
  account_ip: ['account_id', 'ip_id'],
} as const satisfies Record<string, readonly [AnchorEntityType, AnchorEntityType]>;
export type CompositeKeyType = keyof typeof COMPOSITE_KEY_TYPES;

export const FLOW_KEY_TYPES = ['flow_id', 'event_id'] as const;

/** Every key type the intake writes: what a feature policy may name. */
export const FEATURE_KEY_TYPES = [
  ...FLOW_KEY_TYPES,
  ...ANCHOR_ENTITY_TYPES,
  ...(Object.keys(COMPOSITE_KEY_TYPES) as CompositeKeyType[]),
] as const;

export const isAnchorEntityType = (keyType: string): keyType is AnchorEntityType =>
  (ANCHOR_ENTITY_TYPES as readonly string[]).includes(keyType);

const blank = (value: unknown) => value === null || value === undefined || value === '';

/** An id as text (64-bit integers exact), or undefined when absent or not a scalar. */
export const scalarId = (value: unknown): string | undefined =>
  !blank(value) && ['string', 'number', 'bigint'].includes(typeof value) ? pythonStr(value) : undefined;

/** The key of a traffic event: its flow, else its event id. */
export function trafficKeyOf(envelope: CanonicalEnvelope): FeatureKey {
  const flowId = scalarId(envelope.payload?.flow_id);
  return flowId === undefined
    ? { key_type: 'event_id', key_id: envelope.event_id }
    : { key_type: 'flow_id', key_id: flowId };
}

/** The entity ids a flow anchor carries (absent ones left out). */
export function anchorEntitiesOf(envelope: CanonicalEnvelope): Partial<Record<AnchorEntityType, string>> {
  const payload = envelope.payload ?? {};
  const entities: Partial<Record<AnchorEntityType, string>> = {};
  for (const type of ANCHOR_ENTITY_TYPES) {
    const id = scalarId(payload[type]);
    if (id !== undefined) entities[type] = id;
  }
  return entities;
}

/** The keys a flow anchor feeds: each entity it carries, then each composite whose two parts it carries. */
export function anchorKeysOf(entities: Partial<Record<AnchorEntityType, string>>): FeatureKey[] {
  const keys: FeatureKey[] = [];
  for (const type of ANCHOR_ENTITY_TYPES) {
    const id = entities[type];
    if (id !== undefined) keys.push({ key_type: type, key_id: id });
  }
  for (const [type, [first, second]] of Object.entries(COMPOSITE_KEY_TYPES)) {
    const [a, b] = [entities[first], entities[second]];
    if (a !== undefined && b !== undefined) keys.push({ key_type: type, key_id: `${a}|${b}` });
  }
  return keys;
}
