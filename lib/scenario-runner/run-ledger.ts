import { z } from 'zod';
import { canonicalJson } from '../contracts/canonical-json.ts';
import { runRecordEventId } from '../contracts/identity.ts';
import { pythonIsoformat } from '../contracts/python-format.ts';
import { Hex32, Hex64 } from '../contracts/wire-primitives.ts';
import { readJsonBytes } from '../oracle-store/pack-contracts.ts';
import type { Clock, RunArtifactStore } from './ports.ts';
import {
  canTransition,
  type RecordKind,
  RUN_STATES,
  type RunReasonCode,
  type RunState,
  ScenarioRunnerError,
} from './reason-codes.ts';

/**
 * The run's artifacts under `<platform_run_id>/sr/` (control-ingress.md §3.4): status (overwritten, transitions
 * checked), record (JSONL append with If-Match, deduplicated by the record index) and write-once JSON objects.
 * Refs are store keys, relative to the store root, as the READY `facts_view_ref` is.
 */

export interface RunPaths {
  plan: string;
  status: string;
  record: string;
  recordIndex: string;
  factsView: string;
  readySignal: string;
  quarantine: string;
  /** `instance_receipts/output_id=…/<partition tokens in fixed order>/instance_receipt.json` (§3.4). */
  instanceReceipt(outputId: string, scope: Readonly<Record<string, string | number | bigint>>): string;
}

const INSTANCE_TOKEN_ORDER = ['manifest_fingerprint', 'parameter_hash', 'seed', 'scenario_id', 'run_id'];

export function runPaths(platformRunId: string, runId: string): RunPaths {
  const sr = `${platformRunId}/sr`;
  return {
    plan: `${sr}/run_plan/${runId}.json`,
    status: `${sr}/run_status/${runId}.json`,
    record: `${sr}/run_record/${runId}.jsonl`,
    recordIndex: `${sr}/run_record_index/${runId}.json`,
    factsView: `${sr}/run_facts_view/${runId}.json`,
    readySignal: `${sr}/ready_signal/${runId}.json`,
    quarantine: `${sr}/quarantine/${runId}.json`,
    instanceReceipt(outputId, scope) {
      const tokens = INSTANCE_TOKEN_ORDER.filter((k) => scope[k] !== undefined).map(
        (k) => `${k}=${scope[k]}`,
      );
      return `${sr}/instance_receipts/output_id=${outputId}/${tokens.join('/')}/instance_receipt.json`;
    },
  };
}

/** §3.4 `run_status/{id}.json`. */
export const RunStatus = z.strictObject({
  run_id: Hex32,
  state: z.enum(RUN_STATES),
  updated_at_utc: z.string().min(1),
  reason_code: z.string().min(1).optional(),
  record_ref: z.string().min(1),
  facts_view_ref: z.string().min(1).optional(),
});
export type RunStatus = z.infer<typeof RunStatus>;

/** §3.4 one line of `run_record/{id}.jsonl`. */
export const RunRecordEvent = z.strictObject({
  event_kind: z.string().min(1),
  run_id: Hex32,
  details: z.record(z.string(), z.unknown()),
  event_id: Hex64,
  ts_utc: z.string().min(1),
});
export type RunRecordEvent = z.infer<typeof RunRecordEvent>;

const RecordIndex = z.strictObject({ event_ids: z.array(Hex64) });

/** §0 "JSON objects are CJ + \n". */
export const jsonBody = (value: unknown) => `${canonicalJson(value)}\n`;

const APPEND_ATTEMPTS = 5;
const APPEND_BACKOFF_MS = 50;

export type WriteOnceResult<T> =
  | { outcome: 'created'; stored: T }
  | { outcome: 'identical'; stored: unknown }
  | { outcome: 'different'; stored: unknown };

export class RunLedger {
  readonly paths: RunPaths;

  constructor(
    private readonly store: RunArtifactStore,
    private readonly clock: Clock,
    readonly platformRunId: string,
    readonly runId: string,
  ) {
    this.paths = runPaths(platformRunId, runId);
  }

  async readJson(key: string): Promise<unknown | undefined> {
    const stored = await this.store.read(key);
    if (stored === undefined) return undefined;
    const json = readJsonBytes(stored.body);
    if (!json.ok) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', `${key}: ${json.error}`);
    return json.value;
  }

  async readStatus(): Promise<RunStatus | undefined> {
    const value = await this.readJson(this.paths.status);
    if (value === undefined) return undefined;
    const parsed = RunStatus.safeParse(value);
    if (!parsed.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', `${this.paths.status}`);
    return parsed.data;
  }

  /** Overwrites the status after checking the §3.3 transition from the stored one. */
  async writeStatus(
    state: RunState,
    extra: { reason_code?: RunReasonCode; facts_view_ref?: string } = {},
  ): Promise<RunStatus> {
    const current = await this.readStatus();
    if (!canTransition(current?.state, state))
      throw new ScenarioRunnerError('STATUS_TRANSITION_INVALID', `${current?.state ?? '(none)'} → ${state}`);
    const status: RunStatus = {
      run_id: this.runId,
      state,
      updated_at_utc: pythonIsoformat(this.clock.now()),
      record_ref: this.paths.record,
      ...(extra.reason_code === undefined ? {} : { reason_code: extra.reason_code }),
      ...(extra.facts_view_ref === undefined ? {} : { facts_view_ref: extra.facts_view_ref }),
    };
    await this.store.overwrite(this.paths.status, jsonBody(status));
    return status;
  }

  /** Every event recorded so far, in order. */
  async readEvents(): Promise<RunRecordEvent[]> {
    const stored = await this.store.read(this.paths.record);
    if (stored === undefined) return [];
    const text = new TextDecoder().decode(stored.body);
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const json = readJsonBytes(new TextEncoder().encode(line));
        const parsed = json.ok ? RunRecordEvent.safeParse(json.value) : undefined;
        if (!parsed?.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', this.paths.record);
        return parsed.data;
      });
  }

  /**
   * Appends `{event_kind, run_id, details, event_id, ts_utc}` unless the record index lists its event_id
   * already; returns the event_id. Append = read + If-Match put, 5 tries, 50 ms × attempt backoff (§0).
   */
  async record(kind: RecordKind, details: Record<string, unknown>): Promise<string> {
    const eventId = runRecordEventId(kind, this.runId, details);
    const index = await this.readIndex();
    if (index.includes(eventId)) return eventId;
    const event: RunRecordEvent = {
      event_kind: kind,
      run_id: this.runId,
      details,
      event_id: eventId,
      ts_utc: pythonIsoformat(this.clock.now()),
    };
    await this.appendLine(jsonBody(event));
    await this.store.overwrite(this.paths.recordIndex, jsonBody({ event_ids: [...index, eventId] }));
    return eventId;
  }

  private async readIndex(): Promise<string[]> {
    const value = await this.readJson(this.paths.recordIndex);
    if (value === undefined) return [];
    const parsed = RecordIndex.safeParse(value);
    if (!parsed.success) throw new ScenarioRunnerError('RUN_ARTIFACT_INVALID', this.paths.recordIndex);
    return parsed.data.event_ids;
  }

  private async appendLine(line: string): Promise<void> {
    for (let attempt = 1; attempt <= APPEND_ATTEMPTS; attempt++) {
      const stored = await this.store.read(this.paths.record);
      const written =
        stored === undefined
          ? await this.store.writeOnce(this.paths.record, line)
          : await this.store.replaceIfMatch(
              this.paths.record,
              `${new TextDecoder().decode(stored.body)}${line}`,
              stored.etag,
            );
      if (written) return;
      if (attempt < APPEND_ATTEMPTS) await this.clock.sleep(APPEND_BACKOFF_MS * attempt);
    }
    throw new ScenarioRunnerError(
      'S3_APPEND_CONFLICT',
      `${this.paths.record}: ${APPEND_ATTEMPTS} conditional appends conflicted`,
    );
  }

  /**
   * Write-once JSON: created, or the stored object compared with `value` by CJ after `normalise` (e.g. a
   * timestamp removed) on both sides.
   */
  async writeOnce<T>(
    key: string,
    value: T,
    normalise: (v: unknown) => unknown = (v) => v,
  ): Promise<WriteOnceResult<T>> {
    if (await this.store.writeOnce(key, jsonBody(value))) return { outcome: 'created', stored: value };
    const stored = await this.readJson(key);
    const same = canonicalJson(normalise(stored)) === canonicalJson(normalise(value));
    return { outcome: same ? 'identical' : 'different', stored };
  }

  /** Unconditional JSON put (the quarantine note). */
  async put(key: string, value: unknown): Promise<void> {
    await this.store.overwrite(key, jsonBody(value));
  }

  /** Unconditional text put (engine attempt logs). */
  async putText(key: string, text: string): Promise<void> {
    await this.store.overwrite(key, text);
  }
}

/** An object without the given top-level keys (for write-once comparisons that ignore timestamps). */
export function without(value: unknown, ...keys: string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !keys.includes(k)));
}
