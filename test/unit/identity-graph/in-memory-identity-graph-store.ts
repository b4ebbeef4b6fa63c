import type { LinkedEntity } from '../../../lib/contracts/identity-graph.ts';
import {
  type ArrivalMember,
  type DedupeRow,
  type EdgeUpsert,
  GRAPH_METRIC_NAMES,
  type GraphApplyFailure,
  type GraphCheckpoint,
  type GraphEntity,
  type GraphMetrics,
  type GraphScope,
  type IdentifierUpsert,
  type IdentityGraphStore,
  type IdentityGraphTransaction,
} from '../../../lib/identity-graph/ports.ts';

/** An IdentityGraphStore in memory with the Postgres adapter's semantics: a transaction that throws leaves no trace. */

interface Tables {
  dedupe: Map<string, DedupeRow>;
  entities: Map<string, GraphEntity & { scenario_run_id: string }>;
  identifiers: Map<string, IdentifierUpsert & { first_seen_ts_utc: string; last_seen_ts_utc: string }>;
  edges: Map<string, EdgeUpsert & { first_seen_ts_utc: string; last_seen_ts_utc: string }>;
  arrivals: Map<string, Map<string, ArrivalMember>>;
  checkpoints: Map<string, GraphCheckpoint>;
  metrics: Map<string, number>;
  failures: Map<string, GraphApplyFailure>;
}

const min = (a: string, b: string) => (a < b ? a : b);
const max = (a: string, b: string) => (a > b ? a : b);

export function inMemoryIdentityGraphStore(streamId = 'ieg.v0::platform_20260302T000000Z') {
  let tables: Tables = {
    dedupe: new Map(),
    entities: new Map(),
    identifiers: new Map(),
    edges: new Map(),
    arrivals: new Map(),
    checkpoints: new Map(),
    metrics: new Map(),
    failures: new Map(),
  };
  let clock = 0;
  const tick = () => new Date(Date.UTC(2026, 2, 8) + clock++ * 1000).toISOString();

  const transaction = (t: Tables): IdentityGraphTransaction => ({
    async prefetch() {},
    async registerEvent(row) {
      const found = t.dedupe.get(row.dedupe_key);
      if (!found) {
        t.dedupe.set(row.dedupe_key, row);
        return 'inserted';
      }
      return found.payload_hash === row.payload_hash ? 'duplicate' : 'mismatch';
    },
    async upsertEntity(e) {
      const found = t.entities.get(e.entity_id);
      t.entities.set(e.entity_id, {
        entity_id: e.entity_id,
        entity_type: e.entity_type,
        scenario_run_id: e.pins.scenario_run_id,
        first_seen_ts_utc: found ? min(found.first_seen_ts_utc, e.seen_ts_utc) : e.seen_ts_utc,
        last_seen_ts_utc: found ? max(found.last_seen_ts_utc, e.seen_ts_utc) : e.seen_ts_utc,
      });
    },
    async upsertIdentifier(i) {
      const key = `${i.identifier_type}|${i.identifier_value}|${i.entity_id}`;
      const found = t.identifiers.get(key);
      t.identifiers.set(key, {
        ...(found ?? i),
        first_seen_ts_utc: found ? min(found.first_seen_ts_utc, i.seen_ts_utc) : i.seen_ts_utc,
        last_seen_ts_utc: found ? max(found.last_seen_ts_utc, i.seen_ts_utc) : i.seen_ts_utc,
      });
    },
    async upsertEdge(e) {
      const found = t.edges.get(e.edge_id);
      t.edges.set(e.edge_id, {
        ...(found ?? e),
        first_seen_ts_utc: found ? min(found.first_seen_ts_utc, e.seen_ts_utc) : e.seen_ts_utc,
        last_seen_ts_utc: found ? max(found.last_seen_ts_utc, e.seen_ts_utc) : e.seen_ts_utc,
      });
    },
    async joinArrival(key, members) {
      const id = `${key.scenario_run_id}|${key.merchant_id}|${key.arrival_seq}`;
      const found = t.arrivals.get(id) ?? new Map<string, ArrivalMember>();
      for (const m of members) found.set(m.entity_id, m);
      t.arrivals.set(id, found);
      return [...found.values()].sort((a, b) => (a.entity_id < b.entity_id ? -1 : 1));
    },
    async countMetric(scenarioRunId, name, by = 1) {
      // A tuple, not `a|b`: the scenario run of a malformed record may hold any character.
      const key = JSON.stringify([scenarioRunId, name]);
      t.metrics.set(key, (t.metrics.get(key) ?? 0) + by);
    },
    async readCheckpoint(topic, partition) {
      return t.checkpoints.get(`${topic}|${partition}`);
    },
    async writeCheckpoint(c) {
      t.checkpoints.set(`${c.topic}|${c.partition}`, { ...c, updated_at_utc: tick() });
    },
    async recordApplyFailure(f) {
      if (!t.failures.has(f.failure_id)) t.failures.set(f.failure_id, f);
    },
  });

  const inScope = (row: { platform_run_id?: string | null; scenario_run_id: string | null }, s: GraphScope) =>
    (!s.platformRunId || row.platform_run_id === s.platformRunId) &&
    (!s.scenarioRunId || row.scenario_run_id === s.scenarioRunId);

  /** Breadth first over the edges, both directions: each entity at its fewest hops. */
  function walk(entityId: string, maxHops: number): LinkedEntity[] {
    const hops = new Map([[entityId, 0]]);
    let frontier = [entityId];
    for (let depth = 1; depth <= maxHops && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const edge of tables.edges.values())
        for (const [from, to] of [
          [edge.src_entity_id, edge.dst_entity_id],
          [edge.dst_entity_id, edge.src_entity_id],
        ] as const)
          if (frontier.includes(from) && !hops.has(to)) {
            hops.set(to, depth);
            next.push(to);
          }
      frontier = next;
    }
    return [...hops]
      .filter(([id]) => id !== entityId && tables.entities.has(id))
      .map(([id, n]) => ({ entity_id: id, entity_type: tables.entities.get(id)?.entity_type ?? '', hops: n }))
      .sort((a, b) => a.hops - b.hops || (a.entity_id < b.entity_id ? -1 : 1));
  }

  const store: IdentityGraphStore & { tables: () => Tables } = {
    streamId,
    tables: () => tables,
    async inTransaction(work) {
      const copy = structuredClone(tables);
      const result = await work(transaction(copy));
      tables = copy;
      return result;
    },
    async checkpoints() {
      return [...tables.checkpoints.values()];
    },
    async metrics(scope): Promise<GraphMetrics> {
      const totals = Object.fromEntries(GRAPH_METRIC_NAMES.map((n) => [n, 0])) as GraphMetrics;
      for (const [key, value] of tables.metrics) {
        const [scenarioRunId, name] = JSON.parse(key) as [string, keyof GraphMetrics];
        if (!scope.scenarioRunId || scope.scenarioRunId === scenarioRunId) totals[name] += value;
      }
      return totals;
    },
    async failureCountsByReason() {
      const counts: Record<string, number> = {};
      for (const f of tables.failures.values()) counts[f.reason_code] = (counts[f.reason_code] ?? 0) + 1;
      return counts;
    },
    async applyFailureCount(scope) {
      return [...tables.failures.values()].filter((f) => inScope(f, scope)).length;
    },
    async readEntity(entityId) {
      const found = tables.entities.get(entityId);
      if (!found) return undefined;
      const { scenario_run_id: _scenario, ...entity } = found;
      return entity;
    },
    async linkedEntities(entityId, maxHops, limit) {
      return walk(entityId, maxHops).slice(0, limit);
    },
  };
  return store;
}
