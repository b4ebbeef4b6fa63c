import { governanceEventId } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import type { Provenance } from '../contracts/wire-primitives.ts';
import type { GovernanceFamily, ReadyStatus } from './reason-codes.ts';
import { GovernanceEvent, ReadyRecordLine } from './stream-contracts.ts';

/** Durable evidence of the World Streamer (control-ingress.md §4.1 steps 7–8, §4.8): ready record and governance. */

export const GOVERNANCE_ACTOR_ID = 'svc:wsp_ready_consumer';
export const GOVERNANCE_COMPONENT = 'world_streamer_producer';

export interface ReadyRecordInput {
  messageId: string;
  runId: string;
  status: ReadyStatus;
  reason?: string | null;
  emitted?: number | null;
  engineRunRoot?: string | null;
  scenarioId?: string | null;
  at: Date;
}

/** §4.1 step 8 one ready-record line; `ts_utc` in Python isoformat. */
export function readyRecordLine(input: ReadyRecordInput): ReadyRecordLine {
  return ReadyRecordLine.parse({
    message_id: input.messageId,
    run_id: input.runId,
    status: input.status,
    reason: input.reason ?? null,
    emitted: input.emitted ?? null,
    engine_run_root: input.engineRunRoot ?? null,
    scenario_id: input.scenarioId ?? null,
    ts_utc: pythonIsoformat(input.at),
  });
}

export interface GovernancePins {
  platform_run_id: string;
  scenario_run_id?: string;
  manifest_fingerprint?: string;
  parameter_hash?: string;
  seed?: string | number | bigint;
  scenario_id?: string;
}

export interface GovernanceInput {
  family: GovernanceFamily;
  /** e.g. `ready_seen:{message_id}`, `started:{session}`, `ended:{session}`, `cancelled:{message_id}:scope_mismatch`. */
  dedupeKey: string;
  pins: GovernancePins;
  details: Record<string, unknown>;
  provenance: Provenance;
  at: Date;
}

/** §4.1 a governance event; `event_id = sha256("{family}|{prid}|{scenario_run_id}|{component}|{dedupe_key}")`. */
export function governanceEvent(input: GovernanceInput): GovernanceEvent {
  const { pins } = input;
  return GovernanceEvent.parse({
    event_id: governanceEventId({
      eventFamily: input.family,
      platformRunId: pins.platform_run_id,
      scenarioRunId: pins.scenario_run_id ?? '',
      sourceComponent: GOVERNANCE_COMPONENT,
      dedupeKey: input.dedupeKey,
      details: input.details,
    }),
    event_family: input.family,
    ts_utc: pythonIsoformat(input.at),
    actor: { actor_id: GOVERNANCE_ACTOR_ID, source_type: 'SYSTEM', source_component: GOVERNANCE_COMPONENT },
    pins: {
      platform_run_id: pins.platform_run_id,
      ...(pins.scenario_run_id ? { scenario_run_id: pins.scenario_run_id } : {}),
      ...(pins.manifest_fingerprint ? { manifest_fingerprint: pins.manifest_fingerprint } : {}),
      ...(pins.parameter_hash ? { parameter_hash: pins.parameter_hash } : {}),
      ...(pins.seed === undefined ? {} : { seed: String(pins.seed) }),
      ...(pins.scenario_id ? { scenario_id: pins.scenario_id } : {}),
    },
    provenance: input.provenance,
    details: input.details,
  });
}
