import type {
  AnomalyRow,
  ContextCheckpoint,
  ContextStore,
  ContextStoreTransaction,
  JoinFrameRecord,
} from '../../../lib/context-store/ports.ts';
import type { FlowBinding, JoinFrameKey } from '../../../lib/contracts/context-store.ts';

/** A ContextStore in memory with the Postgres adapter's semantics: a transaction that throws leaves no trace. */

interface Tables {
  intake: Map<string, string>;
  frames: Map<string, JoinFrameRecord>;
  bindings: Map<string, FlowBinding>;
  checkpoints: Map<string, ContextCheckpoint>;
  failures: Map<string, AnomalyRow>;
  counters: Map<string, number>;
}

const frameKey = (k: JoinFrameKey) =>
  `${k.platform_run_id}|${k.scenario_run_id}|${k.merchant_id}|${k.arrival_seq}`;

export function inMemoryContextStore(streamId = 'csfb.v0::platform_20260302T000000Z') {
  let tables: Tables = {
    intake: new Map(),
    frames: new Map(),
    bindings: new Map(),
    checkpoints: new Map(),
    failures: new Map(),
    counters: new Map(),
  };
  let clock = 0;
  const tick = () => new Date(Date.UTC(2026, 2, 2) + clock++ * 1000).toISOString();
  const inScope = (row: { platform_run_id: string | null; scenario_run_id: string | null }, scope: Scope) =>
    (!scope.platformRunId || row.platform_run_id === scope.platformRunId) &&
    (!scope.scenarioRunId || row.scenario_run_id === scope.scenarioRunId);
  type Scope = { platformRunId?: string; scenarioRunId?: string };

  const transaction = (t: Tables): ContextStoreTransaction => ({
    async prefetch() {},
    async registerIntake(row) {
      const key = `${row.platform_run_id}|${row.event_class}|${row.event_id}`;
      const found = t.intake.get(key);
      if (found === undefined) {
        t.intake.set(key, row.payload_hash);
        return 'inserted';
      }
      return found === row.payload_hash ? 'duplicate' : 'mismatch';
    },
    async lockJoinFrame(key) {
      return t.frames.get(frameKey(key));
    },
    async writeJoinFrame(record) {
      t.frames.set(frameKey(record.state.join_frame_key), record);
    },
    async insertFlowBinding(binding) {
      const key = binding.join_frame_key;
      const byFlow = t.bindings.get(`${key.platform_run_id}|${key.scenario_run_id}|${binding.flow_id}`);
      if (byFlow)
        return byFlow.payload_hash === binding.payload_hash
          ? 'unchanged'
          : 'FLOW_BINDING_PAYLOAD_HASH_MISMATCH';
      if ([...t.bindings.values()].some((b) => frameKey(b.join_frame_key) === frameKey(key)))
        return 'FLOW_BINDING_JOIN_KEY_CONFLICT';
      t.bindings.set(`${key.platform_run_id}|${key.scenario_run_id}|${binding.flow_id}`, binding);
      return 'inserted';
    },
    async readCheckpoint(topic, partition) {
      return t.checkpoints.get(`${topic}|${partition}`);
    },
    async writeCheckpoint(c) {
      t.checkpoints.set(`${c.topic}|${c.partition}`, { ...c, updated_at_utc: tick() });
    },
    async recordApplyFailure(f) {
      if (!t.failures.has(f.failure_id)) t.failures.set(f.failure_id, { ...f, recorded_at_utc: tick() });
    },
    async incrementCounters(names) {
      for (const name of new Set(names)) t.counters.set(name, (t.counters.get(name) ?? 0) + 1);
    },
  });

  const store: ContextStore & { tables: () => Tables; seedBinding: (b: FlowBinding) => void } = {
    streamId,
    tables: () => tables,
    seedBinding: (b) => {
      tables.bindings.set(
        `${b.join_frame_key.platform_run_id}|${b.join_frame_key.scenario_run_id}|${b.flow_id}`,
        b,
      );
    },
    async inTransaction(work) {
      const copy = structuredClone(tables);
      const result = await work(transaction(copy));
      tables = copy;
      return result;
    },
    async readFlowBinding(platformRunId, scenarioRunId, flowId) {
      return tables.bindings.get(`${platformRunId}|${scenarioRunId}|${flowId}`);
    },
    async readFlowBindingForJoinFrame(key) {
      return [...tables.bindings.values()].find((b) => frameKey(b.join_frame_key) === frameKey(key));
    },
    async readJoinFrame(key) {
      return tables.frames.get(frameKey(key));
    },
    async checkpoints() {
      return [...tables.checkpoints.values()];
    },
    async counters() {
      return Object.fromEntries([...tables.counters].sort(([a], [b]) => (a < b ? -1 : 1)));
    },
    async metrics(scope) {
      const bindings = [...tables.bindings.values()].filter((b) =>
        inScope(
          {
            platform_run_id: b.join_frame_key.platform_run_id,
            scenario_run_id: b.join_frame_key.scenario_run_id,
          },
          scope,
        ),
      );
      const hits = bindings.filter((b) => tables.frames.has(frameKey(b.join_frame_key))).length;
      const failures = [...tables.failures.values()].filter((f) => inScope(f, scope));
      const late = failures.filter(
        (f) => f.reason_code === 'LATE_CONTEXT_EVENT' && f.details.applied === true,
      ).length;
      return {
        join_hits: hits,
        join_misses: bindings.length - hits,
        binding_conflicts: failures.filter((f) => f.reason_code.startsWith('FLOW_BINDING_')).length,
        apply_failures: failures.length,
        apply_failures_hard: failures.length - late,
        late_context_applied: late,
      };
    },
    async anomalies(scope, limit) {
      return [...tables.failures.values()]
        .filter((f) => inScope(f, scope))
        .reverse()
        .slice(0, limit);
    },
  };
  return store;
}
