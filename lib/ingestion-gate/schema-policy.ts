/**
 * §5.3 step 4: the IG schema policy (`schema_policy_v0.yaml`, `default_action: quarantine`): which event types
 * are admitted at all, and whether they need a schema version. Payloads are then checked by the
 * PayloadValidator port against the type's payload schema.
 */

export interface SchemaPolicyEntry {
  eventClass: string;
  schemaVersionRequired: boolean;
  allowedSchemaVersions?: readonly string[];
}

const ENGINE = (eventClass: string): SchemaPolicyEntry => ({ eventClass, schemaVersionRequired: false });
const V1 = (eventClass: string): SchemaPolicyEntry => ({
  eventClass,
  schemaVersionRequired: true,
  allowedSchemaVersions: ['v1'],
});

export const SCHEMA_POLICY: Readonly<Record<string, SchemaPolicyEntry>> = {
  s2_event_stream_baseline_6B: ENGINE('traffic_baseline'),
  s3_event_stream_with_fraud_6B: ENGINE('traffic_fraud'),
  arrival_events_5B: ENGINE('context_arrival'),
  s1_arrival_entities_6B: ENGINE('context_arrival_entities'),
  s2_flow_anchor_baseline_6B: ENGINE('context_flow_baseline'),
  s3_flow_anchor_with_fraud_6B: ENGINE('context_flow_fraud'),
  decision_response: V1('rtdl_decision'),
  action_intent: V1('rtdl_action_intent'),
  action_outcome: V1('rtdl_action_outcome'),
  case_trigger: V1('case_trigger'),
  'ig.policy.activation': ENGINE('audit'),
  'ig.quarantine.spike': ENGINE('audit'),
  'ig.pull.run': ENGINE('audit'),
  'ig.audit.verify': ENGINE('audit'),
  'dla.audit_record.v1': V1('audit'),
};

export type SchemaPolicyCode =
  | 'SCHEMA_POLICY_MISSING'
  | 'SCHEMA_VERSION_REQUIRED'
  | 'SCHEMA_VERSION_NOT_ALLOWED';

/** The policy's verdict on an event type and version: undefined when admitted so far. */
export function schemaPolicyCode(
  eventType: string,
  schemaVersion: string | undefined,
): SchemaPolicyCode | undefined {
  const entry = Object.hasOwn(SCHEMA_POLICY, eventType) ? SCHEMA_POLICY[eventType] : undefined;
  if (!entry) return 'SCHEMA_POLICY_MISSING';
  if (entry.schemaVersionRequired && !schemaVersion) return 'SCHEMA_VERSION_REQUIRED';
  if (schemaVersion && entry.allowedSchemaVersions && !entry.allowedSchemaVersions.includes(schemaVersion))
    return 'SCHEMA_VERSION_NOT_ALLOWED';
  return undefined;
}
