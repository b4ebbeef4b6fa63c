import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engineEnvelope } from '../../../lib/contracts/envelope.ts';
import { LabelAssertionInput } from '../../../lib/contracts/label-store.ts';
import {
  BANK_VIEW_ACTOR_ID,
  BankViewRowInvalid,
  bankViewAssertions,
  bankViewEngineRowId,
  CASE_TIMELINE_OUTPUT_ID,
  EVENT_LABELS_OUTPUT_ID,
  TRAFFIC_OUTPUT_ID,
  TRAFFIC_PRIMARY_KEY,
} from '../../../lib/label-store/bank-view.ts';
import { labelAsOf } from '../../../lib/label-store/reads.ts';
import { writeLabelAssertions } from '../../../lib/label-store/writer.ts';
import { WORLD_CATALOGUE } from '../../../lib/world/layout.ts';
import { CASE_EVENT_TYPES } from '../../../lib/world/truth.ts';
import { inMemoryLabelStore, LABEL_PINS } from './fakes.ts';

/**
 * The world's bank view as EXTERNAL label assertions: FRAUD_CONFIRMED for each event the bank marks fraud,
 * CHARGEBACK for each event of a flow whose case shows a chargeback, observed when the bank learnt it (never before
 * the event), the subject event_id the World Streamer's — and never anything from the truth columns.
 */

const PINS = { ...LABEL_PINS };
const WORLD = { seed: 42n, manifest_fingerprint: PINS.manifest_fingerprint, scenario_id: PINS.scenario_id };
const DAY1 = '2026-12-07';
const DAY2 = '2026-12-08';
const t = (day: string, hms: string) => `${day}T${hms}.000000Z`;

const trafficRow = (
  flow: bigint,
  seq: bigint,
  ts: string,
  truth = { fraud_flag: false, campaign_id: null as string | null },
) => ({
  flow_id: flow,
  event_seq: seq,
  event_type: 'AUTH_REQUEST',
  ts_utc: ts,
  amount: 19.99,
  ...WORLD,
  parameter_hash: PINS.parameter_hash,
  ...truth,
});
const labelRow = (flow: bigint, seq: bigint, bank: boolean, truth: boolean) => ({
  flow_id: flow,
  event_seq: seq,
  is_fraud_truth: truth,
  is_fraud_bank_view: bank,
  ...WORLD,
  parameter_hash: PINS.parameter_hash,
});
const caseRow = (caseId: bigint, seq: bigint, flow: bigint, type: string, ts: string) => ({
  case_id: caseId,
  case_event_seq: seq,
  flow_id: flow,
  case_event_type: type,
  ts_utc: ts,
  ...WORLD,
  parameter_hash: PINS.parameter_hash,
});

const campaign = { fraud_flag: true, campaign_id: 'camp-1' };
/** Flow 101: detected fraud, charged back; 202: legit; 303: a false positive with no case rows; 404: undetected fraud. */
const WORLD_ROWS = {
  traffic: [
    trafficRow(101n, 0n, t(DAY1, '10:00:00'), campaign),
    trafficRow(101n, 1n, t(DAY1, '10:00:01'), campaign),
    trafficRow(202n, 0n, t(DAY1, '10:05:00')),
    trafficRow(303n, 0n, t(DAY1, '10:06:00')),
    trafficRow(404n, 0n, t(DAY1, '10:07:00'), campaign),
    // The clearing comes after the case opened.
    trafficRow(101n, 2n, t(DAY2, '02:00:00'), campaign),
  ],
  eventLabels: [
    labelRow(101n, 0n, true, true),
    labelRow(101n, 1n, true, true),
    labelRow(101n, 2n, true, true),
    labelRow(202n, 0n, false, false),
    labelRow(303n, 0n, true, false),
    labelRow(404n, 0n, false, true),
    // An event not in scope (not streamed) gets no label.
    labelRow(505n, 0n, true, true),
  ],
  caseTimeline: [
    caseRow(9001n, 5n, 101n, 'CASE_CLOSED', t('2026-12-10', '12:00:00')),
    caseRow(9001n, 3n, 101n, 'CHARGEBACK_INITIATED', t(DAY2, '05:00:00')),
    caseRow(9001n, 4n, 101n, 'CHARGEBACK_DECISION', t('2026-12-10', '05:00:00')),
    caseRow(9001n, 0n, 101n, 'CASE_OPENED', t(DAY1, '10:20:00')),
    caseRow(9001n, 1n, 101n, 'DETECTION_EVENT_ATTACHED', t(DAY1, '10:20:03')),
    caseRow(9001n, 2n, 101n, 'CUSTOMER_DISPUTE_FILED', t(DAY1, '13:00:00')),
  ],
};

const caseRef = (caseId: bigint, seq: bigint) => ({
  ref_type: 'EXTERNAL_REF',
  ref_id: `${CASE_TIMELINE_OUTPUT_ID}/${caseId}/${seq}`,
});
const caseRowId = (caseId: bigint, seq: bigint) =>
  bankViewEngineRowId(CASE_TIMELINE_OUTPUT_ID, { case_id: caseId, case_event_seq: seq }, PINS);

/** The World Streamer's envelope event_id of a traffic row. */
const streamedEventId = (row: Record<string, unknown>) =>
  engineEnvelope({
    outputId: TRAFFIC_OUTPUT_ID,
    primaryKey: WORLD_CATALOGUE[TRAFFIC_OUTPUT_ID].primary_key,
    row,
    pins: { ...WORLD, seed: PINS.seed, parameter_hash: PINS.parameter_hash },
    runId: 'd'.repeat(32),
    platformRunId: PINS.platform_run_id,
    scenarioRunId: PINS.scenario_run_id,
    packKey: 'e'.repeat(64),
  }).event_id;

describe('bankViewAssertions', () => {
  const assertions = bankViewAssertions(WORLD_ROWS, PINS);
  const about = (row: Record<string, unknown>) =>
    assertions.filter((a) => a.label_subject_key.event_id === streamedEventId(row));

  it('reads the traffic key the catalogue names', () => {
    expect([...TRAFFIC_PRIMARY_KEY]).toEqual([...WORLD_CATALOGUE[TRAFFIC_OUTPUT_ID].primary_key]);
  });

  it('labels the bank-fraud events and the charged-back flow only, each a valid assertion', () => {
    expect(assertions.map((a) => `${a.label_type}:${a.label_value}`)).toEqual([
      'fraud_disposition:FRAUD_CONFIRMED',
      'chargeback_status:CHARGEBACK',
      'fraud_disposition:FRAUD_CONFIRMED',
      'chargeback_status:CHARGEBACK',
      'fraud_disposition:FRAUD_CONFIRMED',
      'fraud_disposition:FRAUD_CONFIRMED',
      'chargeback_status:CHARGEBACK',
    ]);
    for (const a of assertions) expect(LabelAssertionInput.parse(a)).toEqual(a);
    const [, , legit, , undetected] = WORLD_ROWS.traffic as Record<string, unknown>[];
    expect(about(legit as Record<string, unknown>)).toEqual([]);
    expect(about(undetected as Record<string, unknown>)).toEqual([]);
  });

  it('a bank-fraud event observed when its case opened, a chargeback when it was initiated', () => {
    const [first] = WORLD_ROWS.traffic as Record<string, unknown>[];
    const eventId = streamedEventId(first as Record<string, unknown>);
    const common = {
      label_subject_key: { platform_run_id: PINS.platform_run_id, event_id: eventId },
      pins: PINS,
      effective_time: t(DAY1, '10:00:00'),
      source_type: 'EXTERNAL',
      actor_id: BANK_VIEW_ACTOR_ID,
    };
    expect(about(first as Record<string, unknown>)).toEqual([
      {
        ...common,
        case_timeline_event_id: caseRowId(9001n, 0n),
        label_type: 'fraud_disposition',
        label_value: 'FRAUD_CONFIRMED',
        observed_time: t(DAY1, '10:20:00'),
        evidence_refs: [
          { ref_type: 'EXTERNAL_REF', ref_id: `${EVENT_LABELS_OUTPUT_ID}/101/0` },
          caseRef(9001n, 0n),
        ],
      },
      {
        ...common,
        case_timeline_event_id: caseRowId(9001n, 3n),
        label_type: 'chargeback_status',
        label_value: 'CHARGEBACK',
        observed_time: t(DAY2, '05:00:00'),
        evidence_refs: [caseRef(9001n, 3n)],
      },
    ]);
  });

  it('never observed before the event; without a case row, observed at the event, named by its label row', () => {
    const clearing = about(WORLD_ROWS.traffic[5] as Record<string, unknown>);
    expect(clearing.map((a) => [a.label_type, a.effective_time, a.observed_time])).toEqual([
      ['fraud_disposition', t(DAY2, '02:00:00'), t(DAY2, '02:00:00')],
      ['chargeback_status', t(DAY2, '02:00:00'), t(DAY2, '05:00:00')],
    ]);
    const [falsePositive] = about(WORLD_ROWS.traffic[3] as Record<string, unknown>);
    expect(falsePositive).toMatchObject({
      observed_time: t(DAY1, '10:06:00'),
      effective_time: t(DAY1, '10:06:00'),
      case_timeline_event_id: bankViewEngineRowId(
        EVENT_LABELS_OUTPUT_ID,
        { flow_id: 303n, event_seq: 0n },
        PINS,
      ),
      evidence_refs: [{ ref_type: 'EXTERNAL_REF', ref_id: `${EVENT_LABELS_OUTPUT_ID}/303/0` }],
    });
    for (const a of assertions) expect(a.observed_time >= a.effective_time).toBe(true);
  });

  it('normalises engine times and integers as DuckDB may hand them over; a repeated traffic row is labelled once', () => {
    const rows = {
      traffic: [
        { ...trafficRow(303n, 0n, '2026-12-07T10:06:00Z'), flow_id: 303, event_seq: '0', seed: 42 },
        trafficRow(303n, 0n, t(DAY1, '10:06:00')),
      ],
      eventLabels: [{ ...labelRow(303n, 0n, true, false), flow_id: '303', event_seq: 0 }],
      caseTimeline: [],
    };
    expect(bankViewAssertions(rows, PINS)).toEqual(
      bankViewAssertions({ ...WORLD_ROWS, traffic: [WORLD_ROWS.traffic[3]] }, PINS).filter(
        (a) => a.label_type === 'fraud_disposition',
      ),
    );
  });

  it('a row without the columns it needs, or of another world, is BANK_VIEW_ROW_INVALID', () => {
    const { ts_utc: _ts, ...noTime } = trafficRow(1n, 0n, t(DAY1, '10:00:00'));
    expect(() => bankViewAssertions({ ...WORLD_ROWS, traffic: [noTime] }, PINS)).toThrow(BankViewRowInvalid);
    expect(() =>
      bankViewAssertions(
        { ...WORLD_ROWS, traffic: [{ ...trafficRow(1n, 0n, t(DAY1, '10:00:00')), seed: 43n }] },
        PINS,
      ),
    ).toThrow(/another world/);
    expect(() =>
      bankViewAssertions(
        { ...WORLD_ROWS, caseTimeline: [{ ...caseRow(1n, 0n, 1n, 'CASE_OPENED', 'soon') }] },
        PINS,
      ),
    ).toThrow(/s4_case_timeline_6B row 0/);
  });

  it('loaded through the writer: committed, a reload replays, and an as-of read before the bank knew is NOT_FOUND', async () => {
    const store = inMemoryLabelStore();
    const first = await writeLabelAssertions(store, assertions);
    expect(first.every((r) => r.status === 'ACCEPTED' && r.reason_code === 'ASSERTION_COMMITTED_NEW')).toBe(
      true,
    );
    const reload = await writeLabelAssertions(store, bankViewAssertions(WORLD_ROWS, PINS));
    expect(reload.every((r) => r.reason_code === 'ASSERTION_REPLAY_MATCH')).toBe(true);
    const subject = assertions[0]?.label_subject_key;
    if (subject === undefined) throw new Error('no assertion');
    expect((await labelAsOf(store, subject, 'fraud_disposition', t(DAY1, '10:19:59'))).status).toBe(
      'NOT_FOUND',
    );
    expect(await labelAsOf(store, subject, 'fraud_disposition', t(DAY1, '10:20:00'))).toMatchObject({
      status: 'RESOLVED',
      label_value: 'FRAUD_CONFIRMED',
    });
  });
});

describe('bankViewAssertions over any world', () => {
  const BASE_MS = Date.parse('2026-12-07T00:00:00Z');
  const iso = (minutes: number) => new Date(BASE_MS + minutes * 60_000).toISOString();
  const truth = fc.record({
    is_fraud_truth: fc.boolean(),
    fraud_flag: fc.boolean(),
    campaign_id: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  });
  const flow = fc.record({
    id: fc.bigInt({ min: 1n, max: 2n ** 62n }),
    events: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 4 }),
    bank: fc.boolean(),
    cases: fc.array(
      fc.record({ type: fc.constantFrom(...CASE_EVENT_TYPES), at: fc.integer({ min: 0, max: 9000 }) }),
      { maxLength: 4 },
    ),
  });
  const world = fc.uniqueArray(flow, { minLength: 1, maxLength: 6, selector: (f) => f.id });
  type WorldFlow = { id: bigint; events: number[]; bank: boolean; cases: { type: string; at: number }[] };

  /** The world's rows, each given the truth columns `truthOf(i)` (or none). */
  function rowsOf(flows: readonly WorldFlow[], truthOf: (i: number) => object) {
    let n = 0;
    const withTruth = <T extends object>(row: T) => ({ ...row, ...truthOf(n++) });
    return {
      traffic: flows.flatMap((f) =>
        f.events.map((m, seq) => withTruth(trafficRow(f.id, BigInt(seq), iso(m)))),
      ),
      eventLabels: flows.flatMap((f) =>
        f.events.map((_m, seq) => withTruth(labelRow(f.id, BigInt(seq), f.bank, false))),
      ),
      caseTimeline: flows.flatMap((f, k) =>
        f.cases.map((c, seq) => withTruth(caseRow(BigInt(k), BigInt(seq), f.id, c.type, iso(c.at)))),
      ),
    };
  }
  const strip = (row: Record<string, unknown>) => {
    const { is_fraud_truth: _t, fraud_flag: _f, campaign_id: _c, ...rest } = row;
    return rest;
  };

  it('the truth columns never change the labels', () => {
    fc.assert(
      fc.property(world, fc.array(truth, { minLength: 64, maxLength: 64 }), (flows, truths) => {
        const bare = rowsOf(flows, () => ({}));
        const cleaned = {
          traffic: bare.traffic.map(strip),
          eventLabels: bare.eventLabels.map(strip),
          caseTimeline: bare.caseTimeline.map(strip),
        };
        const withTruth = rowsOf(flows, (i) => truths[i % truths.length] ?? {});
        expect(bankViewAssertions(withTruth, PINS)).toEqual(bankViewAssertions(cleaned, PINS));
      }),
    );
  });

  it('valid, distinct, never observed before the event, and independent of the order of label and case rows', () => {
    fc.assert(
      fc.property(world, (flows) => {
        const rows = rowsOf(flows, () => ({}));
        const out = bankViewAssertions(rows, PINS);
        const reordered = bankViewAssertions(
          {
            ...rows,
            eventLabels: [...rows.eventLabels].reverse(),
            caseTimeline: [...rows.caseTimeline].reverse(),
          },
          PINS,
        );
        expect(reordered).toEqual(out);
        const keys = out.map((a) => `${a.label_subject_key.event_id}|${a.label_type}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const a of out) {
          expect(LabelAssertionInput.safeParse(a).success).toBe(true);
          expect(a.observed_time >= a.effective_time).toBe(true);
        }
        const events = rows.traffic.length;
        const fraud = out.filter((a) => a.label_type === 'fraud_disposition').length;
        expect(fraud).toBe(flows.filter((f) => f.bank).reduce((n, f) => n + f.events.length, 0));
        expect(fraud).toBeLessThanOrEqual(events);
      }),
    );
  });
});
