import { advancedCheckpoint } from '../contracts/consumer-checkpoint.ts';
import {
  type AuditRecord,
  auditRecordDigest,
  type ChainStatus,
  DECISION_LOG_TOPIC,
  type DecisionLogBusRecord,
  type LineageChain,
  type LineageReason,
} from '../contracts/decision-log.ts';
import type { EbRef } from '../contracts/receipts.ts';
import { auditDue, auditRecordOf } from './audit.ts';
import {
  type DecisionLogInletSettings,
  type InletRejection,
  type InletVerdict,
  inletVerdict,
} from './inlet.ts';
import { applyToChain, chainEventOf } from './lineage.ts';
import type {
  BatchKeys,
  BatchState,
  BatchWrites,
  ChainWrite,
  DecisionLogCheckpoint,
  DecisionLogPorts,
  IntakeAttempt,
  OffsetKey,
  ReplayObservation,
  WriteStatus,
} from './ports.ts';

/**
 * §3.4 intake of a batch of fp.bus.rtdl.v1 records, in one transaction: the rows the batch reads are loaded at once,
 * each record is judged in order against them (and the earlier records' effects), and the batch's rows are written
 * at once, with the audit records of the chains it resolved. Every delivery is an attempt row.
 * - another run's record: skipped and advanced (no candidate, no quarantine), attempt RUN_SCOPE_MISMATCH;
 * - any other inlet reject: a quarantine row (one per offset and reason) and advanced;
 * - an offset seen before with another (run, scenario run, type, event id, hash): quarantine REPLAY_DIVERGENCE and
 *   the batch stops there, NOT advanced (`advanced: false`, `blocked`: the edge must not let the mapping move past
 *   it); the records before it are committed, those after it are left for the retry;
 * - the same (run, event_type, event_id) with another hash: quarantine PAYLOAD_HASH_MISMATCH and advanced;
 * - else the candidate (NEW or DUPLICATE) is applied to its chain; a conflict is quarantine LINEAGE_CONFLICT.
 * A store error (or the audit sink's) rolls the batch back and escapes (the mapping retries the batch); its records
 * are logged as WRITE_FAILED attempts when the store can still take them.
 */

export type DecisionLogIntakeSettings = DecisionLogInletSettings;

export const DEFAULT_DECISION_LOG_SETTINGS: DecisionLogIntakeSettings = {
  admittedTopics: [DECISION_LOG_TOPIC],
};

export type QuarantineReason =
  | Exclude<InletRejection, 'RUN_SCOPE_MISMATCH'>
  | 'PAYLOAD_HASH_MISMATCH'
  | 'LINEAGE_CONFLICT'
  | 'REPLAY_DIVERGENCE';

export type RecordOutcome =
  | {
      status: 'ACCEPTED';
      event_type: string;
      event_id: string;
      decision_id: string;
      write_status: WriteStatus;
      chain_status: ChainStatus;
      unresolved_reasons: LineageReason[];
    }
  | { status: 'SKIPPED'; reason: 'RUN_SCOPE_MISMATCH'; event_id: string | null }
  | {
      status: 'QUARANTINED';
      reason: QuarantineReason;
      detail: string | null;
      event_id: string | null;
      advanced: boolean;
    };

export interface DecisionLogBatchResult {
  /** Every record was accounted for: the batch may advance. False when it stopped at `blocked`. */
  advanced: boolean;
  blocked: (OffsetKey & { index: number; reason: 'REPLAY_DIVERGENCE' }) | null;
  /** One per record judged (none for those after `blocked`). */
  records: RecordOutcome[];
  /** The audit records this batch wrote (chains it left RESOLVED and whole, audited once). */
  auditRecords: AuditRecord[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what Postgres text may refuse
const CONTROL = /[\u0000-\u001f\u007f]/g;
/** A detail any store holds as text: no control character, no lone surrogate, at most 1024 characters. */
const storableDetail = (text: string | null) =>
  text === null ? null : text.replace(LONE_SURROGATE, '\uFFFD').replace(CONTROL, ' ').slice(0, 1024);

const offsetKeyOf = (r: DecisionLogBusRecord): OffsetKey => ({
  topic: r.topic,
  partition: r.partition,
  offset_kind: r.offset_kind,
  offset: r.offset,
});
const ebRefOf = (r: DecisionLogBusRecord): EbRef => ({
  ...offsetKeyOf(r),
  ...(r.published_at_utc ? { published_at_utc: r.published_at_utc } : {}),
});
const offsetId = (k: OffsetKey) => JSON.stringify([k.topic, k.partition, k.offset_kind, k.offset]);
const candidateId = (run: string, type: string, id: string) => JSON.stringify([run, type, id]);
const partitionId = (topic: string, partition: number) => JSON.stringify([topic, partition]);
/** What a record's attempt and quarantine rows name: its run, scenario run, type and id (null when unknown). */
const factsOf = (v: InletVerdict) => {
  const { platform_run_id, scenario_run_id, event_type, event_id } = v.accepted
    ? { ...v.candidate.pins, ...v.candidate }
    : v.facts;
  return { platform_run_id, scenario_run_id, event_type, event_id };
};
const observedTuple = (o: ReplayObservation) =>
  [o.platform_run_id, o.scenario_run_id, o.event_type, o.event_id, o.payload_hash].join('|');

/** The rows a batch's records read. */
export function batchKeysOf(
  records: readonly DecisionLogBusRecord[],
  verdicts: readonly InletVerdict[],
): BatchKeys {
  const keys: BatchKeys = { offsets: [], candidates: [], decisionIds: [], partitions: [] };
  const partitions = new Map<string, { topic: string; partition: number }>();
  for (const [i, record] of records.entries()) {
    partitions.set(partitionId(record.topic, record.partition), {
      topic: record.topic,
      partition: record.partition,
    });
    const verdict = verdicts[i];
    if (!verdict?.accepted) continue;
    const c = verdict.candidate;
    keys.offsets.push(offsetKeyOf(record));
    keys.candidates.push({
      platform_run_id: c.pins.platform_run_id,
      event_type: c.event_type,
      event_id: c.event_id,
    });
    keys.decisionIds.push(c.decision_id);
  }
  keys.decisionIds = [...new Set(keys.decisionIds)].sort();
  keys.partitions = [...partitions.values()];
  return keys;
}

interface ChainEntry extends ChainWrite {
  changed: boolean;
}

/**
 * Judges the batch's records in order against its loaded rows (pure): the rows to write, each record's outcome,
 * and the audit records of the chains it leaves due.
 */
export function planBatch(
  records: readonly DecisionLogBusRecord[],
  verdicts: readonly InletVerdict[],
  state: BatchState,
  now: Date,
): { writes: BatchWrites; result: DecisionLogBatchResult } {
  const nowUtc = now.toISOString();
  const observations = new Map(state.observations.map((o) => [offsetId(o), o]));
  const candidates = new Map(
    state.candidates.map((c) => [candidateId(c.platform_run_id, c.event_type, c.event_id), c.payload_hash]),
  );
  const chains = new Map<string, ChainEntry>(
    state.chains.map((chain) => [
      chain.decision_id,
      { chain, existed: true, newIntents: [], newOutcomes: [], audit: null, changed: false },
    ]),
  );
  const checkpoints = new Map(state.checkpoints.map((c) => [partitionId(c.topic, c.partition), c]));
  const changedCheckpoints = new Set<string>();
  const writes: BatchWrites = {
    attempts: [],
    quarantines: [],
    observations: [],
    candidates: [],
    chains: [],
    checkpoints: [],
  };
  const result: DecisionLogBatchResult = { advanced: true, blocked: null, records: [], auditRecords: [] };

  for (const [index, record] of records.entries()) {
    const verdict = verdicts[index] as InletVerdict;
    const at = offsetKeyOf(record);
    const facts = factsOf(verdict);
    const attempt = (fields: Pick<IntakeAttempt, 'accepted' | 'reason_code' | 'write_status' | 'detail'>) => {
      const advanced = fields.reason_code !== 'REPLAY_DIVERGENCE';
      writes.attempts.push({
        ...at,
        ...facts,
        ...fields,
        checkpoint_advanced: advanced,
        attempted_at_utc: nowUtc,
      });
    };
    const advance = (eventTsUtc: string | null) => {
      const key = partitionId(record.topic, record.partition);
      const next = advancedCheckpoint(checkpoints.get(key), at, eventTsUtc);
      checkpoints.set(key, { ...next, updated_at_utc: nowUtc });
      changedCheckpoints.add(key);
    };
    const quarantine = (reason: QuarantineReason, rawDetail: string | null): RecordOutcome => {
      const detail = storableDetail(rawDetail);
      const advanced = reason !== 'REPLAY_DIVERGENCE';
      writes.quarantines.push({
        ...at,
        ...facts,
        reason_code: reason,
        detail,
        schema_version: verdict.accepted ? verdict.candidate.schema_version : verdict.facts.schema_version,
        payload_hash: verdict.accepted ? verdict.candidate.payload_hash : null,
        published_at_utc: record.published_at_utc ?? null,
        envelope: verdict.accepted ? verdict.candidate.envelope : (record.envelope ?? null),
        quarantined_at_utc: nowUtc,
      });
      attempt({ accepted: false, reason_code: reason, write_status: null, detail });
      if (advanced) advance(verdict.accepted ? verdict.candidate.ts_utc : null);
      return { status: 'QUARANTINED', reason, detail, event_id: facts.event_id, advanced };
    };

    if (!verdict.accepted) {
      if (verdict.reason === 'RUN_SCOPE_MISMATCH') {
        attempt({
          accepted: false,
          reason_code: verdict.reason,
          write_status: null,
          detail: storableDetail(verdict.detail),
        });
        advance(null);
        result.records.push({ status: 'SKIPPED', reason: verdict.reason, event_id: facts.event_id });
      } else result.records.push(quarantine(verdict.reason, verdict.detail));
      continue;
    }

    const c = verdict.candidate;
    const incoming: ReplayObservation = {
      ...at,
      platform_run_id: c.pins.platform_run_id,
      scenario_run_id: c.pins.scenario_run_id,
      event_type: c.event_type,
      event_id: c.event_id,
      payload_hash: c.payload_hash,
    };
    const observed = observations.get(offsetId(at));
    if (observed && observedTuple(observed) !== observedTuple(incoming)) {
      const detail = `observed=${observedTuple(observed)};incoming=${observedTuple(incoming)}`;
      result.records.push(quarantine('REPLAY_DIVERGENCE', detail));
      result.advanced = false;
      result.blocked = { ...at, index, reason: 'REPLAY_DIVERGENCE' };
      break;
    }
    if (!observed) {
      observations.set(offsetId(at), incoming);
      writes.observations.push(incoming);
    }

    const candidateKey = candidateId(c.pins.platform_run_id, c.event_type, c.event_id);
    const storedHash = candidates.get(candidateKey);
    if (storedHash !== undefined && storedHash !== c.payload_hash) {
      result.records.push(
        quarantine('PAYLOAD_HASH_MISMATCH', `event_type=${c.event_type} event_id=${c.event_id}`),
      );
      continue;
    }
    const writeStatus: WriteStatus = storedHash === undefined ? 'NEW' : 'DUPLICATE';
    if (writeStatus === 'NEW') {
      candidates.set(candidateKey, c.payload_hash);
      writes.candidates.push({
        platform_run_id: c.pins.platform_run_id,
        scenario_run_id: c.pins.scenario_run_id,
        event_type: c.event_type,
        event_id: c.event_id,
        schema_version: c.schema_version,
        payload_hash: c.payload_hash,
        ts_utc: c.ts_utc,
        eb_ref: ebRefOf(record),
        envelope: c.envelope,
      });
    }

    const entry = chains.get(c.decision_id);
    const event = chainEventOf(c, ebRefOf(record));
    const applied = applyToChain(entry?.chain, event, nowUtc);
    if (applied.status === 'CONFLICT') {
      result.records.push(quarantine('LINEAGE_CONFLICT', `${applied.conflict}:${applied.detail}`));
      continue;
    }
    if (applied.status === 'NEW') {
      const next: ChainEntry = entry ?? {
        chain: applied.chain,
        existed: false,
        newIntents: [],
        newOutcomes: [],
        audit: null,
        changed: true,
      };
      next.chain = applied.chain;
      next.changed = true;
      if (event.link.kind === 'intent') next.newIntents.push(event.link.intent);
      if (event.link.kind === 'outcome') next.newOutcomes.push(event.link.outcome);
      chains.set(c.decision_id, next);
    }
    attempt({ accepted: true, reason_code: 'ACCEPT', write_status: writeStatus, detail: null });
    advance(c.ts_utc);
    result.records.push({
      status: 'ACCEPTED',
      event_type: c.event_type,
      event_id: c.event_id,
      decision_id: c.decision_id,
      write_status: writeStatus,
      chain_status: applied.chain.chain_status,
      unresolved_reasons: applied.chain.unresolved_reasons,
    });
  }

  for (const entry of chains.values()) {
    if (!entry.changed) continue;
    if (auditDue(entry.chain)) {
      const record = auditRecordOf(entry.chain);
      const chain: LineageChain = { ...entry.chain, audit_id: record.audit_id };
      entry.chain = chain;
      entry.audit = { audit_id: record.audit_id, record_digest: auditRecordDigest(record) };
      result.auditRecords.push(record);
    }
    const { changed: _changed, ...write } = entry;
    writes.chains.push(write);
  }
  writes.checkpoints = [...changedCheckpoints].map((key) => checkpoints.get(key) as DecisionLogCheckpoint);
  return { writes, result };
}

/**
 * Takes a batch in: loads its rows, plans it, writes it and appends its audit records, in one transaction. A store or
 * sink error rolls it back and escapes, after logging the batch's records as WRITE_FAILED attempts (best effort).
 */
export async function intakeDecisionLogBatch(
  ports: DecisionLogPorts,
  records: readonly DecisionLogBusRecord[],
  settings: DecisionLogIntakeSettings = DEFAULT_DECISION_LOG_SETTINGS,
): Promise<DecisionLogBatchResult> {
  if (records.length === 0) return { advanced: true, blocked: null, records: [], auditRecords: [] };
  const verdicts = records.map((record) => inletVerdict(record, settings));
  const keys = batchKeysOf(records, verdicts);
  try {
    return await ports.store.inTransaction(async (transaction) => {
      const state = await transaction.load(keys);
      const { writes, result } = planBatch(records, verdicts, state, ports.now());
      await transaction.write(writes);
      if (result.auditRecords.length > 0) await ports.auditSink.append(result.auditRecords);
      return result;
    });
  } catch (error) {
    await ports.store
      .recordAttempts(writeFailedAttempts(records, verdicts, error, ports.now()))
      .catch(() => undefined);
    throw error;
  }
}

function writeFailedAttempts(
  records: readonly DecisionLogBusRecord[],
  verdicts: readonly InletVerdict[],
  error: unknown,
  now: Date,
): IntakeAttempt[] {
  // The error's code or name only: a message may name hosts (the cause stays in the log).
  const e = error as { code?: unknown; name?: unknown } | undefined;
  const detail = storableDetail(String(typeof e?.code === 'string' ? e.code : (e?.name ?? 'Error')));
  return records.map((record, i) => ({
    ...offsetKeyOf(record),
    ...factsOf(verdicts[i] as InletVerdict),
    accepted: false,
    reason_code: 'WRITE_FAILED',
    write_status: null,
    checkpoint_advanced: false,
    detail,
    attempted_at_utc: now.toISOString(),
  }));
}
