import { z } from 'zod';

const PLATFORM_RUN_ID_PATTERN = /^platform_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `platform_YYYYMMDDTHHMMSSZ`, a real UTC instant (control-ingress.md, ids). */
export const PlatformRunId = z
  .string()
  .regex(PLATFORM_RUN_ID_PATTERN, 'platform_run_id must look like platform_YYYYMMDDTHHMMSSZ')
  .refine((id) => platformRunInstant(id) !== undefined, 'platform_run_id names no real UTC instant');
export type PlatformRunId = z.infer<typeof PlatformRunId>;

/** The id for the UTC second of `at`. */
export function platformRunIdAt(at: Date): PlatformRunId {
  const compact = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `platform_${compact}`;
}

/** The instant an id names, or undefined when it names none (e.g. month 13). */
export function platformRunInstant(id: string): Date | undefined {
  const m = PLATFORM_RUN_ID_PATTERN.exec(id);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const roundTrips =
    at.getUTCFullYear() === y &&
    at.getUTCMonth() === mo - 1 &&
    at.getUTCDate() === d &&
    at.getUTCHours() === h &&
    at.getUTCMinutes() === mi &&
    at.getUTCSeconds() === s;
  return roundTrips ? at : undefined;
}

/** What run-pin is invoked with (the run-lifecycle execution input; other keys are ignored). */
/**
 * How the World Streamer streams this run, pinned with it (run-scoped, so runs with different caps can share one
 * deployment): `max_events_per_output` 0 = no cap, `speedup` 0 = no pacing. Absent fields take the deployment's
 * WSP_* settings.
 */
export const RunStreamSettings = z.strictObject({
  max_events_per_output: z.number().int().min(0).optional(),
  speedup: z.number().finite().min(0).optional(),
  /** The World Streamer's event-time alignment window for this run (seconds; 0 = outputs not aligned). */
  align_window_seconds: z
    .number()
    .int()
    .min(0)
    .max(31 * 86_400)
    .optional(),
});
export type RunStreamSettings = z.infer<typeof RunStreamSettings>;

export const RunPinRequest = z.object({
  platform_run_id: z.string().optional(),
  pinned_by: z.string().min(1).max(128).optional(),
  stream: RunStreamSettings.optional(),
});
export type RunPinRequest = z.infer<typeof RunPinRequest>;

/** The pin record written once per run at `s3://<platform bucket>/<platform_run_id>/run_pin.json`. */
export const RunPinRecord = z.object({
  platform_run_id: PlatformRunId,
  pinned_at_utc: z.iso.datetime(),
  pinned_by: z.string(),
  stream: RunStreamSettings.optional(),
});
export type RunPinRecord = z.infer<typeof RunPinRecord>;
