import type {
  CaseStore,
  IntakeAnswer,
  PendingEmission,
  QuarantineRow,
  TriggerIntake,
} from '../../../lib/case-management/ports.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import {
  type CaseSummary,
  type CaseTimelineEvent,
  caseManagementStreamId,
  encodeCaseCursor,
  type LabelEmissionStatus,
} from '../../../lib/contracts/case-management.ts';

/**
 * Case management's store port in memory, keeping its contract as the Postgres adapter does (migration 0021):
 * insert-once intake rows, cases adding up their triggers, an append-only timeline unique per (case, type, source
 * ref), a settle guarded by status and attempts, quarantine rows once per bus position, counts read from the rows.
 * `tables` exposes the rows and `calls` the port calls for assertions in tests.
 */

interface EmissionRow extends PendingEmission {
  status: LabelEmissionStatus;
  reason_code: string | null;
  last_error: string | null;
  seq: number;
}

/** The store port's contract in memory (as the Postgres adapter keeps it); `tables` for assertions. */
export function memoryCaseStore() {
  const intake = new Map<string, { payload_hash: string; platform_run_id: string }>();
  const cases = new Map<string, CaseSummary & { seq: number }>();
  const timeline: (CaseTimelineEvent & { platform_run_id: string })[] = [];
  const emissions = new Map<string, EmissionRow>();
  const quarantine = new Map<string, QuarantineRow & { scope_id: string }>();
  const counters = new Map<string, Record<string, number>>();
  const calls: Record<string, number> = {};
  let seq = 0;
  const called = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };
  const roundTrip = <T>(value: T): T => parseJsonLossless(canonicalJson(value)) as T;
  const timelineKeys = new Set<string>();
  const append = (event: CaseTimelineEvent, run: string) => {
    const keys = [
      event.case_timeline_event_id,
      `${event.case_id}|${event.timeline_event_type}|${event.source_ref_id}`,
    ];
    if (keys.some((k) => timelineKeys.has(k))) return;
    for (const k of keys) timelineKeys.add(k);
    timeline.push({ ...roundTrip(event), platform_run_id: run });
  };
  const pendingOf = (row: EmissionRow): PendingEmission => ({
    label_assertion_id: row.label_assertion_id,
    case_id: row.case_id,
    case_trigger_id: row.case_trigger_id,
    platform_run_id: row.platform_run_id,
    label_pending_event_id: row.label_pending_event_id,
    observed_time: row.observed_time,
    input: roundTrip(row.input),
    attempts: row.attempts,
  });
  const summaryOf = (c: CaseSummary & { seq: number }): CaseSummary => {
    const latest = [...emissions.values()]
      .filter((e) => e.case_id === c.case_id)
      .sort((a, b) => b.seq - a.seq)[0];
    const { seq: _seq, ...summary } = c;
    return { ...summary, label_status: latest?.status ?? null };
  };
  const writeNew = (i: TriggerIntake) => {
    const had = cases.get(i.case_id);
    if (had === undefined)
      cases.set(i.case_id, {
        case_id: i.case_id,
        case_subject_key: i.case_row.case_subject_key,
        trigger_count: 1,
        first_observed_time: i.observed_time,
        last_observed_time: i.observed_time,
        created_at_utc: i.recorded_at_utc,
        label_status: null,
        seq: ++seq,
      });
    else
      Object.assign(had, {
        trigger_count: had.trigger_count + 1,
        first_observed_time:
          i.observed_time < had.first_observed_time ? i.observed_time : had.first_observed_time,
        last_observed_time:
          i.observed_time > had.last_observed_time ? i.observed_time : had.last_observed_time,
      });
    for (const event of i.timeline) append(event, i.platform_run_id);
    emissions.set(i.emission.label_assertion_id, {
      ...roundTrip(i.emission),
      observed_time: i.observed_time,
      attempts: 0,
      status: 'PENDING',
      reason_code: null,
      last_error: null,
      seq: ++seq,
    });
  };
  const store: CaseStore = {
    async takeIn(intakes) {
      called('takeIn');
      return intakes.map((i): IntakeAnswer => {
        const stored = intake.get(i.case_trigger_id);
        if (stored === undefined) {
          intake.set(i.case_trigger_id, { payload_hash: i.payload_hash, platform_run_id: i.platform_run_id });
          writeNew(i);
          return { outcome: 'NEW_TRIGGER' };
        }
        if (stored.payload_hash !== i.payload_hash)
          return { outcome: 'TRIGGER_PAYLOAD_MISMATCH', stored_payload_hash: stored.payload_hash };
        const pending = [...emissions.values()].find(
          (e) => e.case_trigger_id === i.case_trigger_id && e.status === 'PENDING',
        );
        return { outcome: 'DUPLICATE_TRIGGER', pending: pending && pendingOf(pending) };
      });
    },
    async settle(settlements) {
      called('settle');
      return settlements.map((s) => {
        const row = emissions.get(s.label_assertion_id);
        if (row === undefined || row.status !== 'PENDING' || row.attempts !== s.attempts_before) return false;
        Object.assign(row, {
          status: s.status,
          attempts: row.attempts + 1,
          reason_code: s.reason_code,
          last_error: s.last_error ?? row.last_error,
        });
        if (s.timeline_event) append(s.timeline_event, row.platform_run_id);
        return true;
      });
    },
    async quarantine(scopeId, rows) {
      called('quarantine');
      for (const r of rows) {
        const key = `${scopeId}|${r.topic}|${r.partition}|${r.offset}`;
        if (!quarantine.has(key)) quarantine.set(key, { ...r, scope_id: scopeId });
      }
    },
    async addCounters(scopeId, additions) {
      called('addCounters');
      const row = counters.get(scopeId) ?? {};
      for (const [name, by] of Object.entries(additions)) row[name] = (row[name] ?? 0) + by;
      counters.set(scopeId, row);
    },
    async appendTimeline(events) {
      called('appendTimeline');
      for (const event of events) {
        const run = cases.get(event.case_id)?.case_subject_key.platform_run_id;
        if (run !== undefined) append(event, run);
      }
    },
    async pendingEmissions(platformRunId, limit) {
      return [...emissions.values()]
        .filter((e) => e.platform_run_id === platformRunId && e.status === 'PENDING')
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit)
        .map(pendingOf);
    },
    async counts(platformRunId) {
      const scope = caseManagementStreamId(platformRunId);
      const runEmissions = [...emissions.values()].filter((e) => e.platform_run_id === platformRunId);
      const quarantined = [...quarantine.values()].filter((q) => q.scope_id === scope);
      const byStatus = (s: LabelEmissionStatus) => runEmissions.filter((e) => e.status === s).length;
      return {
        case_triggers: [...intake.values()].filter((i) => i.platform_run_id === platformRunId).length,
        cases_created: [...cases.values()].filter((c) => c.case_subject_key.platform_run_id === platformRunId)
          .length,
        timeline_events_appended: timeline.filter((e) => e.platform_run_id === platformRunId).length,
        label_assertions: runEmissions.length,
        labels_pending: byStatus('PENDING'),
        labels_accepted: byStatus('ACCEPTED'),
        labels_rejected: byStatus('REJECTED'),
        payload_mismatches: quarantined.filter((q) => q.reason_code === 'TRIGGER_PAYLOAD_MISMATCH').length,
        quarantined: quarantined.filter((q) => q.reason_code !== 'TRIGGER_PAYLOAD_MISMATCH').length,
        ...(counters.get(scope) ?? {}),
      };
    },
    async listCases({ platform_run_id, limit, before_sequence }) {
      const all = [...cases.values()]
        .filter((c) => c.case_subject_key.platform_run_id === platform_run_id)
        .filter((c) => before_sequence === undefined || c.seq < before_sequence)
        .sort((a, b) => b.seq - a.seq);
      const page = all.slice(0, limit);
      const last = page.at(-1);
      return {
        platform_run_id,
        cases: page.map(summaryOf),
        next_cursor: all.length > limit && last ? encodeCaseCursor(last.seq) : null,
      };
    },
    async caseView(id) {
      const c = cases.get(id);
      if (c === undefined) return undefined;
      return {
        case: summaryOf(c),
        timeline: timeline
          .filter((e) => e.case_id === id)
          .map(({ platform_run_id: _run, ...event }) => event),
      };
    },
  };
  return { store, tables: { intake, cases, timeline, emissions, quarantine, counters }, calls };
}

/** Every row count of the store, to tell that a delivery wrote nothing. */
export function rowCounts(tables: ReturnType<typeof memoryCaseStore>['tables']) {
  return {
    intake: tables.intake.size,
    cases: tables.cases.size,
    timeline: tables.timeline.length,
    emissions: tables.emissions.size,
    quarantine: tables.quarantine.size,
  };
}
