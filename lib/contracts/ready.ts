import { z } from 'zod';
import { sortedJson } from './canonical-json.ts';
import {
  GateId,
  Hex32,
  Hex64,
  IsoTimestamp,
  OutputId,
  PlatformRunIdPattern,
  Provenance,
  Rfc3339Micros,
  Sha256Digest,
  SrPolicyRev,
  Uint64,
} from './wire-primitives.ts';

/**
 * Scenario Runner outputs that WSP consumes: the run facts view and the READY signal with its control-bus
 * record (control-ingress.md §3.5, §3.6; engine_output_locator / gate_receipt / instance_proof_receipt schemas).
 */

/** engine_output_locator.schema.yaml: at least one identity partition besides `output_id` and `path`. */
export const EngineOutputLocator = z
  .strictObject({
    output_id: OutputId,
    path: z.string().min(1).max(2048),
    manifest_fingerprint: Hex64.optional(),
    parameter_hash: Hex64.optional(),
    seed: Uint64.optional(),
    scenario_id: z.string().min(1).max(512).optional(),
    run_id: Hex32.optional(),
    schema_ref: z.string().min(1).max(512).optional(),
    dictionary_ref: z.string().min(1).max(512).optional(),
    produced_at_utc: Rfc3339Micros.optional(),
    content_digest: Sha256Digest.optional(),
    notes: z.string().max(2048).optional(),
  })
  .refine(
    (l) =>
      l.manifest_fingerprint !== undefined ||
      l.parameter_hash !== undefined ||
      l.run_id !== undefined ||
      l.scenario_id !== undefined,
    'a locator names at least one of manifest_fingerprint, parameter_hash, run_id, scenario_id',
  );
export type EngineOutputLocator = z.infer<typeof EngineOutputLocator>;

const GateScope = z.strictObject({
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64.optional(),
  seed: Uint64.optional(),
  scenario_id: z.union([z.string().min(1).max(256), Uint64]).optional(),
  run_id: Hex32.optional(),
});

/** gate_receipt.schema.yaml (§1.4 "Gate receipt"). */
export const GateReceipt = z.strictObject({
  gate_id: GateId,
  status: z.enum(['PASS', 'FAIL']),
  scope: GateScope,
  produced_at_utc: Rfc3339Micros.optional(),
  receipt_kind: z.enum(['passed_flag', 'json_receipt', 'bundle_flag']).optional(),
  digest: Sha256Digest.optional(),
  artifacts: z
    .strictObject({
      validation_bundle_root: z.string().min(1).max(2048).optional(),
      index_path: z.string().min(1).max(2048).optional(),
      passed_flag_path: z.string().min(1).max(2048).optional(),
    })
    .optional(),
  notes: z.string().max(2048).optional(),
});
export type GateReceipt = z.infer<typeof GateReceipt>;

/** instance_proof_receipt.schema.yaml (§3.5), written by SR. */
export const InstanceProofReceipt = z.strictObject({
  output_id: OutputId,
  status: z.enum(['PASS', 'FAIL']),
  scope: GateScope,
  target_ref: EngineOutputLocator,
  target_digest: Sha256Digest,
  bundle_manifest_ref: z.string().min(1).max(2048).optional(),
  produced_at_utc: Rfc3339Micros.optional(),
  receipt_kind: z.literal('instance_proof').optional(),
  artifacts: z.strictObject({ receipt_path: z.string().min(1).max(2048).optional() }).optional(),
  notes: z.string().max(2048).optional(),
});
export type InstanceProofReceipt = z.infer<typeof InstanceProofReceipt>;

const OraclePackRefFields = {
  engine_run_root: z.string().min(1).max(2048),
  scenario_id: z.string().min(1),
  stream_view_root: z.string().min(1).optional(),
  /** `{output_id: "<stream_view_root>/output_id=<id>"}`. */
  stream_view_output_refs: z.record(z.string(), z.string().min(1)).optional(),
  oracle_pack_id: Hex64.optional(),
  manifest_ref: z.string().min(1).max(2048).optional(),
  engine_release: z.string().min(1).max(256).optional(),
  oracle_root: z.string().min(1).max(2048).optional(),
};

/** §3.6 `oracle_pack_ref` in the facts view: engine root and scenario always, the pack id when sealed. */
export const OraclePackRef = z.strictObject(OraclePackRefFields);
export type OraclePackRef = z.infer<typeof OraclePackRef>;

/** The facts view `pins`: the world key plus the three run ids. */
export const RunPins = z.strictObject({
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  seed: Uint64,
  scenario_id: z.string().min(1),
  run_id: Hex32,
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
});

/** §3.6 `run_facts_view` (closed), written once at `<prefix>/sr/run_facts_view/{run_id}.json`. */
export const RunFactsView = z.strictObject({
  run_id: Hex32,
  platform_run_id: PlatformRunIdPattern,
  /** Equal to `run_id`. */
  scenario_run_id: Hex32,
  pins: RunPins,
  locators: z.array(EngineOutputLocator),
  output_roles: z.record(z.string(), z.enum(['business_traffic', 'non_traffic'])),
  intended_outputs: z.array(z.string().min(1)),
  gate_receipts: z.array(GateReceipt),
  instance_receipts: z.array(InstanceProofReceipt).optional(),
  policy_rev: SrPolicyRev,
  bundle_hash: Hex64,
  /** = policy_rev.content_digest. */
  run_config_digest: Hex64,
  service_release_id: z.string().min(1).max(256),
  environment: z.string().min(1).max(64),
  provenance: Provenance,
  plan_ref: z.string().min(1),
  record_ref: z.string().min(1),
  status_ref: z.string().min(1),
  oracle_pack_ref: OraclePackRef.optional(),
  evidence_notes: z.array(z.string().min(1)).optional(),
});
export type RunFactsView = z.infer<typeof RunFactsView>;

/** §3.6 READY payload (`run_ready_signal`, closed). */
export const ReadySignal = z.strictObject({
  run_id: Hex32,
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: Hex32,
  /** `"<prefix>/sr/run_facts_view/{run_id}.json"`, relative to the store root. */
  facts_view_ref: z.string().min(1),
  bundle_hash: Hex64,
  /** `readyMessageId(platform_run_id, scenario_run_id, bundle_hash)`. */
  message_id: Hex64,
  run_config_digest: Hex64,
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64,
  scenario_id: z.string().min(1),
  plan_hash: Hex64.optional(),
  service_release_id: z.string().min(1).max(256).optional(),
  environment: z.string().min(1).max(64).optional(),
  provenance: Provenance.optional(),
  emitted_at_utc: IsoTimestamp.optional(),
  oracle_pack_ref: z
    .strictObject({
      ...OraclePackRefFields,
      engine_run_root: OraclePackRefFields.engine_run_root.optional(),
      scenario_id: OraclePackRefFields.scenario_id.optional(),
    })
    .refine((ref) => Object.keys(ref).length > 0, 'oracle_pack_ref names at least one field')
    .optional(),
});
export type ReadySignal = z.infer<typeof ReadySignal>;

export const CONTROL_TOPIC = 'fp.bus.control.v1';

/** §3.6 control-bus record: the Kinesis `Data` of `sr-control-bus`, `PartitionKey = run_id`. */
export const ControlBusRecord = z.strictObject({
  topic: z.literal(CONTROL_TOPIC),
  message_id: Hex64,
  published_at_utc: IsoTimestamp,
  attributes: z.strictObject({ kind: z.enum(['READY', 'READY_REEMIT']), run_id: Hex32 }),
  partition_key: z.string().min(1),
  payload: ReadySignal,
});
export type ControlBusRecord = z.infer<typeof ControlBusRecord>;

/** §3.6 the control-bus record for a READY payload; `publishedAtUtc` is Python isoformat. */
export function readyControlRecord(
  ready: ReadySignal,
  publishedAtUtc: string,
  kind: 'READY' | 'READY_REEMIT' = 'READY',
): ControlBusRecord {
  return {
    topic: CONTROL_TOPIC,
    message_id: ready.message_id,
    published_at_utc: publishedAtUtc,
    attributes: { kind, run_id: ready.run_id },
    partition_key: ready.run_id,
    payload: ready,
  };
}

/** §3.6 the record bytes SR puts on the control bus: SJ (Python default separators), UTF-8. */
export function controlRecordText(record: ControlBusRecord): string {
  return sortedJson(record);
}
