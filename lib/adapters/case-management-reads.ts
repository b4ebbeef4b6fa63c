import type { CaseStore } from '../case-management/ports.ts';
import { parseJsonLossless } from '../contracts/canonical-json.ts';
import {
  type CaseSummary,
  type CaseTimelineEvent,
  encodeCaseCursor,
  type LabelEmissionStatus,
  type TimelineEventType,
} from '../contracts/case-management.ts';
import type { Pool } from './postgres/pool.ts';
import { queryOrUnavailable } from './postgres/projector-tables.ts';

/**
 * Case management's reads on Postgres (migration 0021), for its HTTP API and reports: a page of a run's cases, newest
 * first (by creation sequence, the cursor), each with its latest label emission's status; one case with its whole
 * timeline in the order it was written. Only reads: the API's role holds no write.
 */

const SUMMARY = `SELECT c.case_id, c.case_seq::text AS case_seq, c.platform_run_id, c.event_class, c.event_id,
    c.trigger_count, c.first_observed_time, c.last_observed_time, c.created_at_utc,
    (SELECT e.status FROM cm_label_emissions e WHERE e.case_id = c.case_id ORDER BY e.emission_seq DESC LIMIT 1)
      AS label_status
  FROM cm_cases c`;

const LIST = `${SUMMARY}
  WHERE c.platform_run_id = $1 AND ($2::bigint IS NULL OR c.case_seq < $2::bigint)
  ORDER BY c.case_seq DESC LIMIT $3`;

const ONE = `${SUMMARY} WHERE c.case_id = $1`;

const TIMELINE = `SELECT case_timeline_event_id, case_id, timeline_event_type, source_ref_id, observed_time,
    payload_json, payload_hash, recorded_at_utc
  FROM cm_case_timeline WHERE case_id = $1 ORDER BY timeline_seq`;

interface SummaryRow {
  case_id: string;
  case_seq: string;
  platform_run_id: string;
  event_class: string;
  event_id: string;
  trigger_count: number;
  first_observed_time: string;
  last_observed_time: string;
  created_at_utc: string;
  label_status: LabelEmissionStatus | null;
}

interface TimelineRow {
  case_timeline_event_id: string;
  case_id: string;
  timeline_event_type: TimelineEventType;
  source_ref_id: string;
  observed_time: string;
  payload_json: string;
  payload_hash: string;
  recorded_at_utc: string;
}

const summaryOf = (row: SummaryRow): CaseSummary => ({
  case_id: row.case_id,
  case_subject_key: {
    platform_run_id: row.platform_run_id,
    event_class: row.event_class,
    event_id: row.event_id,
  },
  trigger_count: row.trigger_count,
  first_observed_time: row.first_observed_time,
  last_observed_time: row.last_observed_time,
  created_at_utc: row.created_at_utc,
  label_status: row.label_status,
});

const eventOf = (row: TimelineRow): CaseTimelineEvent => ({
  case_timeline_event_id: row.case_timeline_event_id,
  case_id: row.case_id,
  timeline_event_type: row.timeline_event_type,
  source_ref_id: row.source_ref_id,
  observed_time: row.observed_time,
  payload: parseJsonLossless(row.payload_json) as Record<string, unknown>,
  payload_hash: row.payload_hash,
  recorded_at_utc: row.recorded_at_utc,
});

export function caseReads(pool: Pool): Pick<CaseStore, 'listCases' | 'caseView'> {
  return {
    async listCases({ platform_run_id, limit, before_sequence }) {
      // One more than asked: whether there is a next page.
      const res = await queryOrUnavailable<SummaryRow>(pool, LIST, [
        platform_run_id,
        before_sequence === undefined ? null : String(before_sequence),
        limit + 1,
      ]);
      const page = res.rows.slice(0, limit);
      const last = page.at(-1);
      return {
        platform_run_id,
        cases: page.map(summaryOf),
        next_cursor:
          res.rows.length > limit && last !== undefined ? encodeCaseCursor(Number(last.case_seq)) : null,
      };
    },
    async caseView(caseId) {
      const found = await queryOrUnavailable<SummaryRow>(pool, ONE, [caseId]);
      const row = found.rows[0];
      if (row === undefined) return undefined;
      const timeline = await queryOrUnavailable<TimelineRow>(pool, TIMELINE, [caseId]);
      return { case: summaryOf(row), timeline: timeline.rows.map(eventOf) };
    },
  };
}
