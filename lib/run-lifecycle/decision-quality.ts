/**
 * How well the fabric's decisions catch fraud, measured against the world's truth (issue 14 "Quality report"): a flow
 * is flagged when any of its decisions is not ALLOW; the confusion matrix is over flows, positive = the truth's
 * `is_fraud_truth` (FRAUD and ABUSE campaigns); precision = flagged positives / flagged; recall on FRAUD flows =
 * flagged FRAUD flows / FRAUD flows, and the same per label. Latency is bus arrival → decision admitted by IG.
 * Truth only measures here: nothing in this file feeds a decision.
 */

export interface DecidedFlowEvent {
  flow_id: string | null;
  action_kind: string;
  bus_arrival_ms: number;
  admitted_at_ms: number | null;
}

export interface TruthFlow {
  flow_id: string;
  is_fraud_truth: boolean;
  /** LEGIT, FRAUD or ABUSE. */
  fraud_label: string;
}

export interface QualityReport {
  flows: number;
  decisions: number;
  decisions_by_action: Record<string, number>;
  flows_decided: number;
  /** Flows of the truth without any decision (not streamed): left out of the matrix. */
  flows_undecided: number;
  flows_flagged: number;
  confusion: { true_positive: number; false_positive: number; false_negative: number; true_negative: number };
  precision: number | null;
  recall_fraud: number | null;
  by_label: Record<string, { flows: number; flagged: number; recall: number | null }>;
  latency_ms: { p50: number | null; p99: number | null; max: number | null; measured: number };
}

const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);

/** The value at quantile q of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? null;
}

export function qualityReport(
  decisions: readonly DecidedFlowEvent[],
  truth: readonly TruthFlow[],
): QualityReport {
  const flagged = new Set<string>();
  const decided = new Set<string>();
  const byAction: Record<string, number> = {};
  const latencies: number[] = [];
  for (const d of decisions) {
    byAction[d.action_kind] = (byAction[d.action_kind] ?? 0) + 1;
    if (d.admitted_at_ms !== null) latencies.push(d.admitted_at_ms - d.bus_arrival_ms);
    if (d.flow_id === null) continue;
    decided.add(d.flow_id);
    if (d.action_kind !== 'ALLOW') flagged.add(d.flow_id);
  }
  const confusion = { true_positive: 0, false_positive: 0, false_negative: 0, true_negative: 0 };
  const byLabel: Record<string, { flows: number; flagged: number; recall: number | null }> = {};
  let undecided = 0;
  for (const flow of truth) {
    if (!decided.has(flow.flow_id)) {
      undecided += 1;
      continue;
    }
    const isFlagged = flagged.has(flow.flow_id);
    if (flow.is_fraud_truth) confusion[isFlagged ? 'true_positive' : 'false_negative'] += 1;
    else confusion[isFlagged ? 'false_positive' : 'true_negative'] += 1;
    const label = byLabel[flow.fraud_label] ?? { flows: 0, flagged: 0, recall: null };
    byLabel[flow.fraud_label] = label;
    label.flows += 1;
    if (isFlagged) label.flagged += 1;
  }
  for (const label of Object.values(byLabel)) label.recall = ratio(label.flagged, label.flows);
  latencies.sort((a, b) => a - b);
  const flaggedInTruth = confusion.true_positive + confusion.false_positive;
  return {
    flows: truth.length - undecided,
    decisions: decisions.length,
    decisions_by_action: Object.fromEntries(Object.entries(byAction).sort(([a], [b]) => (a < b ? -1 : 1))),
    flows_decided: decided.size,
    flows_undecided: undecided,
    flows_flagged: flagged.size,
    confusion,
    precision: ratio(confusion.true_positive, flaggedInTruth),
    recall_fraud: byLabel.FRAUD ? byLabel.FRAUD.recall : null,
    by_label: byLabel,
    latency_ms: {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies.length === 0 ? null : (latencies[latencies.length - 1] ?? null),
      measured: latencies.length,
    },
  };
}
