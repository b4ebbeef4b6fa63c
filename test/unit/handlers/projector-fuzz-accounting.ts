import { type ProjectorHarness, sumCounts } from './projector-fuzz.ts';

/**
 * How the RTDL projectors' stream fuzz (projector-fuzz.test.ts) reads back what a run did: each projector's store
 * counters summed over its scopes, the counter every delivery moves, the outcomes the random batches must reach, and
 * a tally of what the runs reached.
 */

/** The three projectors that apply a batch to their own in-memory store. */
export type StoreProjector = 'identity-graph' | 'context-store' | 'online-features';

/** What a fuzz run reached: records, failed batches, and each outcome the stores counted. */
export function tally() {
  const counts: Record<string, number> = { records: 0, failedBatches: 0 };
  return {
    counts,
    add: (what: string, n = 1) => {
      counts[what] = (counts[what] ?? 0) + n;
    },
  };
}

/** What each projector's stores counted, summed over its scopes (the counters every record moves). */
export const countsOf: Record<StoreProjector, (p: ProjectorHarness) => Promise<Record<string, number>>> = {
  'identity-graph': async (p) =>
    sumCounts(await Promise.all([...p.graphs.values()].map((s) => s.metrics({})))),
  'context-store': async (p) =>
    sumCounts(await Promise.all([...p.contexts.values()].map((s) => s.counters()))),
  'online-features': async (p) =>
    sumCounts(await Promise.all([...p.features.values()].map((s) => s.metrics()))),
};
/** The counter of every delivery: one per accounted record. */
export const SEEN = {
  'identity-graph': 'events_seen',
  'context-store': 'seen',
  'online-features': 'events_seen',
} as const;
/** The outcomes the random batches must reach (each more than a few times over the runs). */
export const OUTCOMES = {
  'identity-graph': ['mutating_applied', 'duplicate', 'irrelevant', 'unusable', 'payload_mismatch'],
  'context-store': ['applied', 'duplicate', 'skipped', 'failed'],
  'online-features': [
    'events_applied',
    'duplicates',
    'payload_hash_mismatch',
    'invalid_envelope',
    'invalid_pins',
    'run_scope_mismatch',
    'ignored_event_type',
  ],
} as const;
