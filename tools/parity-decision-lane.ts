import { z } from 'zod';

/**
 * The P9 part of `npm run parity`'s summary: the decision chain's counts and the quality report (the run-lifecycle
 * execution's output `decision_chain` and `decision_quality`), parsed and printed as a few lines.
 */

export const DecisionChainSummary = z.object({
  traffic_admitted: z.number(),
  decisions: z.number(),
  decisions_admitted: z.number(),
  intents_admitted: z.number(),
  outcomes_admitted: z.number().nullable(),
  lineage_unresolved: z.number().nullable(),
  decision_log_health: z.string().nullable(),
});

export const DecisionQualitySummary = z.object({
  flows: z.number(),
  flows_flagged: z.number(),
  confusion: z.object({
    true_positive: z.number(),
    false_positive: z.number(),
    false_negative: z.number(),
    true_negative: z.number(),
  }),
  precision: z.number().nullable(),
  recall_fraud: z.number().nullable(),
  decisions_by_action: z.record(z.string(), z.number()),
  by_label: z.record(
    z.string(),
    z.object({ flows: z.number(), flagged: z.number(), recall: z.number().nullable() }),
  ),
  latency_ms: z.object({ p50: z.number().nullable(), p99: z.number().nullable() }),
  report_ref: z.string(),
});

export function decisionLaneLines(
  chain: z.infer<typeof DecisionChainSummary>,
  q: z.infer<typeof DecisionQualitySummary>,
): string[] {
  const m = q.confusion;
  return [
    `  decision chain: ${chain.decisions} decisions for ${chain.traffic_admitted} admitted traffic events; admitted: ${chain.decisions_admitted} decisions, ${chain.intents_admitted} intents, ${chain.outcomes_admitted ?? '-'} outcomes; lineage unresolved ${chain.lineage_unresolved ?? '-'}; decision log ${chain.decision_log_health ?? '-'}`,
    `  decision quality (flows; positive = is_fraud_truth): flagged ${q.flows_flagged} of ${q.flows}; TP ${m.true_positive}  FP ${m.false_positive}  FN ${m.false_negative}  TN ${m.true_negative}; precision ${q.precision ?? '-'}, FRAUD recall ${q.recall_fraud ?? '-'}`,
    `    by label: ${Object.entries(q.by_label)
      .map(([label, l]) => `${label} ${l.flagged}/${l.flows}`)
      .join(
        ', ',
      )}; actions ${JSON.stringify(q.decisions_by_action)}; latency p50 ${q.latency_ms.p50} ms, p99 ${q.latency_ms.p99} ms`,
    `    report: ${q.report_ref}`,
  ];
}
