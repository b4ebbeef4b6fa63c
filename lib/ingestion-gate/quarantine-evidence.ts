import { canonicalJson } from '../contracts/canonical-json.ts';
import { CanonicalEnvelope } from '../contracts/envelope.ts';
import { sha256Hex } from '../contracts/identity.ts';
import { ZERO_FINGERPRINT } from '../contracts/receipts.ts';
import { PlatformRunIdPattern } from '../contracts/wire-primitives.ts';

/**
 * What a quarantined body may put into evidence. A quarantined body failed its checks, so none of its fields can be
 * trusted: only a field that passes its own envelope schema reaches an S3 key, a SQL value or a receipt; the rest
 * stays in the quarantine record's snapshot, and a value canonical JSON cannot hold (nesting past its limit) is
 * replaced there by a note. Nothing a producer sends can make writing the evidence fail.
 */

export type EnvelopeLike = Partial<Record<string, unknown>>;

const field = CanonicalEnvelope.shape;

/** The value when it passes the envelope's schema for that field, else undefined. */
function valid<K extends keyof typeof field>(env: EnvelopeLike, key: K): unknown {
  const out = field[key].safeParse(env[key]);
  return out.success && out.data !== undefined ? out.data : undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export interface QuarantineIdentity {
  platformRunId: string | undefined;
  eventId: string | undefined;
  eventType: string | undefined;
  producer: string | undefined;
  tsUtc: string | undefined;
  manifestFingerprint: string;
  /** The pins that are valid pins, for the record and the receipt. */
  pins: Record<string, unknown>;
}

const PIN_FIELDS = [
  'manifest_fingerprint',
  'platform_run_id',
  'scenario_run_id',
  'parameter_hash',
  'seed',
  'scenario_id',
  'run_id',
] as const;

/** The fields of a body that are safe to key, index and log by. */
export function quarantineIdentity(env: EnvelopeLike): QuarantineIdentity {
  const pins: Record<string, unknown> = {};
  for (const pin of PIN_FIELDS) {
    const v = valid(env, pin);
    if (v !== undefined && v !== '') pins[pin] = v;
  }
  if (pins.scenario_run_id === undefined && pins.run_id !== undefined) pins.scenario_run_id = pins.run_id;
  return {
    platformRunId: text(valid(env, 'platform_run_id')),
    eventId: text(valid(env, 'event_id')),
    eventType: text(valid(env, 'event_type')),
    producer: text(valid(env, 'producer')),
    tsUtc: text(valid(env, 'ts_utc')),
    manifestFingerprint: text(valid(env, 'manifest_fingerprint')) ?? ZERO_FINGERPRINT,
    pins,
  };
}

/** The run folder an event's evidence goes under: its platform_run_id only when it is one. */
export function runPrefix(env: EnvelopeLike): string {
  const id = PlatformRunIdPattern.safeParse(env.platform_run_id);
  return id.success ? id.data : '_no_platform_run';
}

/** How deep a snapshot value may nest so the record around it (two levels) stays within canonical JSON's limit. */
function representable(value: unknown): boolean {
  try {
    canonicalJson([[[value]]]);
    return true;
  } catch {
    return false;
  }
}

/** The body without its payload, each field as sent unless canonical JSON cannot hold it. */
export function envelopeSnapshot(env: EnvelopeLike): Record<string, unknown> {
  const kept: [string, unknown][] = [];
  for (const [key, value] of Object.entries(env)) {
    if (key === 'payload' || value === undefined) continue;
    kept.push([
      key,
      representable(value)
        ? value
        : '<not kept: a value canonical JSON cannot hold (nesting too deep or not plain JSON)>',
    ]);
  }
  // Defined, not assigned: a body's "__proto__" field stays a field (assigned, it would replace the prototype).
  return Object.fromEntries(kept);
}

/**
 * sha256 of what was pushed, for the quarantine id: canonical JSON of the body; when canonical JSON cannot hold it
 * (nesting past its limit), plain JSON of it; failing that, its snapshot. Two different bodies do not share an id.
 */
export function quarantineBodyDigest(body: EnvelopeLike): string {
  try {
    return sha256Hex(canonicalJson(body));
  } catch {
    try {
      return sha256Hex(`json:${JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    } catch {
      return sha256Hex(`snapshot:${canonicalJson(envelopeSnapshot(body))}`);
    }
  }
}
