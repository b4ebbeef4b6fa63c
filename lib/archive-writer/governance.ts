import type { OriginOffset } from '../contracts/archive.ts';
import { PlatformGovernanceEvent } from '../contracts/governance.ts';
import { governanceEventId } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import type { Provenance } from '../contracts/wire-primitives.ts';

/** §2.1 PAYLOAD_MISMATCH ⇒ governance CORRIDOR_ANOMALY `REPLAY_BASIS_MISMATCH`, as the reference emits it. */

export const ARCHIVE_WRITER_COMPONENT = 'archive_writer';
export const ARCHIVE_WRITER_ACTOR_ID = 'SYSTEM::archive_writer';

export interface ReplayBasisMismatch {
  envelope: Record<string, unknown>;
  platformRunId: string;
  origin: OriginOffset;
  expectedPayloadHash: string;
  observedPayloadHash: string;
  /** The ledger's archive_ref of the record first archived there. */
  archiveRef: string | undefined;
  provenance: Provenance;
  at: Date;
}

const text = (v: unknown): string | undefined =>
  v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v : String(v);

/** One event per position: `dedupe_key = archive-replay-basis-mismatch:<topic>:<partition>:<kind>:<offset>`. */
export function replayBasisMismatchEvent(input: ReplayBasisMismatch): PlatformGovernanceEvent {
  const { origin, envelope } = input;
  const scenarioRunId = text(envelope.scenario_run_id);
  const details: Record<string, unknown> = {
    corridor: ARCHIVE_WRITER_COMPONENT,
    anomaly_kind: 'REPLAY_BASIS_MISMATCH',
    reason_code: 'REPLAY_BASIS_MISMATCH',
    anomaly_category: 'REPLAY_BASIS_MISMATCH',
    origin_offset: {
      topic: origin.topic,
      partition: origin.partition,
      offset_kind: origin.offset_kind,
      offset: origin.offset,
    },
    expected_payload_hash: input.expectedPayloadHash,
    observed_payload_hash: input.observedPayloadHash,
    ...(input.archiveRef ? { evidence_refs: [{ ref_type: 'archive_ref', ref_id: input.archiveRef }] } : {}),
  };
  const dedupeKey = `archive-replay-basis-mismatch:${origin.topic}:${origin.partition}:${origin.offset_kind}:${origin.offset}`;
  const pins = {
    platform_run_id: input.platformRunId,
    scenario_run_id: scenarioRunId,
    manifest_fingerprint: text(envelope.manifest_fingerprint),
    parameter_hash: text(envelope.parameter_hash),
    seed: text(envelope.seed),
    scenario_id: text(envelope.scenario_id),
  };
  return PlatformGovernanceEvent.parse({
    event_id: governanceEventId({
      eventFamily: 'CORRIDOR_ANOMALY',
      platformRunId: input.platformRunId,
      scenarioRunId: scenarioRunId ?? '',
      sourceComponent: ARCHIVE_WRITER_COMPONENT,
      dedupeKey,
      details,
    }),
    event_family: 'CORRIDOR_ANOMALY',
    ts_utc: pythonIsoformat(input.at),
    actor: {
      actor_id: ARCHIVE_WRITER_ACTOR_ID,
      source_type: 'SYSTEM',
      source_component: ARCHIVE_WRITER_COMPONENT,
    },
    pins: Object.fromEntries(Object.entries(pins).filter(([, v]) => v !== undefined)),
    provenance: input.provenance,
    details,
  });
}
