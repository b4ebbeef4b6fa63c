import {
  type AuditRecord,
  auditRecordDigest,
  type LineageChain,
} from '../../../lib/contracts/decision-log.ts';
import type {
  AuditSink,
  BatchWrites,
  DecisionLogCheckpoint,
  DecisionLogCounts,
  DecisionLogPorts,
  DecisionLogScope,
  DecisionLogStore,
  IntakeAttempt,
  IntakeCandidateRow,
  QuarantineRow,
  ReplayObservation,
} from '../../../lib/decision-log/ports.ts';

/**
 * An in-memory decision log store with the Postgres adapter's semantics: a transaction works on a copy that replaces
 * the state only when it returns (a throw leaves nothing behind), quarantine rows are one per (offset, reason),
 * candidates and observations are never overwritten. `failWrites` makes the next transactions' writes throw (a store
 * outage); the audit sink keeps records by audit_id and refuses another digest under one.
 */

interface State {
  attempts: IntakeAttempt[];
  quarantines: QuarantineRow[];
  observations: ReplayObservation[];
  candidates: IntakeCandidateRow[];
  chains: Map<string, { chain: LineageChain; audit_record_digest: string | null }>;
  checkpoints: DecisionLogCheckpoint[];
}

const offsetId = (r: { topic: string; partition: number; offset_kind: string; offset: string }) =>
  JSON.stringify([r.topic, r.partition, r.offset_kind, r.offset]);
const inScope = (
  scope: DecisionLogScope,
  row: { platform_run_id: string | null; scenario_run_id: string | null },
) =>
  (!scope.platformRunId || row.platform_run_id === scope.platformRunId) &&
  (!scope.scenarioRunId || row.scenario_run_id === scope.scenarioRunId);

function applyWrites(state: State, w: BatchWrites) {
  state.attempts.push(...w.attempts);
  for (const q of w.quarantines)
    if (!state.quarantines.some((x) => offsetId(x) === offsetId(q) && x.reason_code === q.reason_code))
      state.quarantines.push(q);
  for (const o of w.observations) {
    if (state.observations.some((x) => offsetId(x) === offsetId(o)))
      throw new Error('observation overwritten');
    state.observations.push(o);
  }
  for (const c of w.candidates) {
    const key = (x: IntakeCandidateRow) => `${x.platform_run_id}|${x.event_type}|${x.event_id}`;
    if (state.candidates.some((x) => key(x) === key(c))) throw new Error('candidate overwritten');
    state.candidates.push(c);
  }
  for (const c of w.chains) {
    const stored = state.chains.get(c.chain.decision_id);
    if (!c.existed && stored) throw new Error('chain inserted twice');
    state.chains.set(c.chain.decision_id, {
      chain: structuredClone(c.chain),
      audit_record_digest: stored?.audit_record_digest ?? c.audit?.record_digest ?? null,
    });
  }
  for (const k of w.checkpoints) {
    state.checkpoints = state.checkpoints.filter((x) => x.topic !== k.topic || x.partition !== k.partition);
    state.checkpoints.push(k);
  }
}

export function inMemoryDecisionLogStore(streamId = 'dla.v0::test') {
  let state: State = {
    attempts: [],
    quarantines: [],
    observations: [],
    candidates: [],
    chains: new Map(),
    checkpoints: [],
  };
  const control = { failWrites: 0, failAttemptLog: false, transactions: 0 };
  const chainsOf = (scope: DecisionLogScope) =>
    [...state.chains.values()].map((c) => c.chain).filter((c) => inScope(scope, c));

  const store: DecisionLogStore = {
    streamId,
    async inTransaction(work) {
      control.transactions++;
      const copy: State = structuredClone(state);
      const result = await work({
        async load(keys) {
          const offsets = new Set(keys.offsets.map(offsetId));
          const candidates = new Set(
            keys.candidates.map((c) => `${c.platform_run_id}|${c.event_type}|${c.event_id}`),
          );
          return structuredClone({
            observations: copy.observations.filter((o) => offsets.has(offsetId(o))),
            candidates: copy.candidates.filter((c) =>
              candidates.has(`${c.platform_run_id}|${c.event_type}|${c.event_id}`),
            ),
            chains: keys.decisionIds.flatMap((id) => {
              const found = copy.chains.get(id);
              return found ? [found.chain] : [];
            }),
            checkpoints: copy.checkpoints.filter((k) =>
              keys.partitions.some((p) => p.topic === k.topic && p.partition === k.partition),
            ),
          });
        },
        async write(writes) {
          if (control.failWrites > 0) {
            control.failWrites--;
            throw Object.assign(new Error('connection lost'), { code: 'OPS_DB_UNAVAILABLE' });
          }
          applyWrites(copy, structuredClone(writes));
        },
      });
      state = copy;
      return result;
    },
    async recordAttempts(attempts) {
      if (control.failAttemptLog) throw new Error('still down');
      state.attempts.push(...attempts);
    },
    async readChain(decisionId) {
      const found = state.chains.get(decisionId);
      return found ? structuredClone(found.chain) : undefined;
    },
    async counts(scope): Promise<DecisionLogCounts> {
      const attempts = state.attempts.filter((a) => inScope(scope, a));
      const quarantines = state.quarantines.filter((q) => inScope(scope, q));
      const chains = chainsOf(scope);
      const n = (rows: unknown[]) => rows.length;
      return {
        attempts_total: n(attempts),
        accepted_total: n(attempts.filter((a) => a.accepted)),
        rejected_total: n(attempts.filter((a) => !a.accepted)),
        new_total: n(attempts.filter((a) => a.accepted && a.write_status === 'NEW')),
        duplicate_total: n(attempts.filter((a) => a.accepted && a.write_status === 'DUPLICATE')),
        run_scope_skipped_total: n(attempts.filter((a) => a.reason_code === 'RUN_SCOPE_MISMATCH')),
        checkpoint_advanced_total: n(attempts.filter((a) => a.checkpoint_advanced)),
        write_failed_total: n(attempts.filter((a) => a.reason_code === 'WRITE_FAILED')),
        candidate_total: n(state.candidates.filter((c) => inScope(scope, c))),
        quarantine_total: n(quarantines),
        replay_divergence_total: n(quarantines.filter((q) => q.reason_code === 'REPLAY_DIVERGENCE')),
        lineage_resolved_total: n(chains.filter((c) => c.chain_status === 'RESOLVED')),
        lineage_unresolved_total: n(chains.filter((c) => c.chain_status === 'UNRESOLVED')),
        audit_record_total: n(chains.filter((c) => c.audit_id !== null)),
      };
    },
    async unresolvedSince(scope, cutoffs) {
      const since = chainsOf(scope).flatMap((c) =>
        c.chain_status === 'UNRESOLVED' && c.unresolved_since_utc ? [Date.parse(c.unresolved_since_utc)] : [],
      );
      return cutoffs.map((cutoff) => since.filter((s) => s < Date.parse(cutoff)).length);
    },
    async checkpoints() {
      return structuredClone(state.checkpoints);
    },
    async anomalyLanes(scope) {
      const lanes: Record<string, number> = {};
      for (const q of state.quarantines.filter((x) => inScope(scope, x)))
        lanes[q.reason_code] = (lanes[q.reason_code] ?? 0) + 1;
      return lanes;
    },
    async recentAttempts(scope, limit) {
      return state.attempts
        .filter((a) => inScope(scope, a))
        .reverse()
        .slice(0, limit);
    },
  };
  return {
    store,
    control,
    get state() {
      return state;
    },
  };
}

/** A write-once audit sink: the same record again is a no-op, another one under its audit_id an error. */
export function memoryAuditSink(): AuditSink & {
  records: Map<string, AuditRecord>;
  appends: number;
  fail: boolean;
} {
  const sink = {
    records: new Map<string, AuditRecord>(),
    appends: 0,
    fail: false,
    async append(records: readonly AuditRecord[]) {
      if (sink.fail) throw new Error('audit bucket unavailable');
      sink.appends++;
      for (const r of records) {
        const held = sink.records.get(r.audit_id);
        if (held && auditRecordDigest(held) !== auditRecordDigest(r))
          throw new Error(`audit ${r.audit_id} differs`);
        sink.records.set(r.audit_id, r);
      }
    },
  };
  return sink;
}

/** Ports over an in-memory store and sink, on a clock the test moves. */
export function memoryPorts(startUtc = '2026-12-07T10:01:00.000Z') {
  const memory = inMemoryDecisionLogStore();
  const auditSink = memoryAuditSink();
  const clock = { now: new Date(startUtc) };
  const ports: DecisionLogPorts = { store: memory.store, auditSink, now: () => clock.now };
  return { ports, memory, auditSink, clock };
}
