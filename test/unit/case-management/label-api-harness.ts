import { takeInCaseTriggers } from '../../../lib/case-management/intake.ts';
import {
  handleLabelRequest,
  LABEL_READER_PRINCIPAL,
  type LabelApiDependencies,
  type LabelApiPorts,
} from '../../../lib/case-management/label-api.ts';
import type { LabelWriter } from '../../../lib/case-management/ports.ts';
import { labelAsOf, labelsOfEvent } from '../../../lib/label-store/reads.ts';
import { writeLabelAssertion } from '../../../lib/label-store/writer.ts';
import { inMemoryLabelStore } from '../label-store/fakes.ts';
import { caseRecord, RUN, steppingClock, triggerEnvelope, triggerPayload } from './factories.ts';
import { memoryCaseStore } from './memory-store.ts';

/**
 * The label API's core on in-memory ports: one case (a DECISION_ESCALATION about `evt-1`, observed 10:00:01, its AUTO
 * FRAUD_SUSPECTED label written to the in-memory label store by case management itself), the real label store
 * writer and reads on that store, a clock the test sets, and keys `op-key` (operator) and `reader-key` (a bare key).
 */

export const OPERATOR_KEY = 'op-key';
export const READER_KEY = 'reader-key';
export const API_NOW = '2026-12-07T12:00:00.123Z';

export async function labelApiWorld(o: { writer?: LabelWriter } = {}) {
  const cases = memoryCaseStore();
  const labels = inMemoryLabelStore();
  const realWriter: LabelWriter = { write: (input) => writeLabelAssertion(labels, input) };
  const trigger = triggerPayload('evt-1');
  await takeInCaseTriggers(
    [caseRecord(triggerEnvelope(trigger))],
    { store: cases.store, labels: realWriter, clock: steppingClock() },
    { requiredPlatformRunId: RUN },
  );
  const clock = { at: Date.parse(API_NOW), now: () => new Date(clock.at) };
  const writes: unknown[] = [];
  const writer = o.writer ?? realWriter;
  const ports: LabelApiPorts = {
    cases: cases.store,
    labels: {
      write: (input) => {
        writes.push(input);
        return writer.write(input);
      },
    },
    reads: {
      labelsOfEvent: (s) => labelsOfEvent(labels, s.platform_run_id, s.event_id),
      labelAsOf: (s, type, asOf) => labelAsOf(labels, s, type, asOf),
    },
    clock,
  };
  const principals: Record<string, string> = {
    [OPERATOR_KEY]: 'operator',
    [READER_KEY]: LABEL_READER_PRINCIPAL,
  };
  const deps: LabelApiDependencies = {
    principalOf: async (key) => principals[key],
    ports: async () => ports,
  };
  const headers = (key: string | null) => (key === null ? {} : { 'x-case-api-key': key });
  const request = async (
    method: string,
    init: { path?: string; body?: unknown; query?: Record<string, string>; key?: string | null } = {},
  ) => {
    const answer = await handleLabelRequest(
      {
        method,
        path: init.path ?? '/v1/labels',
        headers: headers(init.key === undefined ? OPERATOR_KEY : init.key),
        query: init.query ?? {},
        body:
          init.body === undefined || typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
      },
      deps,
    );
    return { status: answer.statusCode, body: answer.body as Record<string, unknown> };
  };
  /** Every row either store holds, to tell that a request wrote nothing (not even a counter). */
  const rows = () => ({
    case_timeline: cases.tables.timeline.length,
    assertions: labels.tables.assertions.size,
    label_timeline: labels.tables.timeline.length,
    mismatches: labels.tables.mismatches.length,
    label_metrics: JSON.stringify([...labels.tables.metrics]),
  });
  const investigatorEvents = () =>
    cases.tables.timeline.filter((e) => e.timeline_event_type === 'INVESTIGATOR_ASSERTION');
  /** A HUMAN FRAUD_CONFIRMED about the case's subject; `o` replaces fields (undefined drops one). */
  const humanLabel = (o: Record<string, unknown> = {}) => ({
    case_id: trigger.case_id,
    label_type: 'fraud_disposition',
    label_value: 'FRAUD_CONFIRMED',
    source_type: 'HUMAN',
    actor_id: 'HUMAN::analyst_7',
    effective_time: '2026-12-07T10:00:00Z',
    evidence_refs: [{ ref_type: 'CASE_EVENT', ref_id: 'note-1' }],
    platform_run_id: RUN,
    event_id: 'evt-1',
    ...o,
  });
  return {
    cases,
    labels,
    trigger,
    clock,
    writes,
    ports,
    deps,
    post: (body: unknown, key?: string | null) => request('POST', { body, key }),
    get: (query: Record<string, string>, key?: string | null) => request('GET', { query, key }),
    request,
    rows,
    investigatorEvents,
    humanLabel,
  };
}
