import { createHash } from 'node:crypto';
import { canonicalJson, compareCodePoints, sortedJson } from './canonical-json.ts';
import { pythonIsoformat, pythonStr } from './python-format.ts';

/**
 * Identity recipes of the control + ingress plane, byte-compatible with the reference
 * (control-ingress.md; §0 conventions: CJ = canonicalJson, SJ = sortedJson, hex64 = sha256 hex,
 * hex32 = its first 32 characters; preimages are UTF-8 and put ints as exact decimals).
 * Partition keys live in partitioning.ts.
 */

/** hex64: sha256 hex of the UTF-8 bytes of a string, or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The first 32 hex characters of sha256 (hex32). */
export function sha256Hex32(text: string): string {
  return sha256Hex(text).slice(0, 32);
}

// ---- Scenario Runner (§3) ----

/** §3.2 `run_id = scenario_run_id = sha256("sr_run|" + run_equivalence_key)[:32]`. */
export function scenarioRunId(runEquivalenceKey: string): string {
  return sha256Hex32(`sr_run|${runEquivalenceKey}`);
}

/** §3.1 `"scnset_" + sha256("|".join(sorted(set(scenario_set))))[:16]`, order- and duplicate-free. */
export function scenarioSetId(scenarioSet: readonly string[]): string {
  const members = [...new Set(scenarioSet)].sort(compareCodePoints);
  return `scnset_${sha256Hex(members.join('|')).slice(0, 16)}`;
}

/** §3.3 step 4 `attempt_id = sha256("sr_attempt|{run_id}|{attempt_no}")[:32]`. */
export function attemptId(runId: string, attemptNo: number): string {
  if (!Number.isSafeInteger(attemptNo) || attemptNo < 1) throw new RangeError('attempt_no is an integer ≥ 1');
  return sha256Hex32(`sr_attempt|${runId}|${attemptNo}`);
}

export interface RunIntent {
  manifest_fingerprint: string;
  parameter_hash: string;
  seed: bigint | number;
  /** For a scenario set: `scenarioSetId(scenario_set)`. */
  scenario_id: string;
  /** As requested (request order), or null when the request named a single scenario. */
  scenario_set: readonly string[] | null;
  /** Aware timestamps; hashed in Python `isoformat()` (`…T00:00:00+00:00`). */
  window_start_utc: string | Date;
  window_end_utc: string | Date;
  window_tz: string;
}

/** §3.2 `intent_fingerprint = sha256(SJ({mf, ph, seed, scenario_id, scenario_set, window_*}))`. */
export function intentFingerprint(intent: RunIntent): string {
  return sha256Hex(
    sortedJson({
      manifest_fingerprint: intent.manifest_fingerprint,
      parameter_hash: intent.parameter_hash,
      seed: intent.seed,
      scenario_id: intent.scenario_id,
      scenario_set: intent.scenario_set === null ? null : [...intent.scenario_set],
      window_start_utc: pythonIsoformat(intent.window_start_utc),
      window_end_utc: pythonIsoformat(intent.window_end_utc),
      window_tz: intent.window_tz,
    }),
  );
}

/** §3.2 lease `token = sha256("{run_id}|{owner}|{now_iso}")`; `nowIso` is Python isoformat of now. */
export function leaseToken(runId: string, owner: string, nowIso: string): string {
  return sha256Hex(`${runId}|${owner}|${nowIso}`);
}

/** The SR plan as hashed: every field but `plan_hash`, datetimes in pydantic JSON form (`…Z`). */
export interface RunPlanBasis {
  run_id: string;
  policy_rev: { policy_id: string; revision: string; content_digest: string };
  strategy: 'AUTO' | 'FORCE_INVOKE' | 'FORCE_REUSE';
  intended_outputs: readonly string[];
  required_gates: readonly string[];
  /** Use `pydanticJsonDatetime()`. */
  evidence_deadline_utc: string;
  attempt_limit: number;
  created_at_utc: string;
}

/** §3.3 step 2 `plan_hash = sha256(SJ(plan minus plan_hash))`. */
export function planHash(plan: RunPlanBasis): string {
  const { plan_hash: _ignored, ...basis } = plan as RunPlanBasis & { plan_hash?: unknown };
  return sha256Hex(sortedJson(basis));
}

/** §3.4 run record `event_id = sha256(SJ({event_kind, run_id, details}))`. */
export function runRecordEventId(eventKind: string, runId: string, details: Record<string, unknown>): string {
  return sha256Hex(sortedJson({ event_kind: eventKind, run_id: runId, details }));
}

export interface EvidenceBundleBasis {
  locators: readonly { output_id: string }[];
  gate_receipts: readonly { gate_id: string }[];
  instance_receipts?: readonly { output_id?: string }[];
  policy_rev: { policy_id: string; revision: string; content_digest: string };
}

const byKey =
  <K extends string>(key: K) =>
  (a: Partial<Record<K, unknown>>, b: Partial<Record<K, unknown>>) =>
    compareCodePoints(String(a[key] ?? ''), String(b[key] ?? ''));

/**
 * §3.3 step 5 `bundle_hash = sha256(CJ({locators (by output_id), receipts (by gate_id),
 * instance_receipts (by output_id), policy_rev}))`. Wire forms go in (nulls already pruned); sorts are stable.
 */
export function bundleHash(bundle: EvidenceBundleBasis): string {
  return sha256Hex(
    canonicalJson({
      locators: [...bundle.locators].sort(byKey('output_id')),
      receipts: [...bundle.gate_receipts].sort(byKey('gate_id')),
      instance_receipts: [...(bundle.instance_receipts ?? [])].sort(byKey('output_id')),
      policy_rev: bundle.policy_rev,
    }),
  );
}

/** §3.6 `message_id = sha256("ready|{platform_run_id}|{scenario_run_id}|{bundle_hash or plan_hash}")`. */
export function readyMessageId(
  platformRunId: string,
  scenarioRunId: string,
  bundleOrPlanHash: string,
): string {
  return sha256Hex(`ready|${platformRunId}|${scenarioRunId}|${bundleOrPlanHash}`);
}

/** §3.7 terminal reemit key `sha256("terminal|{run_id}|{state}|{sha256(SJ(status))}")`. */
export function terminalReemitKey(runId: string, state: string, status: Record<string, unknown>): string {
  return sha256Hex(`terminal|${runId}|${state}|${sha256Hex(sortedJson(status))}`);
}

// ---- World Streamer Producer (§4) ----

/** Thrown when a primary-key column of a row is null or absent (reason code of §4.4). */
export class PrimaryKeyMissing extends Error {
  readonly code = 'PRIMARY_KEY_MISSING';
  constructor(readonly column: string) {
    super(`PRIMARY_KEY_MISSING: ${column}`);
  }
}

export interface EnginePins {
  manifest_fingerprint?: string | null;
  parameter_hash?: string | null;
  seed?: bigint | number | null;
  scenario_id?: string | null;
}

/**
 * §4.4 `event_id = sha256("|".join([output_id] + [str(payload[k]) for k in primary_key]
 * + [str(pin) for pin in (mf, ph, seed, scenario_id)]))`. As in the reference, absent pins are skipped,
 * a null primary-key value throws `PrimaryKeyMissing`.
 */
export function engineEventId(
  outputId: string,
  primaryKey: readonly string[],
  row: Readonly<Record<string, unknown>>,
  pins: EnginePins,
): string {
  const parts = [outputId];
  for (const column of primaryKey) {
    const value = row[column];
    if (value === null || value === undefined) throw new PrimaryKeyMissing(column);
    parts.push(pythonStr(value));
  }
  for (const pin of [pins.manifest_fingerprint, pins.parameter_hash, pins.seed, pins.scenario_id]) {
    if (pin !== null && pin !== undefined) parts.push(pythonStr(pin));
  }
  return sha256Hex(parts.join('|'));
}

/** §4.4 lanes: `uint64_be(sha256(event_id)[:8]) % lane_count` — the lane that keeps the event. */
export function laneOf(eventId: string, laneCount: number): number {
  if (!Number.isSafeInteger(laneCount) || laneCount < 1) throw new RangeError('lane_count is an integer ≥ 1');
  const head = createHash('sha256').update(eventId, 'utf8').digest().readBigUInt64BE(0);
  return Number(head % BigInt(laneCount));
}

/** §4.2 step 4 `pack_key` when no pack manifest names an `oracle_pack_id`: `sha256(engine_root)`. */
export function fallbackPackKey(engineRunRoot: string): string {
  return sha256Hex(engineRunRoot);
}

export interface CheckpointScope {
  packKey: string;
  platformRunId: string;
  scenarioRunId: string;
  laneCount: number;
  laneIndex: number;
  /** `WSP_CHECKPOINT_ATTEMPT_ID`, "" when unset. */
  attemptId?: string;
}

/**
 * §4.6 stored checkpoint key = `sha256("|".join([pack_key, platform_run_id, scenario_run_id,
 * lane_count, lane_index, WSP_CHECKPOINT_ATTEMPT_ID or ""]))`; a new platform or scenario run starts over.
 */
export function checkpointScopeKey(scope: CheckpointScope): string {
  return sha256Hex(
    [
      scope.packKey,
      scope.platformRunId,
      scope.scenarioRunId,
      pythonStr(scope.laneCount),
      pythonStr(scope.laneIndex),
      scope.attemptId ?? '',
    ].join('|'),
  );
}

/** downstream.md §1 consumer checkpoint / metric scope id `<base>::<platform_run_id>` (e.g. `ieg.v0::…`). */
export function consumerCheckpointScope(base: string, platformRunId: string): string {
  return `${base}::${platformRunId}`;
}

export interface GovernanceEventBasis {
  eventFamily: string;
  platformRunId: string;
  /** "" when the event has none. */
  scenarioRunId?: string | null;
  sourceComponent: string;
  /** e.g. `ready_seen:{message_id}`; when empty, CJ(details) stands in. */
  dedupeKey?: string | null;
  details: Record<string, unknown>;
}

/**
 * §4.1 (and downstream.md obs/gov) governance `event_id =
 * sha256("{FAMILY}|{platform_run_id}|{scenario_run_id}|{component}|{dedupe_key or CJ(details)}")`.
 * The family is upper-cased and the run id and component trimmed, as the reference writer does.
 */
export function governanceEventId(event: GovernanceEventBasis): string {
  const stableKey = event.dedupeKey ? event.dedupeKey : canonicalJson(event.details);
  const family = event.eventFamily.trim().toUpperCase();
  return sha256Hex(
    `${family}|${event.platformRunId.trim()}|${event.scenarioRunId ?? ''}|${event.sourceComponent.trim()}|${stableKey}`,
  );
}

// ---- Ingestion Gate (§5) ----

/** §5.3 step 5 `dedupe_key = sha256("{platform_run_id}:{event_class}:{event_id}")` (no run → ""). */
export function dedupeKey(
  platformRunId: string | null | undefined,
  eventClass: string,
  eventId: string,
): string {
  return sha256Hex(`${platformRunId ?? ''}:${eventClass}:${eventId}`);
}

export interface PayloadHashBasis {
  event_type?: string | null;
  schema_version?: string | null;
  payload?: Record<string, unknown> | null;
}

/**
 * §5.3 step 5 `payload_hash = sha256(CJ({event_type, schema_version, payload}))`; an absent field is
 * hashed as `null`, as Python's `envelope.get()` gives.
 */
export function payloadHash(envelope: PayloadHashBasis): string {
  return sha256Hex(
    canonicalJson({
      event_type: envelope.event_type ?? null,
      schema_version: envelope.schema_version ?? null,
      payload: envelope.payload ?? null,
    }),
  );
}

export type AdmissionDecision = 'ADMIT' | 'DUPLICATE' | 'QUARANTINE';

/**
 * §5.4 `receipt_id = sha256("{decision}:{event_id}")[:32]` (no platform run in it): the ADMIT receipt, as the
 * reference. Deliberate differences (docs/ingestion-gate.md): a DUPLICATE receipt is per pusher
 * (duplicateReceiptId) and a QUARANTINE receipt per quarantine record (quarantineReceiptId), so neither collapses
 * onto the first one written.
 */
export function receiptId(decision: AdmissionDecision, eventId: string): string {
  return sha256Hex32(`${decision}:${eventId}`);
}

/** `sha256("DUPLICATE:{event_id}:{actor_id}")[:32]`: one DUPLICATE receipt per event and pusher, naming the pusher. */
export function duplicateReceiptId(eventId: string, actorId: string): string {
  return sha256Hex32(`DUPLICATE:${eventId}:${actorId}`);
}

export interface QuarantineBasis {
  /** The envelope's platform_run_id when it is one (else absent). */
  platformRunId?: string | undefined;
  /** The envelope's event_id when it is a valid one (else absent). */
  eventId?: string | undefined;
  /** sha256 of what was pushed (quarantineBodyDigest): two different bodies never share a record. */
  bodyDigest: string;
}

/**
 * `quarantine_id = sha256("QUARANTINE:{platform_run_id}:{event_id}:{body_digest}")[:32]`. The reference's
 * `sha256("QUARANTINE:" + event_id)` pointed a second, different mismatch of one event at the first record and put
 * every envelope without an event_id in one; ours carries the run and what was pushed.
 */
export function quarantineId(basis: QuarantineBasis): string {
  return sha256Hex32(`QUARANTINE:${basis.platformRunId ?? ''}:${basis.eventId ?? ''}:${basis.bodyDigest}`);
}

/** The QUARANTINE receipt of a quarantine record: `sha256("QUARANTINE:{quarantine_id}")[:32]`. */
export function quarantineReceiptId(quarantineIdValue: string): string {
  return sha256Hex32(`QUARANTINE:${quarantineIdValue}`);
}

/**
 * §5.4 IG policy `content_digest` (= `run_config_digest`) =
 * `sha256(CJ([{path, content: CJ(yaml)} for path in sorted(paths)]))`; `content` is the parsed YAML value.
 * The digest depends on the exact path strings (e.g. `config/platform/ig/class_map_v0.yaml`).
 */
export function policyContentDigest(files: readonly { path: string; content: unknown }[]): string {
  const byPath = new Map(files.map((file) => [file.path, file.content]));
  const items = [...byPath.keys()]
    .sort(compareCodePoints)
    .map((path) => ({ path, content: canonicalJson(byPath.get(path)) }));
  return sha256Hex(canonicalJson(items));
}
