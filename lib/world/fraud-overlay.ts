import type { ArrivalTable } from './arrivals.ts';
import type { CampaignArrival, CampaignPlan } from './campaigns.ts';
import { type EventColumns, STREAM_FRAUD_ONLY } from './event-columns.ts';
import { authLatency, type FlowTable } from './flows.ts';
import { MICROS_PER_SECOND } from './identity.ts';
import type { RandomStream } from './random.ts';

const SECOND = MICROS_PER_SECOND;
const MINUTE = 60 * SECOND;

/**
 * 6B S3: rewrites each campaign arrival's flow in the with-fraud view — the campaign's victim account and
 * instrument, the attacker's device and IP, the campaign amount and a campaign-shaped lifecycle — and
 * decides which campaign flows the bank detects. Baseline events of those flows stay baseline-only.
 */
export function applyFraudOverlay(
  flows: FlowTable,
  arrivals: ArrivalTable,
  plan: CampaignPlan,
  events: EventColumns,
  random: RandomStream,
): void {
  const lastDetected = new Int32Array(plan.campaigns.length).fill(-1);
  const lastFlow = new Int32Array(plan.campaigns.length).fill(-1);
  for (let f = 0; f < flows.count; f++) {
    const a = arrivals.campaignArrival[f] ?? -1;
    const arrival = plan.arrivals[a];
    if (arrival === undefined) continue;
    const campaign = plan.campaigns[arrival.campaign];
    if (campaign === undefined) continue;
    flows.campaign[f] = campaign.index;
    flows.party[f] = campaign.party;
    flows.account[f] = campaign.account;
    flows.instrument[f] = campaign.instrument;
    flows.device[f] = arrival.device;
    flows.ip[f] = arrival.ip;
    flows.fraudAmount[f] = arrival.amount;
    pushCampaignEvents(events, f, arrivals.ts[f] ?? arrival.ts, arrival, random);
    lastFlow[campaign.index] = f;
    if (random.chance(campaign.detectionRate)) {
      flows.bankView[f] = 1;
      lastDetected[campaign.index] = f;
    }
  }
  // Every campaign leaves a trace in the bank's view (and so a case): its last flow if nothing else.
  lastDetected.forEach((detected, c) => {
    const f = lastFlow[c] ?? -1;
    if (detected < 0 && f >= 0) flows.bankView[f] = 1;
  });
}

function pushCampaignEvents(
  events: EventColumns,
  f: number,
  start: number,
  arrival: CampaignArrival,
  random: RandomStream,
): void {
  const amount = arrival.amount;
  const v = STREAM_FRAUD_ONLY;
  let seq = 0;
  let t = start;
  events.push(f, seq++, 'AUTH_REQUEST', t, amount, v);
  if (arrival.role === 'TAKEOVER') {
    t += Math.round(random.uniform(0.3, 1.2) * SECOND);
    events.push(f, seq++, 'STEP_UP_CHALLENGE', t, amount, v);
    t += Math.round(random.uniform(4, 20) * SECOND);
    events.push(f, seq++, 'STEP_UP_COMPLETE', t, amount, v);
  }
  t += authLatency(random);
  events.push(f, seq++, 'AUTH_RESPONSE', t, amount, v);
  switch (arrival.role) {
    case 'PROBE':
      if (random.chance(0.35))
        events.push(f, seq++, 'REVERSAL', t + Math.round(random.uniform(30, 300) * SECOND), amount, v);
      break;
    case 'CASH_OUT':
      events.push(f, seq++, 'CLEARING', t + Math.round(random.uniform(10, 120) * MINUTE), amount, v);
      break;
    case 'TAKEOVER':
      events.push(f, seq++, 'CLEARING', t + Math.round(random.uniform(10, 180) * MINUTE), amount, v);
      break;
    case 'REFUND_LOOP': {
      t += Math.round(random.uniform(5, 60) * MINUTE);
      events.push(f, seq++, 'CLEARING', t, amount, v);
      events.push(f, seq++, 'REFUND', t + Math.round(random.uniform(20, 180) * MINUTE), amount, v);
      break;
    }
  }
}
