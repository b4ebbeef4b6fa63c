import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import type { LabelAssertionInput, StoredLabelAssertion } from '../../../lib/contracts/label-store.ts';
import type {
  LabelClaimAnswer,
  LabelMismatch,
  LabelStorePort,
  LabelTimelineEntry,
} from '../../../lib/label-store/ports.ts';
import { compareAssertions } from '../../../lib/label-store/reads.ts';

/**
 * The Label Store's port in memory, behaving as the Postgres adapter does (migration 0019): a claim inserts each new
 * id with its timeline row in one synchronous step (so of two concurrent writers one commits and the other reads
 * it), stored rows go through canonical JSON as the adapter's text columns do, reads answer in the adapter's orders.
 * `tables` exposes the rows for assertions in tests.
 */
export interface InMemoryLabelStore extends LabelStorePort {
  readonly tables: {
    assertions: Map<string, StoredLabelAssertion>;
    timeline: (LabelTimelineEntry & { platform_run_id: string; event_id: string })[];
    mismatches: LabelMismatch[];
    metrics: Map<string, Record<string, number>>;
  };
  /** Calls per port method (a batch is one claim and one settle). */
  readonly calls: Record<string, number>;
}

const roundTrip = <T>(value: T): T => parseJsonLossless(canonicalJson(value)) as T;

export function inMemoryLabelStore(): InMemoryLabelStore {
  const tables: InMemoryLabelStore['tables'] = {
    assertions: new Map(),
    timeline: [],
    mismatches: [],
    metrics: new Map(),
  };
  const calls: Record<string, number> = {};
  const called = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const all = () => [...tables.assertions.values()].map((a) => roundTrip(a));
  return {
    tables,
    calls,
    async claim(batch) {
      called('claim');
      return batch.map((a): LabelClaimAnswer => {
        const stored = tables.assertions.get(a.label_assertion_id);
        if (stored !== undefined)
          return {
            status: 'STORED',
            stored: {
              platform_run_id: stored.label_subject_key.platform_run_id,
              event_id: stored.label_subject_key.event_id,
              label_type: stored.label_type,
              payload_hash: stored.payload_hash,
            },
          };
        tables.assertions.set(a.label_assertion_id, roundTrip({ ...a, replay_count: 0 }));
        tables.timeline.push({
          timeline_seq: tables.timeline.length + 1,
          label_assertion_id: a.label_assertion_id,
          platform_run_id: a.label_subject_key.platform_run_id,
          event_id: a.label_subject_key.event_id,
          label_type: a.label_type,
          label_value: a.label_value,
          effective_time: a.effective_time,
          observed_time: a.observed_time,
          source_type: a.source_type,
        });
        return { status: 'COMMITTED' };
      });
    },
    async settle({ replays, mismatches, counters }) {
      called('settle');
      for (const id of replays) {
        const stored = tables.assertions.get(id);
        if (stored !== undefined) stored.replay_count += 1;
      }
      tables.mismatches.push(...mismatches.map((m) => ({ ...m })));
      for (const [run, counts] of counters) {
        const current = tables.metrics.get(run) ?? {};
        for (const [name, by] of Object.entries(counts))
          if (by > 0) current[name] = (current[name] ?? 0) + by;
        tables.metrics.set(run, current);
      }
    },
    async assertionsAsOf(subject, labelType, asOf) {
      called('assertionsAsOf');
      return all()
        .filter(
          (a) =>
            a.label_subject_key.platform_run_id === subject.platform_run_id &&
            a.label_subject_key.event_id === subject.event_id &&
            a.label_type === labelType &&
            a.observed_time <= asOf,
        )
        .sort(compareAssertions);
    },
    async assertionsOfEvent(subject) {
      called('assertionsOfEvent');
      return all()
        .filter(
          (a) =>
            a.label_subject_key.platform_run_id === subject.platform_run_id &&
            a.label_subject_key.event_id === subject.event_id,
        )
        .sort(
          (a, b) =>
            (a.label_type < b.label_type ? -1 : a.label_type > b.label_type ? 1 : 0) ||
            compareAssertions(a, b),
        );
    },
    async timelineOf(subject, labelType) {
      called('timelineOf');
      return tables.timeline
        .filter(
          (t) =>
            t.platform_run_id === subject.platform_run_id &&
            t.event_id === subject.event_id &&
            t.label_type === labelType,
        )
        .map(({ platform_run_id: _run, event_id: _event, ...entry }) => ({ ...entry }));
    },
    async assertionsOfRun(platformRunId, { afterId, limit }) {
      called('assertionsOfRun');
      return all()
        .filter(
          (a) =>
            a.label_subject_key.platform_run_id === platformRunId && a.label_assertion_id > (afterId ?? ''),
        )
        .sort((a, b) => (a.label_assertion_id < b.label_assertion_id ? -1 : 1))
        .slice(0, limit);
    },
    async mismatchesOfRun(platformRunId) {
      called('mismatchesOfRun');
      return tables.mismatches.filter((m) => m.platform_run_id === platformRunId).map((m) => ({ ...m }));
    },
    async runTotals(platformRunId) {
      called('runTotals');
      const mine = all().filter((a) => a.label_subject_key.platform_run_id === platformRunId);
      return {
        assertions: mine.length,
        replays: mine.reduce((n, a) => n + a.replay_count, 0),
        counters: { ...(tables.metrics.get(platformRunId) ?? {}) },
      };
    },
  };
}

export const LABEL_PINS = {
  platform_run_id: 'platform_20261207T100000Z',
  scenario_run_id: 'a'.repeat(32),
  manifest_fingerprint: 'b'.repeat(64),
  parameter_hash: 'c'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
} as const;

/** A valid label assertion input (case management's auto label by default); `overrides` replace top-level fields. */
export function labelInput(
  overrides: Partial<LabelAssertionInput> & { event_id?: string } = {},
): LabelAssertionInput {
  const { event_id = 'evt-1', ...fields } = overrides;
  return {
    case_timeline_event_id: 'f'.repeat(32),
    label_subject_key: { platform_run_id: LABEL_PINS.platform_run_id, event_id },
    pins: { ...LABEL_PINS },
    label_type: 'fraud_disposition',
    label_value: 'FRAUD_SUSPECTED',
    effective_time: '2026-12-07T10:00:00.000000Z',
    observed_time: '2026-12-07T10:00:00.000000Z',
    source_type: 'AUTO',
    actor_id: 'SYSTEM::case_mgmt_worker',
    evidence_refs: [
      { ref_type: 'DECISION', ref_id: 'decision-1' },
      { ref_type: 'CASE_EVENT', ref_id: 'case-event-1' },
    ],
    ...fields,
  };
}
