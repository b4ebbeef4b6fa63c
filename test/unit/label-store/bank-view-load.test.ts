import { describe, expect, it } from 'vitest';
import { BankViewTrafficRow, trafficEventId } from '../../../lib/label-store/bank-view.ts';
import { type BankViewLoadPorts, loadBankViewLabels } from '../../../lib/label-store/bank-view-load.ts';
import { writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { inMemoryLabelStore, LABEL_PINS } from './fakes.ts';

/**
 * P10's bank-view load (lib/label-store/bank-view-load.ts) on in-memory ports: only the traffic IG admitted for the
 * run is labelled, the labels reach the store through its writer in batches, and a reload replays.
 */

const PINS = { ...LABEL_PINS };
const RUN = PINS.platform_run_id;
const row = (flow: number, seq: number, minute: number) => ({
  flow_id: String(flow),
  event_seq: String(seq),
  ts_utc: `2026-12-07T10:${String(minute).padStart(2, '0')}:00.000000Z`,
  seed: '42',
  manifest_fingerprint: PINS.manifest_fingerprint,
  scenario_id: PINS.scenario_id,
});
const idOf = (r: ReturnType<typeof row>) => trafficEventId(BankViewTrafficRow.parse(r), PINS);

function ports(admitted: string[], pins = true) {
  const store = inMemoryLabelStore();
  const traffic = [row(1, 0, 0), row(1, 1, 1), row(2, 0, 2), row(3, 0, 3)];
  const p: BankViewLoadPorts = {
    engineRows: async () => ({
      traffic,
      eventLabels: [
        { flow_id: '1', event_seq: '0', is_fraud_bank_view: true },
        { flow_id: '1', event_seq: '1', is_fraud_bank_view: true },
        { flow_id: '2', event_seq: '0', is_fraud_bank_view: false },
        { flow_id: '3', event_seq: '0', is_fraud_bank_view: true },
      ],
      caseTimeline: [
        {
          case_id: '9',
          case_event_seq: '0',
          flow_id: '1',
          case_event_type: 'CHARGEBACK_INITIATED',
          ts_utc: '2026-12-08T00:00:00Z',
        },
      ],
    }),
    admittedTrafficEventIds: async () => new Set(admitted),
    runPins: async () => (pins ? PINS : undefined),
    write: (inputs) => writeLabelAssertions(store, inputs),
  };
  return { p, store, traffic };
}

describe('bank-view load (P10)', () => {
  it('labels only the admitted traffic: FRAUD_CONFIRMED per bank-fraud event, CHARGEBACK per event of the charged-back flow', async () => {
    const t = ports([]);
    const admitted = [
      idOf(t.traffic[0] as ReturnType<typeof row>),
      idOf(t.traffic[1] as ReturnType<typeof row>),
      idOf(t.traffic[2] as ReturnType<typeof row>),
    ];
    const { p } = ports(admitted);
    const result = await loadBankViewLabels({ platform_run_id: RUN, engine_run_root: 's3://oracle/run' }, p);
    // Flow 1: two fraud events, each also charged back (4); flow 2 is not fraud; flow 3 was not streamed.
    expect(result).toMatchObject({ traffic_in_scope: 3, assertions: 4, accepted: 4, rejected: {} });
    expect(result.outcomes).toEqual({ ASSERTION_COMMITTED_NEW: 4 });
  });

  it('a reload replays (same ids and hashes), nothing new', async () => {
    const t = ports([]);
    const { p } = ports(t.traffic.map((r) => idOf(r)));
    const first = await loadBankViewLabels({ platform_run_id: RUN, engine_run_root: 's3://oracle/run' }, p);
    const again = await loadBankViewLabels({ platform_run_id: RUN, engine_run_root: 's3://oracle/run' }, p);
    expect(first.accepted).toBe(again.accepted);
    expect(again.outcomes).toEqual({ ASSERTION_REPLAY_MATCH: first.assertions });
  });

  it('a run without a decision has nothing to label; a bad request is refused', async () => {
    const { p } = ports([], false);
    expect(await loadBankViewLabels({ platform_run_id: RUN, engine_run_root: 's3://o/r' }, p)).toMatchObject({
      assertions: 0,
      accepted: 0,
    });
    await expect(
      loadBankViewLabels({ platform_run_id: 'nope', engine_run_root: 's3://o/r' }, p),
    ).rejects.toThrow();
  });
});
