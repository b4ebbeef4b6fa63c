import { z } from 'zod';
import { PlatformRunIdPattern, SafeText } from './wire-primitives.ts';

/**
 * What an RTDL projector (archive writer, identity graph, context store, online features) answers when asked for its
 * report (the P8 gate asks each, then writes the phase evidence): its counts, its health, and where it wrote its
 * metrics / health / reconciliation documents for the run. Also the task event the projector functions take.
 */

export const ProjectorCounts = z.strictObject({
  /** Records read (every delivery, redeliveries included). */
  seen: z.number().int().min(0),
  /** Applied for the first time (state changed). */
  applied: z.number().int().min(0),
  /** Seen again (same offset or same event and hash): nothing changed. */
  duplicate: z.number().int().min(0),
  /** Not this projector's (other run, ignored or irrelevant type, malformed where the contract says skip). */
  skipped: z.number().int().min(0),
  /** Set aside with a failure or anomaly row (payload mismatch, apply failure, write error). */
  failed: z.number().int().min(0),
});
export type ProjectorCounts = z.infer<typeof ProjectorCounts>;

export const HealthState = z.enum(['GREEN', 'AMBER', 'RED']);

export const ProjectorReport = z.strictObject({
  component: SafeText(64),
  platform_run_id: PlatformRunIdPattern,
  stream_id: SafeText(256),
  generated_at_utc: z.string(),
  counts: ProjectorCounts,
  health_state: HealthState,
  health_reasons: z.array(z.string()),
  /** `s3://` refs of the documents just written. */
  documents: z.record(z.string(), z.string()),
  /** A digest of the projector's state that two runs of the same world share (online features). */
  state_digest: z.string().optional(),
});
export type ProjectorReport = z.infer<typeof ProjectorReport>;

/** The task events of a projector function: write the run's report; some answer queries too (their own schemas). */
export const ProjectorReportRequest = z.strictObject({
  action: z.literal('report'),
  platform_run_id: PlatformRunIdPattern,
});
export type ProjectorReportRequest = z.infer<typeof ProjectorReportRequest>;

/** A document writer: the `last_*.json` documents are replaced on every report (not write-once). */
export interface DocumentWriter {
  /** Writes the document's canonical JSON at `key`; answers its `s3://` ref. */
  write(key: string, document: unknown): Promise<string>;
}

/** The platform run a query names in its `pins` (undefined when it names none that parses). */
export function pinnedRunIdOf(request: unknown): string | undefined {
  const parsed = z.object({ pins: z.object({ platform_run_id: PlatformRunIdPattern }) }).safeParse(request);
  return parsed.success ? parsed.data.pins.platform_run_id : undefined;
}

/** A query task `{action, request}` (the request is parsed by the query's core, which answers INVALID_REQUEST). */
export const queryTask = <A extends string>(action: A) =>
  z.strictObject({
    action: z.literal(action),
    /** The run whose state is asked; else the run the request's pins name. */
    platform_run_id: PlatformRunIdPattern.optional(),
    request: z.unknown(),
  });
