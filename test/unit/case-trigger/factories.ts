import type {
  CaseTriggerPublisher,
  CaseTriggerStore,
  DecisionSource,
  LedgerAnswer,
  PayloadMismatchAnomaly,
  PublishRecord,
  RaisedOutcome,
} from '../../../lib/case-trigger/ports.ts';
import { type ActionOutcomePayload, SETTLED_PUBLISH_DECISIONS } from '../../../lib/contracts/action-layer.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import type { CaseTriggerEnvelope, CaseTriggerPayload } from '../../../lib/contracts/case-trigger.ts';
import { busRecord, decisionEnvelope, decisionIdOf, outcomeEnvelope } from '../decision-log/fixtures.ts';

/**
 * Records, ports and fakes for the case trigger's tests: decision_response and action_outcome records as the decision
 * fabric and the action layer publish them (test/unit/decision-log/fixtures.ts), an in-memory store that keeps the
 * store port's contract (as the Postgres adapter does: insert-once rows, JSON kept as canonical text), a scripted IG
 * publisher and a stepping clock.
 */

export { decisionIdOf };

let nextOffset = 5000;
const next = () => nextOffset++;

/** A decision record of source `name` (its action kind STEP_UP unless told). */
export const decisionRecord = (name: string, o: Parameters<typeof decisionEnvelope>[1] = {}) =>
  busRecord(next(), decisionEnvelope(decisionIdOf(name), o), { partition: 0 });

/** An outcome record of the decision of source `name` (EXECUTED unless told), on another shard. */
export const outcomeRecord = (name: string, o: Parameters<typeof outcomeEnvelope>[1] = {}) =>
  busRecord(next(), outcomeEnvelope(decisionIdOf(name), o), { partition: 1 });

/** Any record at the next offset. */
export const recordOf = (envelope: unknown, topic?: string) =>
  busRecord(next(), envelope, topic === undefined ? {} : { topic });

/** The source event a decision fixture decides on. */
export const sourceEventOf = (name: string) => `source-${decisionIdOf(name)}`;

/** The case trigger store's contract in memory. */
export function memoryStore() {
  const sources = new Map<string, DecisionSource>();
  const waiting = new Map<
    string,
    { decision_id: string; json: string; raised?: Omit<RaisedOutcome, 'outcome_id'> }
  >();
  const ledger = new Map<string, { payload_hash: string; json: string }>();
  const publishes = new Map<string, PublishRecord & { attempts: number }>();
  const anomalies = new Map<string, PayloadMismatchAnomaly>();
  const counters: Record<string, number> = {};
  const store: CaseTriggerStore = {
    async recordDecisionSources(rows) {
      for (const s of rows) if (!sources.has(s.decision_id)) sources.set(s.decision_id, { ...s });
    },
    async decisionSources(ids) {
      return [...new Set(ids)].flatMap((id) => {
        const s = sources.get(id);
        return s ? [{ ...s }] : [];
      });
    },
    async park(outcomes) {
      const parked: string[] = [];
      for (const o of outcomes) {
        if (waiting.has(o.outcome_id)) continue;
        waiting.set(o.outcome_id, { decision_id: o.decision_id, json: canonicalJson(o) });
        parked.push(o.outcome_id);
      }
      return parked;
    },
    async waitingFor(ids) {
      const wanted = new Set(ids);
      return [...waiting.entries()]
        .filter(([, w]) => wanted.has(w.decision_id) && w.raised === undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([, w]) => parseJsonLossless(w.json));
    },
    async markRaised(raised) {
      for (const r of raised) {
        const w = waiting.get(r.outcome_id);
        if (w && w.raised === undefined)
          w.raised = { case_trigger_id: r.case_trigger_id, disposition: r.disposition };
      }
    },
    async claim(claims) {
      return claims.map((c): LedgerAnswer => {
        const row = ledger.get(c.case_trigger_id);
        if (row === undefined) {
          ledger.set(c.case_trigger_id, { payload_hash: c.payload_hash, json: canonicalJson(c.payload) });
          return { status: 'NEW' };
        }
        if (row.payload_hash !== c.payload_hash)
          return { status: 'PAYLOAD_MISMATCH', stored_payload_hash: row.payload_hash };
        return { status: 'SEEN', publish_decision: publishes.get(c.case_trigger_id)?.decision ?? null };
      });
    },
    async recordPublish(records) {
      for (const r of records) {
        const stored = publishes.get(r.case_trigger_id);
        if (stored && SETTLED_PUBLISH_DECISIONS.has(stored.decision)) continue;
        publishes.set(r.case_trigger_id, { ...r, attempts: (stored?.attempts ?? 0) + 1 });
      }
    },
    async recordAnomalies(rows) {
      for (const a of rows) {
        const key = `${a.case_trigger_id}|${a.observed_payload_hash}`;
        if (!anomalies.has(key)) anomalies.set(key, a);
      }
    },
    async addMetrics(additions) {
      for (const [name, by] of Object.entries(additions)) counters[name] = (counters[name] ?? 0) + by;
    },
    metrics: async () => ({ ...counters }),
  };
  const trigger = (id: string) => {
    const row = ledger.get(id);
    return row && (parseJsonLossless(row.json) as CaseTriggerPayload);
  };
  const parked = (outcomeId: string) => waiting.get(outcomeId);
  return { store, sources, waiting, ledger, publishes, anomalies, counters, trigger, parked };
}

export type PublishScript = (envelopes: readonly CaseTriggerEnvelope[]) => unknown[];
export const admitAll: PublishScript = (envelopes) =>
  envelopes.map((e) => ({ decision: 'ADMIT', receipt_ref: `s3://platform/receipts/${e.event_id}.json` }));
export const igUnavailable: PublishScript = () => {
  throw new Error('IG_PUBLISH_AMBIGUOUS: 1 envelopes unanswered after 5 attempts: timeout');
};

/** A publisher whose answers `script` gives (or throws); every call's envelopes are kept. */
export function scriptedPublisher(script: PublishScript = admitAll) {
  const calls: CaseTriggerEnvelope[][] = [];
  let current = script;
  const publisher: CaseTriggerPublisher = {
    async publish(envelopes) {
      calls.push([...envelopes]);
      return current(envelopes);
    },
  };
  return {
    publisher,
    calls,
    answer: (nextScript: PublishScript) => {
      current = nextScript;
    },
  };
}

/** A clock that moves 1 ms per reading from `start`. */
export function steppingClock(start = '2026-12-07T10:00:09.000Z') {
  let at = new Date(start).getTime();
  return { now: () => new Date(at++) };
}

/** Fresh ports: the memory store, a scripted IG, a stepping clock. */
export function harness(script: PublishScript = admitAll) {
  const memory = memoryStore();
  const ig = scriptedPublisher(script);
  return { memory, ig, ports: { store: memory.store, publisher: ig.publisher, clock: steppingClock() } };
}

/** The outcome payload of an outcome record. */
export const outcomeOf = (record: { envelope: unknown }) =>
  (record.envelope as { payload: ActionOutcomePayload }).payload;
