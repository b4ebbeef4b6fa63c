import { z } from 'zod';
import { PlatformError } from '../errors/platform-error.ts';
import { parseJsonLossless } from './canonical-json.ts';
import { type EnginePins, engineEventId } from './identity.ts';
import { Hex32, Hex64, PlatformRunIdPattern, Rfc3339Micros, SafeText, Uint64 } from './wire-primitives.ts';

/**
 * The canonical event envelope (canonical_event_envelope.schema.yaml; control-ingress.md §5.2), closed.
 * Payload fields are free; they are checked per event type by IG's schema policy, not here.
 */

/**
 * uuid | hex64 | hex32 | any string of 1–256 characters — which the last alternative already covers; ours also
 * refuses control characters and lone surrogates (SafeText), so an id is the same in Postgres, S3 and a log.
 */
export const EventId = SafeText(256);

export const CanonicalEnvelope = z.strictObject({
  event_id: EventId,
  event_type: SafeText(256),
  ts_utc: Rfc3339Micros,
  manifest_fingerprint: Hex64,
  parameter_hash: Hex64.optional(),
  seed: Uint64.optional(),
  scenario_id: z.union([SafeText(256), Uint64]).optional(),
  run_id: Hex32.optional(),
  platform_run_id: PlatformRunIdPattern.optional(),
  scenario_run_id: Hex32.optional(),
  emitted_at_utc: Rfc3339Micros.optional(),
  schema_version: SafeText(64).optional(),
  trace_id: SafeText(128).optional(),
  span_id: SafeText(128).optional(),
  parent_event_id: EventId.optional(),
  producer: SafeText(128).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});
export type CanonicalEnvelope = z.infer<typeof CanonicalEnvelope>;

const LOOSE_ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}:?\d{2})?$/;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * §4.4 `normalize(row.ts_utc)`: parse ISO 8601 (`Z` ok, naive = UTC, fraction truncated to microseconds as
 * Python 3.11 `fromisoformat` does), convert to UTC, write `%Y-%m-%dT%H:%M:%S.%fZ`. Undefined when unparseable.
 */
export function envelopeTsUtc(value: string | Date): string | undefined {
  let epochMs: number;
  let micros: number;
  if (value instanceof Date) {
    epochMs = value.getTime();
    if (Number.isNaN(epochMs)) return undefined;
    micros = (((epochMs % 1000) + 1000) % 1000) * 1000;
    epochMs -= micros / 1000;
  } else {
    const m = LOOSE_ISO.exec(value);
    if (!m) return undefined;
    const [, y, mo, d, h, mi, s = '0', frac = '', off = 'Z'] = m as unknown as string[];
    const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const wall = Date.UTC(year, month - 1, day, hour, minute, second);
    const back = new Date(wall);
    if (back.getUTCDate() !== day || back.getUTCMonth() !== month - 1 || back.getUTCSeconds() !== second) {
      return undefined;
    }
    if (hour > 23 || minute > 59) return undefined;
    let offsetMinutes = 0;
    if (off !== 'Z' && off !== 'z') {
      const digits = off.slice(1).replace(':', '');
      offsetMinutes =
        (off.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    }
    epochMs = wall - offsetMinutes * 60_000;
    micros = Number(frac.slice(0, 6).padEnd(6, '0'));
  }
  const t = new Date(epochMs);
  return (
    `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}` +
    `T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(micros, 6)}Z`
  );
}

/** The producer id WSP stamps on every envelope (§4.4). */
export const WSP_PRODUCER = 'svc:world_stream_producer';

export interface EngineEnvelopeInput {
  outputId: string;
  /** The catalogue `primary_key` of the output. */
  primaryKey: readonly string[];
  /** The stream-view row; its `payload_json` column, when present, is the payload instead. */
  row: Readonly<Record<string, unknown>>;
  /** World key from run_receipt.json + scenario_id. */
  pins: Required<{ [K in keyof EnginePins]: NonNullable<EnginePins[K]> }>;
  /** Engine run id (run_receipt.run_id). */
  runId: string;
  platformRunId: string;
  scenarioRunId: string;
  /** `oracle_pack_id`, else `fallbackPackKey(engine_root)`. */
  packKey: string;
  /** Pack manifest `engine_release`, when a manifest is present. */
  engineRelease?: string;
}

/** Thrown when the row has no parseable `ts_utc`. */
export class EventTimeMissing extends PlatformError<'TS_UTC_INVALID'> {
  constructor(readonly value: unknown) {
    super('TS_UTC_INVALID', `TS_UTC_INVALID: ${String(value)}`);
  }
}

/** §4.4 the envelope WSP builds per stream-view row (7 pins, producer, trace = pack key, `schema_version v1`). */
export function engineEnvelope(input: EngineEnvelopeInput): CanonicalEnvelope {
  const { row, pins } = input;
  const payload =
    'payload_json' in row
      ? (parseJsonLossless(String(row.payload_json)) as Record<string, unknown>)
      : ({ ...row } as Record<string, unknown>);
  const rawTs = row.ts_utc;
  const ts = typeof rawTs === 'string' || rawTs instanceof Date ? envelopeTsUtc(rawTs) : undefined;
  if (ts === undefined) throw new EventTimeMissing(rawTs);
  return {
    event_id: engineEventId(input.outputId, input.primaryKey, payload, pins),
    event_type: input.outputId,
    schema_version: 'v1',
    ts_utc: ts,
    manifest_fingerprint: pins.manifest_fingerprint,
    parameter_hash: pins.parameter_hash,
    seed: pins.seed,
    scenario_id: pins.scenario_id,
    run_id: input.runId,
    platform_run_id: input.platformRunId,
    scenario_run_id: input.scenarioRunId,
    producer: WSP_PRODUCER,
    trace_id: input.packKey,
    ...(input.engineRelease === undefined ? {} : { span_id: input.engineRelease }),
    payload,
  };
}
