import type { ArrivalTable } from './arrivals.ts';
import type { MerchantTable } from './entities.ts';
import { EventColumns, STREAM_BOTH } from './event-columns.ts';
import { MICROS_PER_SECOND } from './identity.ts';
import { IdFamily, mix64 } from './ids.ts';
import type { RandomStream } from './random.ts';

/**
 * Baseline (all-legit) flows, one per arrival (6B S2): an amount and a lifecycle of events.
 *
 * AUTH_REQUEST at the arrival time; sometimes STEP_UP_CHALLENGE → STEP_UP_COMPLETE; AUTH_RESPONSE
 * after a lognormal latency; then a REVERSAL, or a CLEARING (sometimes followed by a REFUND), or
 * nothing (declined or abandoned).
 */
const P_STEP_UP = 0.05;
const P_REVERSAL = 0.02;
const P_CLEARING = 0.88;
const P_REFUND = 0.03;
/** The engine's default purchase price points (minor units) and lognormal tail. */
const PRICE_POINTS_MINOR = [199, 499, 999, 1499, 1999, 2999, 4999, 9999];
const P_PRICE_POINT = 0.55;

/** Mean events of a baseline flow; sizes the world so the with-fraud stream holds about --events rows. */
export const EXPECTED_EVENTS_PER_FLOW = 1 + 2 * P_STEP_UP + 1 + P_REVERSAL + P_CLEARING * (1 + P_REFUND);

export interface FlowTable {
  readonly count: number;
  readonly flowId: BigInt64Array;
  /** Baseline amount (major units, 2 decimals). */
  readonly amount: Float64Array;
  /** The with-fraud view: amount and entities after the overlay (equal to the baseline for legit flows). */
  readonly fraudAmount: Float64Array;
  readonly party: Int32Array;
  readonly account: Int32Array;
  readonly instrument: Int32Array;
  readonly device: Int32Array;
  readonly ip: Int32Array;
  /** Campaign index, or −1 for a legit flow. */
  readonly campaign: Int16Array;
  /** 1 when the bank sees the flow as fraud (s4 is_fraud_bank_view; opens a case). */
  readonly bankView: Uint8Array;
}

const SECOND = MICROS_PER_SECOND;

function baselineAmount(random: RandomStream): number {
  const minor = random.chance(P_PRICE_POINT)
    ? (PRICE_POINTS_MINOR[random.int(PRICE_POINTS_MINOR.length)] ?? 999)
    : Math.min(250_000_00, Math.max(1, Math.round(random.lognormal(7.25, 0.95))));
  return minor / 100;
}

/** Auth latency: lognormal(−0.35, 0.5) seconds clamped to [0.02, 10], in whole microseconds. */
export function authLatency(random: RandomStream): number {
  return Math.round(Math.min(10, Math.max(0.02, random.lognormal(-0.35, 0.5))) * SECOND);
}

/**
 * flow_id: a 63-bit id keyed by the arrival (merchant_id, arrival_seq), like the engine's
 * hash(mf, ph, seed, scenario_id, merchant_id, arrival_seq) — here the world salt stands for the first four.
 */
export function planFlows(
  arrivals: ArrivalTable,
  merchants: MerchantTable,
  salt: bigint,
  random: RandomStream,
) {
  const count = arrivals.count;
  const flowIds = new IdFamily(salt, 'flow', 63);
  const flowId = new BigInt64Array(count);
  const amount = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    const merchantId = merchants.merchantId[arrivals.merchant[f] ?? 0] ?? 0n;
    flowId[f] = flowIds.idFor(mix64(merchantId) ^ BigInt(arrivals.arrivalSeq[f] ?? 0));
    amount[f] = baselineAmount(random);
  }
  const flows: FlowTable = {
    count,
    flowId,
    amount,
    fraudAmount: Float64Array.from(amount),
    party: Int32Array.from(arrivals.party),
    account: Int32Array.from(arrivals.account),
    instrument: Int32Array.from(arrivals.instrument),
    device: Int32Array.from(arrivals.device),
    ip: Int32Array.from(arrivals.ip),
    campaign: new Int16Array(count).fill(-1),
    bankView: new Uint8Array(count),
  };
  return flows;
}

/** Appends one flow's baseline lifecycle; `variant` says which streams carry it. */
export function pushBaselineEvents(
  events: EventColumns,
  f: number,
  start: number,
  amount: number,
  variant: number,
  random: RandomStream,
): void {
  let seq = 0;
  let t = start;
  events.push(f, seq++, 'AUTH_REQUEST', t, amount, variant);
  if (random.chance(P_STEP_UP)) {
    t += Math.round(random.uniform(0.2, 1.5) * SECOND);
    events.push(f, seq++, 'STEP_UP_CHALLENGE', t, amount, variant);
    t += Math.round(random.uniform(5, 45) * SECOND);
    events.push(f, seq++, 'STEP_UP_COMPLETE', t, amount, variant);
  }
  t += authLatency(random);
  events.push(f, seq++, 'AUTH_RESPONSE', t, amount, variant);
  const outcome = random.next();
  if (outcome < P_REVERSAL) {
    events.push(f, seq++, 'REVERSAL', t + Math.round(random.uniform(60, 1800) * SECOND), amount, variant);
  } else if (outcome < P_REVERSAL + P_CLEARING) {
    t += Math.round(random.uniform(600, 21_600) * SECOND);
    events.push(f, seq++, 'CLEARING', t, amount, variant);
    if (random.chance(P_REFUND)) {
      const refund = random.chance(0.5)
        ? amount
        : Math.max(0.01, Math.round(amount * random.uniform(20, 90)) / 100);
      events.push(
        f,
        seq++,
        'REFUND',
        t + Math.round(random.uniform(3_600, 43_200) * SECOND),
        refund,
        variant,
      );
    }
  }
}

/** Baseline events of every flow; campaign flows get them too (the baseline stream sees them as legit). */
export function planBaselineEvents(
  flows: FlowTable,
  arrivals: ArrivalTable,
  campaignVariant: number,
  random: RandomStream,
): EventColumns {
  const events = new EventColumns(Math.ceil(flows.count * (EXPECTED_EVENTS_PER_FLOW + 0.2)) + 1024);
  for (let f = 0; f < flows.count; f++) {
    const variant = (arrivals.campaignArrival[f] ?? -1) >= 0 ? campaignVariant : STREAM_BOTH;
    pushBaselineEvents(events, f, arrivals.ts[f] ?? 0, flows.amount[f] ?? 0, variant, random);
  }
  return events;
}
