import { z } from 'zod';
import type { ArchiveBusRecord } from '../contracts/archive.ts';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import { consumerCheckpointScope, sha256Hex } from '../contracts/identity.ts';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';
import type { ArchiveWriterSettings, LedgerKey } from './ports.ts';

/**
 * §2.1 intake of one bus record: unwrap the envelope (the record itself, or its `envelope` / `payload` field),
 * require the pins and fields, apply the run-scope gate, hash the whole envelope. A record that fails is skipped
 * with a counted reason, never retried: it can never succeed.
 */

export const SKIP_REASONS = ['RECORD_NOT_JSON', 'REQUIRED_FIELDS_MISSING', 'RUN_SCOPE_MISMATCH'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Scope of records that name no usable run, when no run is required (the reference's `_unknown`). */
export const UNKNOWN_RUN_SCOPE = '_unknown';

const REQUIRED_FIELDS = [
  'platform_run_id',
  'scenario_run_id',
  'manifest_fingerprint',
  'parameter_hash',
  'scenario_id',
  'event_id',
  'event_type',
  'ts_utc',
] as const;

/** A present field, as the reference reads it: `str(value or "").strip()` is not empty. */
const Present = z.union([
  z.string().refine((s) => s.trim().length > 0, 'expected a non-empty value'),
  z.bigint(),
  z.number().refine((n) => n !== 0, 'expected a non-empty value'),
]);

/** The fields the archive writer needs; the rest of the envelope is kept as it came. */
export const ArchivableEnvelope = z.looseObject({
  ...Object.fromEntries(REQUIRED_FIELDS.map((f) => [f, Present])),
  // The run id names the object key: it must be a run id, not only present.
  platform_run_id: PlatformRunIdPattern,
});

export interface SkippedRecord {
  kind: 'skip';
  index: number;
  record: ArchiveBusRecord;
  streamId: string;
  reason: SkipReason;
  detail: string;
}

export interface ArchivableRecord {
  kind: 'archivable';
  index: number;
  record: ArchiveBusRecord;
  streamId: string;
  key: LedgerKey;
  envelope: Record<string, unknown>;
  platformRunId: string;
  payloadHash: string;
}

export type Intake = SkippedRecord | ArchivableRecord;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function looksLikeEnvelope(value: Record<string, unknown>): boolean {
  return ArchivableEnvelope.safeParse(value).success;
}

/** The reference's `_unwrap_envelope`: the record if it is an envelope, else a nested one, else the record. */
function unwrap(value: Record<string, unknown>): Record<string, unknown> {
  if (looksLikeEnvelope(value)) return value;
  for (const field of ['envelope', 'payload']) {
    const nested = value[field];
    if (isObject(nested) && looksLikeEnvelope(nested)) return nested;
  }
  return value;
}

const scopeOf = (settings: ArchiveWriterSettings, runId: string | undefined) =>
  consumerCheckpointScope(settings.streamBase, settings.requiredPlatformRunId ?? runId ?? UNKNOWN_RUN_SCOPE);

export function intake(record: ArchiveBusRecord, index: number, settings: ArchiveWriterSettings): Intake {
  const skip = (reason: SkipReason, detail: string, runId?: string): SkippedRecord => ({
    kind: 'skip',
    index,
    record,
    streamId: scopeOf(settings, runId),
    reason,
    detail,
  });
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(record.data, { preserveFloats: true });
  } catch (error) {
    return skip('RECORD_NOT_JSON', (error as Error).message.slice(0, 256));
  }
  if (!isObject(parsed)) return skip('REQUIRED_FIELDS_MISSING', 'the record is not a JSON object');
  const envelope = unwrap(parsed);
  const checked = ArchivableEnvelope.safeParse(envelope);
  if (!checked.success) {
    const fields = [...new Set(checked.error.issues.map((i) => String(i.path[0] ?? '')))].sort();
    return skip('REQUIRED_FIELDS_MISSING', `missing or invalid: ${fields.join(',')}`);
  }
  const platformRunId = checked.data.platform_run_id;
  const required = settings.requiredPlatformRunId;
  if (required !== undefined && platformRunId !== required)
    return skip('RUN_SCOPE_MISMATCH', `platform_run_id ${platformRunId} is not ${required}`);
  const streamId = scopeOf(settings, platformRunId);
  let canonical: string;
  try {
    canonical = canonicalJson(envelope);
  } catch (error) {
    // Nested deeper than canonical JSON holds: no payload hash exists for it.
    return skip('RECORD_NOT_JSON', (error as Error).message.slice(0, 256), platformRunId);
  }
  return {
    kind: 'archivable',
    index,
    record,
    streamId,
    key: {
      stream_id: streamId,
      topic: record.topic,
      partition_id: record.partition,
      offset_kind: record.offset_kind,
      offset_value: record.offset,
    },
    envelope,
    platformRunId,
    // §2.1 payload_hash = sha256(canonical whole envelope).
    payloadHash: sha256Hex(canonical),
  };
}
