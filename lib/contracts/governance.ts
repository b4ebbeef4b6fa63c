import { z } from 'zod';
import { Hex64, IsoTimestamp, PlatformRunIdPattern, Provenance, SafeText } from './wire-primitives.ts';

/**
 * A platform governance event of any component (downstream.md obs/gov): `{event_id, event_family, ts_utc, actor,
 * pins, provenance, details}`, `event_id` by `governanceEventId` (identity.ts). The World Streamer keeps its own
 * narrower schema (its actor is fixed); the S3 sink writes either (`<run>/obs/governance/events/<id>.json`).
 */

export const GOVERNANCE_EVENT_FAMILIES = [
  'RUN_READY_SEEN',
  'RUN_STARTED',
  'RUN_ENDED',
  'RUN_CANCELLED',
  'POLICY_REV_CHANGED',
  'CORRIDOR_ANOMALY',
  'EVIDENCE_REF_RESOLVED',
  'RUN_REPORT_GENERATED',
] as const;

/** Anomaly categories of CORRIDOR_ANOMALY. */
export const ANOMALY_CATEGORIES = [
  'REF_ACCESS_DENIED',
  'PUBLISH_AMBIGUOUS',
  'REPLAY_BASIS_MISMATCH',
  'SCHEMA_POLICY_MISSING',
  'INCOMPATIBILITY',
  'UNKNOWN',
] as const;

export const PlatformGovernanceEvent = z.strictObject({
  event_id: Hex64,
  event_family: z.enum(GOVERNANCE_EVENT_FAMILIES),
  ts_utc: IsoTimestamp,
  actor: z.strictObject({
    actor_id: SafeText(256),
    source_type: z.literal('SYSTEM'),
    source_component: SafeText(128),
  }),
  pins: z.strictObject({
    platform_run_id: PlatformRunIdPattern,
    scenario_run_id: z.string().min(1).optional(),
    manifest_fingerprint: z.string().min(1).optional(),
    parameter_hash: z.string().min(1).optional(),
    seed: z.string().min(1).optional(),
    scenario_id: z.string().min(1).optional(),
  }),
  provenance: Provenance,
  details: z.record(z.string(), z.unknown()),
});
export type PlatformGovernanceEvent = z.infer<typeof PlatformGovernanceEvent>;
