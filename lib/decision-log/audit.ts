import { compareCodePoints } from '../contracts/canonical-json.ts';
import { AuditRecord, auditId, type LineageChain } from '../contracts/decision-log.ts';

/**
 * The audit record of a chain (downstream.md §3.4; README: records in S3 segments, not one object per event). A chain
 * is audited once, when a batch leaves it RESOLVED with at least one intent — a decision alone is RESOLVED by the
 * lineage rules but its intent is still on its way (the decision fabric emits one per decision), and a write-once
 * record must not be written before the chain is whole. Links are ordered by id, so the record is the same whatever
 * order the events arrived in.
 */

/** Whether the batch should write the chain's audit record now. */
export const auditDue = (chain: LineageChain) =>
  chain.audit_id === null &&
  chain.chain_status === 'RESOLVED' &&
  chain.decision !== null &&
  chain.intents.length > 0;

const byKey =
  <T>(key: (item: T) => string) =>
  (a: T, b: T) =>
    compareCodePoints(key(a), key(b));

/** The record of a chain that is due (parsed: a chain that does not make a record fails here). */
export function auditRecordOf(chain: LineageChain): AuditRecord {
  const decision = chain.decision;
  if (!decision) throw new Error(`chain ${chain.decision_id} has no decision; it cannot be audited`);
  const intents = [...chain.intents].sort(byKey((i) => i.action_id));
  const outcomes = [...chain.outcomes].sort(byKey((o) => `${o.action_id}:${o.outcome_id}`));
  const times = [
    decision.event.ts_utc,
    ...intents.map((i) => i.event.ts_utc),
    ...outcomes.map((o) => o.event.ts_utc),
  ];
  return AuditRecord.parse({
    audit_id: auditId(chain.decision_id, chain.platform_run_id),
    record_type: 'dla.audit_record',
    schema_version: 'v1',
    decision_id: chain.decision_id,
    pins: chain.pins,
    run_config_digest: chain.run_config_digest,
    chain_status: 'RESOLVED',
    unresolved_reasons: [],
    decision,
    intents,
    outcomes,
    resolved_at_utc: times.reduce((a, b) => (b > a ? b : a)),
  });
}
