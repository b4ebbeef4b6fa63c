import type {
  EntitySighting,
  FeatureCheckpoint,
  FeatureObservation,
  KeyEvent,
  OnlineFeatureStore,
  OnlineFeatureTransaction,
} from '../../../lib/online-features/ports.ts';
import type { Totals } from '../../../lib/online-features/windows.ts';

/** An OnlineFeatureStore in memory with the Postgres adapter's semantics: a transaction that throws leaves no trace. */

interface Tables {
  offsets: Set<string>;
  semantic: Map<string, string>;
  mismatches: Map<string, { stored: string | undefined; incoming: string }>;
  buckets: Map<string, Totals>;
  events: Map<string, FeatureObservation>;
  sightings: Map<string, EntitySighting>;
  checkpoints: Map<string, FeatureCheckpoint>;
  metrics: Map<string, number>;
}

const clone = (t: Tables): Tables => ({
  offsets: new Set(t.offsets),
  semantic: new Map(t.semantic),
  mismatches: new Map(t.mismatches),
  buckets: new Map(t.buckets),
  events: new Map(t.events),
  sightings: new Map(t.sightings),
  checkpoints: new Map(t.checkpoints),
  metrics: new Map(t.metrics),
});

const keyOf = (o: Pick<FeatureObservation, 'scope' | 'key'>) =>
  `${o.scope.platform_run_id}|${o.scope.scenario_run_id}|${o.key.key_type}|${o.key.key_id}`;

export function inMemoryOnlineFeatureStore(streamId = 'ofp.v0::platform_20260302T000000Z') {
  let tables: Tables = {
    offsets: new Set(),
    semantic: new Map(),
    mismatches: new Map(),
    buckets: new Map(),
    events: new Map(),
    sightings: new Map(),
    checkpoints: new Map(),
    metrics: new Map(),
  };
  const zero = (): Totals => ({ event_count: 0, amount_micros: 0n });

  const transaction = (t: Tables): OnlineFeatureTransaction => ({
    async prefetch() {},
    async registerOffset(e) {
      const key = `${e.topic}|${e.partition}|${e.offset_kind}|${e.offset}`;
      if (t.offsets.has(key)) return 'duplicate';
      t.offsets.add(key);
      return 'inserted';
    },
    async registerEvent(row) {
      const key = `${row.platform_run_id}|${row.event_class}|${row.event_id}`;
      const found = t.semantic.get(key);
      if (found === undefined) {
        t.semantic.set(key, row.payload_hash);
        return 'inserted';
      }
      return found === row.payload_hash ? 'duplicate' : 'mismatch';
    },
    async recordPayloadMismatch(row) {
      const e = row.eb_ref;
      t.mismatches.set(`${e.topic}|${e.partition}|${e.offset}`, {
        stored: t.semantic.get(`${row.platform_run_id}|${row.event_class}|${row.event_id}`),
        incoming: row.incoming_payload_hash,
      });
    },
    async addObservations(observations) {
      for (const o of observations) {
        const bucket = `${keyOf(o)}|${o.bucket_start_micros}`;
        const current = t.buckets.get(bucket) ?? zero();
        t.buckets.set(bucket, {
          event_count: current.event_count + 1,
          amount_micros: current.amount_micros + o.amount_micros,
        });
        t.events.set(`${keyOf(o)}|${o.event_ts_micros}|${o.event_id}`, o);
      }
    },
    async addEntitySighting(sighting) {
      const key = `${sighting.scope.platform_run_id}|${sighting.scope.scenario_run_id}|${sighting.event_id}`;
      if (!t.sightings.has(key)) t.sightings.set(key, sighting);
    },
    async readCheckpoint(topic, partition) {
      return t.checkpoints.get(`${topic}|${partition}`);
    },
    async writeCheckpoint(c) {
      t.checkpoints.set(`${c.topic}|${c.partition}`, c);
    },
    async incrementMetrics(names) {
      for (const name of new Set(names)) t.metrics.set(name, (t.metrics.get(name) ?? 0) + 1);
    },
  });

  const store: OnlineFeatureStore & { tables: () => Tables } = {
    streamId,
    tables: () => tables,
    async inTransaction(work) {
      const draft = clone(tables);
      const result = await work(transaction(draft));
      tables = draft;
      return result;
    },
    async hasState(scope) {
      return [...tables.events.values()].some(
        (o) =>
          o.scope.platform_run_id === scope.platform_run_id &&
          o.scope.scenario_run_id === scope.scenario_run_id,
      );
    },
    async sumBuckets(scope, key, first, last) {
      const prefix = `${keyOf({ scope, key })}|`;
      let totals = zero();
      for (const [name, value] of tables.buckets) {
        if (!name.startsWith(prefix)) continue;
        const start = BigInt(name.slice(prefix.length));
        if ((first === null || start >= first) && start <= last)
          totals = {
            event_count: totals.event_count + value.event_count,
            amount_micros: totals.amount_micros + value.amount_micros,
          };
      }
      return totals;
    },
    async sumEvents(scope, key, after, atOrBefore) {
      let totals = zero();
      for (const o of tables.events.values())
        if (
          keyOf(o) === keyOf({ scope, key }) &&
          (after === null || o.event_ts_micros > after) &&
          o.event_ts_micros <= atOrBefore
        )
          totals = {
            event_count: totals.event_count + 1,
            amount_micros: totals.amount_micros + o.amount_micros,
          };
      return totals;
    },
    async lastEventAtOrBefore(scope, key, atOrBefore) {
      let last: bigint | undefined;
      for (const o of tables.events.values())
        if (keyOf(o) === keyOf({ scope, key }) && o.event_ts_micros <= atOrBefore)
          if (last === undefined || o.event_ts_micros > last) last = o.event_ts_micros;
      return last;
    },
    async firstEventAtOrBefore(scope, key, atOrBefore) {
      let first: bigint | undefined;
      for (const o of tables.events.values())
        if (keyOf(o) === keyOf({ scope, key }) && (first === undefined || o.event_ts_micros < first))
          first = o.event_ts_micros;
      return first !== undefined && first <= atOrBefore ? first : undefined;
    },
    async distinctCounterparts(scope, key, counterpart, after, atOrBefore) {
      const seen = new Set<string>();
      for (const s of tables.sightings.values()) {
        const id = s.entities[counterpart];
        if (
          s.scope.platform_run_id === scope.platform_run_id &&
          s.scope.scenario_run_id === scope.scenario_run_id &&
          s.entities[key.key_type] === key.key_id &&
          s.event_ts_micros > after &&
          s.event_ts_micros <= atOrBefore &&
          id !== undefined
        )
          seen.add(id);
      }
      return seen.size;
    },
    async checkpoints() {
      return [...tables.checkpoints.values()];
    },
    async loadHistory(scope, keys, atOrBefore) {
      const names = new Set(keys.map((key) => keyOf({ scope, key })));
      const events = new Map<string, KeyEvent[]>();
      for (const o of [...tables.events.values()].sort((a, b) =>
        a.event_ts_micros < b.event_ts_micros ? -1 : 1,
      ))
        if (names.has(keyOf(o)) && o.event_ts_micros <= atOrBefore) {
          const name = `${o.key.key_type}:${o.key.key_id}`;
          events.set(name, [
            ...(events.get(name) ?? []),
            { event_ts_micros: o.event_ts_micros, amount_micros: o.amount_micros },
          ]);
        }
      const sightings = [...tables.sightings.values()]
        .filter(
          (s) =>
            s.scope.platform_run_id === scope.platform_run_id &&
            s.scope.scenario_run_id === scope.scenario_run_id &&
            s.event_ts_micros <= atOrBefore &&
            keys.some((k) => s.entities[k.key_type as keyof typeof s.entities] === k.key_id),
        )
        .map((s) => ({ event_ts_micros: s.event_ts_micros, entities: s.entities }));
      return { events, sightings };
    },
    async flowEntities(scope, flowIds) {
      return [...tables.sightings.values()]
        .filter(
          (s) =>
            s.scope.platform_run_id === scope.platform_run_id &&
            s.scope.scenario_run_id === scope.scenario_run_id &&
            s.flow_id !== undefined &&
            flowIds.includes(s.flow_id),
        )
        .map((s) => ({
          flow_id: s.flow_id ?? '',
          anchor_event_id: s.event_id,
          anchor_ts_micros: s.event_ts_micros,
          entities: s.entities,
        }));
    },
    async metrics() {
      return Object.fromEntries([...tables.metrics].sort(([a], [b]) => (a < b ? -1 : 1)));
    },
  };
  return store;
}
