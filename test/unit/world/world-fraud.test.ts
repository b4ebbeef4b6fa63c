import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Duck, makeWorld, openDuck, parquetOf, type TestWorld } from './world-fixture.ts';

describe('world fraud overlay and truth', () => {
  let world: TestWorld;
  let duck: Duck;
  const src = (id: string) => parquetOf(world, id);

  beforeAll(async () => {
    world = await makeWorld({ seed: 41n, events: 6_000 });
    duck = await openDuck();
  }, 60_000);
  afterAll(async () => {
    duck?.close();
    await world?.dispose();
  });

  /** Per campaign: label, flows, accounts, devices, span, amounts, and how many devices/IPs the baseline never used. */
  async function campaigns() {
    return duck.rows(
      `WITH f AS (SELECT a.*, t.fraud_label FROM ${src('s3_flow_anchor_with_fraud_6B')} a JOIN ${src('s4_flow_truth_labels_6B')} t USING (flow_id) WHERE a.fraud_flag), ` +
        `base AS (SELECT device_id, ip_id FROM ${src('s2_flow_anchor_baseline_6B')}) ` +
        'SELECT campaign_id, any_value(fraud_label) AS label, count(*) AS flows, count(DISTINCT account_id) AS accounts, ' +
        'count(DISTINCT merchant_id) AS merchants, ' +
        'count(DISTINCT device_id) FILTER (WHERE device_id NOT IN (SELECT device_id FROM base)) AS new_devices, ' +
        'count(DISTINCT ip_id) FILTER (WHERE ip_id NOT IN (SELECT ip_id FROM base)) AS new_ips, ' +
        'max(amount) AS max_amount, epoch(max(CAST(ts_utc AS TIMESTAMP)) - min(CAST(ts_utc AS TIMESTAMP))) AS span_s ' +
        'FROM f GROUP BY campaign_id ORDER BY campaign_id',
    );
  }

  it('marks whole campaigns with fraud_flag and a 64-hex campaign_id, in anchors and stream alike', async () => {
    const bad = await duck.scalar(
      `SELECT count(*) FROM ${src('s3_event_stream_with_fraud_6B')} s JOIN ${src('s3_flow_anchor_with_fraud_6B')} a USING (flow_id) ` +
        'WHERE s.fraud_flag <> a.fraud_flag OR s.campaign_id IS DISTINCT FROM a.campaign_id ' +
        "OR (s.fraud_flag AND NOT regexp_full_match(s.campaign_id, '[0-9a-f]{64}')) OR (NOT s.fraud_flag AND s.campaign_id IS NOT NULL)",
    );
    expect(Number(bad)).toBe(0);
    const rows = await campaigns();
    expect(rows.length).toBe(world.summary.campaigns);
    expect(rows.length).toBeGreaterThanOrEqual(3);
  });

  it('makes FRAUD campaigns bursts on one account from devices and IPs the baseline never used', async () => {
    const fraud = (await campaigns()).filter((c) => c.label === 'FRAUD');
    expect(fraud.length).toBeGreaterThanOrEqual(2);
    for (const c of fraud) {
      expect(Number(c.flows)).toBeGreaterThanOrEqual(4);
      expect(Number(c.accounts)).toBe(1);
      expect(Number(c.new_devices)).toBe(1);
      expect(Number(c.new_ips)).toBeGreaterThanOrEqual(1);
      expect(Number(c.span_s)).toBeLessThan(3_600);
      expect(Number(c.max_amount)).toBeGreaterThanOrEqual(250);
    }
  });

  it('makes ABUSE campaigns purchase-and-refund loops at one merchant', async () => {
    const abuse = (await campaigns()).filter((c) => c.label === 'ABUSE');
    expect(abuse.length).toBeGreaterThanOrEqual(1);
    for (const c of abuse) expect(Number(c.merchants)).toBe(1);
    const withoutRefund = await duck.scalar(
      `SELECT count(*) FROM ${src('s3_flow_anchor_with_fraud_6B')} a JOIN ${src('s4_flow_truth_labels_6B')} t USING (flow_id) ` +
        `WHERE t.fraud_label = 'ABUSE' AND flow_id NOT IN (SELECT flow_id FROM ${src('s3_event_stream_with_fraud_6B')} WHERE event_type = 'REFUND')`,
    );
    expect(Number(withoutRefund)).toBe(0);
  });

  it('hits fraud-prone merchants: campaigns concentrate on few merchants', async () => {
    const share = await duck.scalar(
      `SELECT count(DISTINCT merchant_id) FILTER (WHERE fraud_flag) / count(DISTINCT merchant_id) FROM ${src('s3_flow_anchor_with_fraud_6B')}`,
    );
    expect(Number(share)).toBeLessThan(0.3);
  });

  it('leaves the baseline all-legit: campaign flows look ordinary there', async () => {
    const changed = await duck.scalar(
      `SELECT count(*) FROM ${src('s3_flow_anchor_with_fraud_6B')} f JOIN ${src('s2_flow_anchor_baseline_6B')} b USING (flow_id) ` +
        'WHERE f.fraud_flag AND f.account_id <> b.account_id',
    );
    expect(Number(changed)).toBeGreaterThan(0);
    const legitChanged = await duck.scalar(
      `SELECT count(*) FROM ${src('s3_flow_anchor_with_fraud_6B')} f JOIN ${src('s2_flow_anchor_baseline_6B')} b USING (flow_id) ` +
        'WHERE NOT f.fraud_flag AND (f.account_id <> b.account_id OR f.device_id <> b.device_id OR f.amount <> b.amount)',
    );
    expect(Number(legitChanged)).toBe(0);
  });

  it('records the truth: flow labels FRAUD/ABUSE/LEGIT agree with fraud_flag, event labels with their flow', async () => {
    const labels = await duck.rows(
      `SELECT fraud_label, is_fraud_truth, count(*) AS n FROM ${src('s4_flow_truth_labels_6B')} GROUP BY ALL ORDER BY ALL`,
    );
    expect(labels.map((l) => `${l.fraud_label}:${l.is_fraud_truth}`)).toEqual([
      'ABUSE:true',
      'FRAUD:true',
      'LEGIT:false',
    ]);
    const disagree = await duck.scalar(
      `SELECT count(*) FROM ${src('s4_event_labels_6B')} e JOIN ${src('s4_flow_truth_labels_6B')} t USING (flow_id) ` +
        `JOIN ${src('s3_event_stream_with_fraud_6B')} s USING (flow_id, event_seq) ` +
        'WHERE e.is_fraud_truth <> t.is_fraud_truth OR e.is_fraud_truth <> s.fraud_flag',
    );
    expect(Number(disagree)).toBe(0);
  });

  it('opens a case for every campaign over the flows the bank detected', async () => {
    const detected = await duck.rows(
      `SELECT DISTINCT flow_id FROM ${src('s4_event_labels_6B')} WHERE is_fraud_bank_view`,
    );
    const attached = await duck.rows(
      `SELECT DISTINCT flow_id FROM ${src('s4_case_timeline_6B')} WHERE case_event_type = 'DETECTION_EVENT_ATTACHED'`,
    );
    expect(attached.map((r) => r.flow_id).sort()).toEqual(detected.map((r) => r.flow_id).sort());
    const casesPerCampaign = await duck.rows(
      `SELECT a.campaign_id, count(DISTINCT c.case_id) AS cases FROM ${src('s4_case_timeline_6B')} c ` +
        `JOIN ${src('s3_flow_anchor_with_fraud_6B')} a USING (flow_id) WHERE a.fraud_flag GROUP BY ALL`,
    );
    expect(casesPerCampaign).toHaveLength(world.summary.campaigns);
    for (const row of casesPerCampaign) expect(Number(row.cases)).toBe(1);
    const chargebacksOnLegit = await duck.scalar(
      `SELECT count(*) FROM ${src('s4_case_timeline_6B')} c JOIN ${src('s4_flow_truth_labels_6B')} t USING (flow_id) ` +
        `WHERE c.case_event_type LIKE 'CHARGEBACK%' AND t.fraud_label <> 'FRAUD'`,
    );
    expect(Number(chargebacksOnLegit)).toBe(0);
  });
});
