import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecidedFlowEvent,
  qualityReport,
  quantile,
  type TruthFlow,
} from '../../../lib/run-lifecycle/decision-quality.ts';

/**
 * The quality report (lib/run-lifecycle/decision-quality.ts): a flow is flagged when any of its decisions is not ALLOW; the
 * confusion matrix over the truth's flows; precision, recall on FRAUD and per label; latency from bus arrival to IG's
 * admission, by nearest rank.
 */

const decision = (
  flow: string | null,
  action: string,
  arrival = 1_000,
  admitted: number | null = arrival + 100,
): DecidedFlowEvent => ({
  flow_id: flow,
  action_kind: action,
  bus_arrival_ms: arrival,
  admitted_at_ms: admitted,
});
const flow = (id: string, label: 'LEGIT' | 'FRAUD' | 'ABUSE'): TruthFlow => ({
  flow_id: id,
  is_fraud_truth: label !== 'LEGIT',
  fraud_label: label,
});

describe('qualityReport', () => {
  const truth = [
    flow('f1', 'FRAUD'), // flagged by its second decision
    flow('f2', 'FRAUD'), // allowed: a false negative
    flow('f3', 'FRAUD'), // never decided (not streamed): left out of the matrix, counted as undecided
    flow('a1', 'ABUSE'), // flagged
    flow('l1', 'LEGIT'), // flagged: a false positive
    flow('l2', 'LEGIT'), // allowed twice
    flow('l3', 'LEGIT'), // allowed
  ];
  const decisions = [
    decision('f1', 'ALLOW', 0, 40),
    decision('f1', 'STEP_UP', 10, 30),
    decision('f2', 'ALLOW', 20, 70),
    decision('a1', 'DECLINE', 30, 130),
    decision('l1', 'QUEUE_REVIEW', 40, 60),
    decision('l2', 'ALLOW', 50, null),
    decision('l2', 'ALLOW', 60, 110),
    decision('l3', 'ALLOW', 70, 80),
    decision(null, 'STEP_UP', 80, 1_080),
    decision('x9', 'DECLINE', 90, 95), // a flow the truth does not know
  ];

  it('flags a flow when any of its decisions is not ALLOW; the confusion matrix is over the truth’s decided flows', () => {
    const report = qualityReport(decisions, truth);
    expect(report).toMatchObject({
      flows: 6,
      decisions: 10,
      flows_decided: 7,
      flows_undecided: 1,
      flows_flagged: 4,
      confusion: { true_positive: 2, false_positive: 1, false_negative: 1, true_negative: 2 },
    });
    expect(report.decisions_by_action).toEqual({ ALLOW: 5, DECLINE: 2, QUEUE_REVIEW: 1, STEP_UP: 2 });
    expect(Object.keys(report.decisions_by_action)).toEqual(['ALLOW', 'DECLINE', 'QUEUE_REVIEW', 'STEP_UP']);
  });

  it('precision = flagged positives / flagged; recall on FRAUD and per label = flagged / flows, to 4 places', () => {
    const report = qualityReport(decisions, truth);
    expect(report.precision).toBe(0.6667);
    expect(report.recall_fraud).toBe(0.5);
    expect(report.by_label).toEqual({
      FRAUD: { flows: 2, flagged: 1, recall: 0.5 },
      ABUSE: { flows: 1, flagged: 1, recall: 1 },
      LEGIT: { flows: 3, flagged: 1, recall: 0.3333 },
    });
  });

  it('latency: admitted − bus arrival over the decisions IG admitted, p50 and p99 by nearest rank, and the max', () => {
    // Latencies 40, 20, 50, 100, 20, 50, 10, 1000, 5 (one decision not admitted yet).
    expect(qualityReport(decisions, truth).latency_ms).toEqual({
      p50: 40,
      p99: 1_000,
      max: 1_000,
      measured: 9,
    });
  });

  it('nothing flagged: precision is null, not 0; no FRAUD label: recall_fraud is null; nothing admitted: no latency', () => {
    const report = qualityReport(
      [decision('l1', 'ALLOW', 0, null)],
      [flow('l1', 'LEGIT'), flow('a1', 'ABUSE')],
    );
    expect(report).toMatchObject({
      precision: null,
      recall_fraud: null,
      flows_undecided: 1,
      confusion: { true_positive: 0, false_positive: 0, false_negative: 0, true_negative: 1 },
      latency_ms: { p50: null, p99: null, max: null, measured: 0 },
    });
    expect(qualityReport([], [])).toMatchObject({
      flows: 0,
      decisions: 0,
      precision: null,
      recall_fraud: null,
    });
  });

  it('property: the matrix adds up to the truth’s decided flows, flagged flows to TP + FP (of known flows), recall within [0, 1]', () => {
    const labels = fc.constantFrom<'LEGIT' | 'FRAUD' | 'ABUSE'>('LEGIT', 'FRAUD', 'ABUSE');
    const ids = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(ids, labels), { selector: ([id]) => id }),
        fc.array(fc.tuple(ids, fc.constantFrom('ALLOW', 'STEP_UP', 'QUEUE_REVIEW', 'DECLINE'), fc.nat(1e6))),
        (truthRows, decided) => {
          const t = truthRows.map(([id, label]) => flow(id, label));
          const report = qualityReport(
            decided.map(([id, action, ms]) => decision(id, action, ms, ms + 1)),
            t,
          );
          const c = report.confusion;
          const decidedFlows = t.filter((f) => decided.some(([id]) => id === f.flow_id));
          expect(c.true_positive + c.false_positive + c.false_negative + c.true_negative).toBe(
            decidedFlows.length,
          );
          expect(report.flows_undecided).toBe(t.length - decidedFlows.length);
          const flaggedKnown = t.filter((f) => decided.some(([id, a]) => id === f.flow_id && a !== 'ALLOW'));
          expect(c.true_positive + c.false_positive).toBe(flaggedKnown.length);
          for (const label of Object.values(report.by_label)) {
            expect(label.recall).toBeGreaterThanOrEqual(0);
            expect(label.recall).toBeLessThanOrEqual(1);
          }
          expect(report.latency_ms.measured).toBe(decided.length);
        },
      ),
      { numRuns: 200, seed: 20261207 },
    );
  });
});

describe('quantile (nearest rank)', () => {
  it('the ⌈q·n⌉-th smallest; none of an empty list', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([0, 0.1, 0.5, 0.51, 0.99, 1].map((q) => quantile(ten, q))).toEqual([1, 1, 5, 6, 10, 10]);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNull();
  });

  it('property: a value of the list, rising with q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (xs, q) => {
          const sorted = [...xs].sort((a, b) => a - b);
          const value = quantile(sorted, q);
          expect(sorted).toContain(value);
          expect(value).toBeLessThanOrEqual(quantile(sorted, Math.min(1, q + 0.1)) as number);
        },
      ),
      { numRuns: 200, seed: 20261207 },
    );
  });
});
