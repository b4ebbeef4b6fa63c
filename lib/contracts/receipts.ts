import { z } from 'zod';
import { PlatformError } from '../errors/platform-error.ts';
import {
  Hex32,
  Hex64,
  IsoTimestamp,
  PlatformRunIdPattern,
  Provenance,
  Rfc3339Micros,
  Sha256Digest,
  Uint64,
} from './wire-primitives.ts';

/**
 * Ingestion Gate outputs: the receipt (control-ingress.md §5.4), the quarantine record (§5.5) and the event
 * bus reference they carry (§6). Ids: `receiptId`, `quarantineId`, `dedupeKey`, `payloadHash` in identity.ts.
 */

/** §6 `eb_ref`: where the admitted record sits; `offset` is the Kinesis sequence number as a string. */
export const EbRef = z.strictObject({
  topic: z.string().min(1).max(256),
  partition: z.number().int().min(0),
  offset: z.string().min(1).max(128),
  offset_kind: z.enum(['file_line', 'kinesis_sequence', 'kafka_offset']),
  published_at_utc: IsoTimestamp.optional(),
});
export type EbRef = z.infer<typeof EbRef>;

/** `policy_rev` of IG: `{policy_id: "ig_policy", revision, content_digest}`. */
export const IgPolicyRev = z.strictObject({
  policy_id: z.string(),
  revision: z.string(),
  content_digest: Hex64.optional(),
});

/** Receipt and quarantine pins; nulls are pruned before writing. */
export const AdmissionPins = z.strictObject({
  manifest_fingerprint: Hex64,
  platform_run_id: PlatformRunIdPattern.optional(),
  scenario_run_id: Hex32.optional(),
  parameter_hash: Hex64.optional(),
  seed: Uint64.optional(),
  scenario_id: z.union([z.string().min(1).max(256), Uint64]).optional(),
  run_id: Hex32.optional(),
});

export const EvidenceRef = z.strictObject({
  kind: z.string().min(1).max(64),
  ref: z.string().min(1).max(2048),
  digest: Sha256Digest.optional(),
});

/** The authenticated caller (§5.1): `{actor_id: "SYSTEM::<key>", source_type, auth_mode, principal}`. */
export const Actor = z.strictObject({
  actor_id: z.string().min(1),
  source_type: z.string().min(1),
  auth_mode: z.string().min(1).optional(),
  principal: z.string().min(1).optional(),
});

/**
 * §5.4 IG receipt (closed), stored write-once at `<platform_run_id>/ig/receipts/{receipt_id}.json`.
 * ADMIT and DUPLICATE carry `eb_ref, scenario_run_id, payload_hash, admitted_at_utc`; QUARANTINE carries
 * `evidence_refs`.
 */
export const IngestionReceipt = z
  .strictObject({
    receipt_id: Hex32,
    decision: z.enum(['ADMIT', 'DUPLICATE', 'QUARANTINE']),
    event_id: z.string().min(1).max(256),
    event_type: z.string().min(1).max(256),
    event_class: z.string().min(1).optional(),
    ts_utc: Rfc3339Micros,
    manifest_fingerprint: Hex64,
    platform_run_id: PlatformRunIdPattern.optional(),
    run_config_digest: Hex64.optional(),
    policy_rev: IgPolicyRev,
    dedupe_key: Hex64.optional(),
    pins: AdmissionPins.optional(),
    scenario_run_id: Hex32.optional(),
    payload_hash: Sha256Digest.optional(),
    admitted_at_utc: IsoTimestamp.optional(),
    schema_version: z.string().min(1).max(64).optional(),
    producer: z.string().min(1).max(128).optional(),
    partitioning_profile_id: z.string().min(1).max(128).optional(),
    partition_key: z.string().min(1).max(256).optional(),
    eb_ref: EbRef.optional(),
    reason_codes: z.array(z.string().min(1).max(128)).optional(),
    evidence_refs: z.array(EvidenceRef).optional(),
    actor: Actor.optional(),
    service_release_id: z.string().min(1).max(256).optional(),
    environment: z.string().min(1).max(64).optional(),
    provenance: Provenance.optional(),
  })
  .superRefine((receipt, ctx) => {
    const required =
      receipt.decision === 'QUARANTINE'
        ? (['evidence_refs'] as const)
        : (['eb_ref', 'scenario_run_id', 'payload_hash', 'admitted_at_utc'] as const);
    for (const field of required) {
      if (receipt[field] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `${receipt.decision} receipts carry ${field}`,
        });
      }
    }
  });
export type IngestionReceipt = z.infer<typeof IngestionReceipt>;

/** The envelope snapshot in a quarantine record: every field but `payload`, kept as received. */
const EnvelopeSnapshot = z
  .record(z.string(), z.unknown())
  .refine((snapshot) => !Object.hasOwn(snapshot, 'payload'), 'the snapshot leaves the payload out');

/** §5.5 quarantine record (closed), write-once at `<platform_run_id>/ig/quarantine/{quarantine_id}.json`. */
export const QuarantineRecord = z.strictObject({
  quarantine_id: Hex32,
  received_at_utc: IsoTimestamp,
  decision: z.literal('QUARANTINE'),
  reason_codes: z.array(z.string().min(1).max(128)).min(1),
  /** What exactly failed (this project's addition: the evidence an operator needs, e.g. the schema errors). */
  detail: z.string().max(4096).optional(),
  /** The envelope's, or 64 zeros when it had none. */
  manifest_fingerprint: Hex64,
  pins: AdmissionPins.optional(),
  policy_rev: IgPolicyRev,
  envelope: EnvelopeSnapshot.optional(),
  evidence_refs: z.array(EvidenceRef).optional(),
  actor: Actor.optional(),
  service_release_id: z.string().min(1).max(256).optional(),
  environment: z.string().min(1).max(64).optional(),
  provenance: Provenance.optional(),
});
export type QuarantineRecord = z.infer<typeof QuarantineRecord>;

/** `"0" * 64`: the manifest fingerprint of a quarantine record whose envelope had none. */
export const ZERO_FINGERPRINT = '0'.repeat(64);

/**
 * Where a receipt or quarantine record is: `s3://bucket/key` for a document stored alone, or
 * `s3://bucket/key#bytes=START-END` (inclusive byte offsets, as an HTTP Range) for one line of a segment object
 * that holds the documents written together by one batch.
 */
export interface EvidenceLocation {
  bucket: string;
  key: string;
  range?: { start: number; end: number };
}

const EVIDENCE_REF = /^s3:\/\/([^/]+)\/([^#]+)(?:#bytes=(\d+)-(\d+))?$/;

export function parseEvidenceRef(ref: string): EvidenceLocation {
  const m = EVIDENCE_REF.exec(ref);
  if (!m) throw new PlatformError('EVIDENCE_REF_INVALID', `not an evidence ref: ${ref}`);
  const [, bucket = '', key = '', start, end] = m;
  return start === undefined || end === undefined
    ? { bucket, key }
    : { bucket, key, range: { start: Number(start), end: Number(end) } };
}
