import { z } from 'zod';
import { Hex64, IsoTimestamp, PlatformRunIdPattern, SafeText } from './wire-primitives.ts';

/**
 * Archive Writer wire shapes (downstream.md §2.1): the bus record it consumes, the archive record it writes (one
 * canonical JSON line of a segment object, deliberate difference: segments per batch, not one object per event),
 * and its metrics, health and reconciliation documents.
 */

export const ARCHIVE_OFFSET_KINDS = ['kinesis_sequence', 'kafka_offset', 'file_line'] as const;

/** Where a record sits on the bus: topic, partition (the shard number), offset (the sequence number). */
export const OriginOffset = z.strictObject({
  topic: SafeText(256),
  partition: z.number().int().min(0),
  offset: z.string().regex(/^[0-9]{1,128}$/, 'expected a decimal offset'),
  offset_kind: z.enum(ARCHIVE_OFFSET_KINDS),
});
export type OriginOffset = z.infer<typeof OriginOffset>;

/** One bus record handed to the archive writer: its origin and its data (the canonical JSON of the envelope). */
export const ArchiveBusRecord = OriginOffset.extend({ data: z.string() });
export type ArchiveBusRecord = z.infer<typeof ArchiveBusRecord>;

export const ArchiveBatch = z.array(ArchiveBusRecord).min(1).max(10_000);

/** §2.1 the archive record `{archived_at_utc, 5 pins, seed|null, event_id, event_type, ts_utc, payload_hash, origin_offset, envelope}`. */
export const ArchiveRecord = z.strictObject({
  archived_at_utc: z.string().min(1),
  platform_run_id: PlatformRunIdPattern,
  scenario_run_id: z.string().min(1),
  manifest_fingerprint: z.string().min(1),
  parameter_hash: z.string().min(1),
  scenario_id: z.string().min(1),
  seed: z.string().nullable(),
  event_id: z.string().min(1),
  event_type: z.string().min(1),
  ts_utc: z.string().min(1),
  payload_hash: Hex64,
  origin_offset: OriginOffset,
  envelope: z.record(z.string(), z.unknown()),
});
export type ArchiveRecord = z.infer<typeof ArchiveRecord>;

/** The counters of §2.1, plus the records skipped (missing fields, another run, not JSON). */
export const ARCHIVE_COUNTERS = [
  'seen_total',
  'archived_total',
  'duplicate_total',
  'payload_mismatch_total',
  'write_error_total',
  'skipped_total',
] as const;
export type ArchiveCounter = (typeof ARCHIVE_COUNTERS)[number];

const Counters = z.strictObject(
  Object.fromEntries(ARCHIVE_COUNTERS.map((c) => [c, z.number().int().min(0)])) as Record<
    ArchiveCounter,
    z.ZodNumber
  >,
);

/** `archive_writer/metrics/last_metrics.json`. */
export const ArchiveMetricsDocument = z.strictObject({
  generated_at_utc: IsoTimestamp,
  platform_run_id: PlatformRunIdPattern,
  stream_id: z.string().min(1),
  metrics: Counters,
  skip_reasons: z.record(z.string(), z.number().int().min(0)),
  by_topic: z.record(z.string(), Counters),
});
export type ArchiveMetricsDocument = z.infer<typeof ArchiveMetricsDocument>;

/** `archive_writer/health/last_health.json`: RED when a mismatch or a write error was ever counted. */
export const ArchiveHealthDocument = z.strictObject({
  generated_at_utc: IsoTimestamp,
  platform_run_id: PlatformRunIdPattern,
  health_state: z.enum(['GREEN', 'AMBER', 'RED']),
  health_reasons: z.array(z.enum(['REPLAY_BASIS_MISMATCH_NONZERO', 'ARCHIVE_WRITE_ERROR_NONZERO'])),
  metrics: Counters,
  reconciliation_totals: z.record(z.string(), z.number().int().min(0)),
});
export type ArchiveHealthDocument = z.infer<typeof ArchiveHealthDocument>;

/** `archive/reconciliation/archive_writer_reconciliation.json` `{totals, outcome_counts, evidence_refs[last 200]}`. */
export const ArchiveReconciliationDocument = z.strictObject({
  generated_at_utc: IsoTimestamp,
  platform_run_id: PlatformRunIdPattern,
  totals: z.strictObject({
    seen_total: z.number().int().min(0),
    archived_total: z.number().int().min(0),
    duplicate_total: z.number().int().min(0),
    payload_mismatch_total: z.number().int().min(0),
  }),
  outcome_counts: z.record(z.string(), z.number().int().min(0)),
  by_topic: z.record(z.string(), Counters),
  evidence_refs: z.array(z.strictObject({ ref_type: z.literal('archive_ref'), ref_id: z.string().min(1) })),
});
export type ArchiveReconciliationDocument = z.infer<typeof ArchiveReconciliationDocument>;
