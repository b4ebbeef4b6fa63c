import { BoundedWaitRequest, checkBoundedGate } from './bounded-wait.ts';
import type { PhaseEvidenceStore } from './phase-evidence.ts';

/**
 * P9 DECISION_CHAIN_COMMITTED (issue 14): every traffic event IG admitted for the run has exactly one decision, the
 * decisions and their intents are admitted on the rtdl topic, each intent has its outcome, and the decision log holds
 * every chain resolved. Called in a loop with a Wait between (the lane drains behind the projectors); when the chain is
 * whole, or the bounded wait (DECISION_CHAIN_TIMEOUT_SECONDS from the first check) ends, it writes
 * `<run>/lifecycle/P9_DECISION_CHAIN_COMMITTED.json` and answers `done`; `committed` says whether the gate passes and
 * `summary` names what is missing by reason code.
 */

export interface DecisionChainCounts {
  /** Traffic events IG admitted for the run. */
  traffic_admitted: number;
  /** Distinct traffic events the decision fabric decided and published. */
  decided_events: number;
  /** Decisions of the run (one per decided event, unless an event was decided twice). */
  decisions: number;
  decisions_admitted: number;
  intents_admitted: number;
  /** Action outcomes IG admitted (null: the action layer does not run here). */
  outcomes_admitted: number | null;
  /** The decision log's unresolved chains (null: the decision log does not run here). */
  lineage_unresolved: number | null;
  /** The decision log's health (null: not reported). */
  decision_log_health: string | null;
  /** The decision fabric's counters for the run. */
  fabric_metrics: Record<string, number>;
}

export interface DecisionChainPorts {
  counts(platformRunId: string): Promise<DecisionChainCounts>;
  evidence: PhaseEvidenceStore;
  now(): Date;
}

export const DecisionChainRequest = BoundedWaitRequest;

/** What is missing, by reason code (empty: the chain is whole). */
export function missingLinks(c: DecisionChainCounts): string[] {
  const missing: string[] = [];
  if (c.traffic_admitted === 0) missing.push('NO_TRAFFIC_ADMITTED');
  if (c.decided_events < c.traffic_admitted)
    missing.push(`DECISIONS_MISSING:${c.traffic_admitted - c.decided_events}`);
  if (c.decisions > c.decided_events) missing.push(`DECISIONS_DUPLICATED:${c.decisions - c.decided_events}`);
  if (c.decisions_admitted < c.decisions)
    missing.push(`DECISIONS_NOT_ADMITTED:${c.decisions - c.decisions_admitted}`);
  if (c.intents_admitted < c.decisions)
    missing.push(`INTENTS_NOT_ADMITTED:${c.decisions - c.intents_admitted}`);
  if (c.outcomes_admitted !== null && c.outcomes_admitted < c.intents_admitted)
    missing.push(`OUTCOMES_MISSING:${c.intents_admitted - c.outcomes_admitted}`);
  if (c.lineage_unresolved !== null && c.lineage_unresolved > 0)
    missing.push(`LINEAGE_UNRESOLVED:${c.lineage_unresolved}`);
  if (c.decision_log_health !== null && c.decision_log_health !== 'GREEN')
    missing.push(`DECISION_LOG_HEALTH:${c.decision_log_health}`);
  return missing;
}

export function checkDecisionChain(request: unknown, ports: DecisionChainPorts, timeoutSeconds: number) {
  return checkBoundedGate(
    request,
    {
      phase: 'P9',
      gate: 'DECISION_CHAIN_COMMITTED',
      evidenceName: 'P9_DECISION_CHAIN_COMMITTED',
      counts: ports.counts,
      missing: missingLinks,
      passed: (c, waited) =>
        `${c.decisions} decisions for ${c.traffic_admitted} admitted traffic events, every chain committed (waited ${waited} s)`,
    },
    ports,
    timeoutSeconds,
  );
}
