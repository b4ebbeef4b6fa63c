import type { FeatureKey } from '../contracts/online-features.ts';
import { type AnchorEntityType, isAnchorEntityType } from './keys.ts';
import type {
  FeatureCheckpoint,
  FeatureReader,
  FeatureScope,
  KeyEvent,
  KeyHistory,
  SightingRow,
} from './ports.ts';
import { BUCKET_MICROS, type Totals } from './windows.ts';

/**
 * A `FeatureReader` over a batch's history loaded at once (`OnlineFeatureStore.loadHistory`): the snapshots of many
 * events cost a few statements instead of a few dozen per key. It answers every read from the key's event rows —
 * which the buckets only summarise — so a snapshot built on it equals one built on the store (the test in
 * test/integration/decision-fabric/context.test.ts compares them) for every as-of time up to the loaded bound.
 * Only the loaded keys and scope are known: a read of another key answers as if the key had no event.
 */

const keyName = (key: FeatureKey) => `${key.key_type}:${key.key_id}`;
const ZERO: Totals = { event_count: 0, amount_micros: 0n };

function sumWhere(events: readonly KeyEvent[], keep: (ts: bigint) => boolean): Totals {
  let event_count = 0;
  let amount_micros = 0n;
  for (const e of events)
    if (keep(e.event_ts_micros)) {
      event_count += 1;
      amount_micros += e.amount_micros;
    }
  return event_count === 0 ? ZERO : { event_count, amount_micros };
}

export function historyReader(
  scope: FeatureScope,
  history: KeyHistory,
  checkpoints: readonly FeatureCheckpoint[],
  /** What the store's `hasState` answered for the scope. */
  stateExists: boolean,
): FeatureReader {
  const inScope = (s: FeatureScope) =>
    s.platform_run_id === scope.platform_run_id && s.scenario_run_id === scope.scenario_run_id;
  const eventsOf = (s: FeatureScope, key: FeatureKey) =>
    (inScope(s) && history.events.get(keyName(key))) || [];
  const sightingsByEntity = new Map<string, SightingRow[]>();
  for (const row of history.sightings)
    for (const [type, id] of Object.entries(row.entities)) {
      const name = `${type}:${id}`;
      const list = sightingsByEntity.get(name);
      if (list) list.push(row);
      else sightingsByEntity.set(name, [row]);
    }
  return {
    hasState: async (s) => inScope(s) && stateExists,
    async sumBuckets(s, key, first, last) {
      const end = last + BUCKET_MICROS;
      return sumWhere(eventsOf(s, key), (ts) => (first === null || ts >= first) && ts < end);
    },
    async sumEvents(s, key, after, atOrBefore) {
      return sumWhere(eventsOf(s, key), (ts) => (after === null || ts > after) && ts <= atOrBefore);
    },
    async lastEventAtOrBefore(s, key, atOrBefore) {
      let last: bigint | undefined;
      for (const e of eventsOf(s, key))
        if (e.event_ts_micros <= atOrBefore && (last === undefined || e.event_ts_micros > last))
          last = e.event_ts_micros;
      return last;
    },
    async firstEventAtOrBefore(s, key, atOrBefore) {
      let first: bigint | undefined;
      for (const e of eventsOf(s, key))
        if (first === undefined || e.event_ts_micros < first) first = e.event_ts_micros;
      return first !== undefined && first <= atOrBefore ? first : undefined;
    },
    async distinctCounterparts(s, key, counterpart: AnchorEntityType, after, atOrBefore) {
      if (!inScope(s) || !isAnchorEntityType(key.key_type)) return 0;
      const seen = new Set<string>();
      for (const row of sightingsByEntity.get(`${key.key_type}:${key.key_id}`) ?? []) {
        if (row.event_ts_micros <= after || row.event_ts_micros > atOrBefore) continue;
        const id = row.entities[counterpart];
        if (id !== undefined) seen.add(id);
      }
      return seen.size;
    },
    checkpoints: async () => [...checkpoints],
  };
}
