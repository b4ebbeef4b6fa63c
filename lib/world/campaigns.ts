import { sha256Hex } from '../contracts/identity.ts';
import type { EntityTable, MerchantTable } from './entities.ts';
import { MICROS_PER_HOUR, MICROS_PER_SECOND } from './identity.ts';
import type { RandomStream } from './random.ts';

/**
 * Fraud campaigns: bursts of arrivals planned into the arrival skeleton, so 5B and s1 carry them like
 * any other arrival and s2 treats them as legit; the overlay (fraud-overlay.ts) then rewrites them in s3.
 *
 * - CARD_TESTING (FRAUD): a stolen card probed with many tiny payments across risky merchants within
 *   minutes, from one new device and rotating new IPs, then a cash-out or two.
 * - ACCOUNT_TAKEOVER (FRAUD): a victim's account used from a new device and new IP for a burst of
 *   high-value payments (step-up challenged and passed) at risky merchants.
 * - REFUND_ABUSE (ABUSE): a known customer buys and refunds again and again at one risky merchant.
 */
export const CAMPAIGN_TEMPLATES = ['CARD_TESTING', 'ACCOUNT_TAKEOVER', 'REFUND_ABUSE'] as const;
export type CampaignTemplate = (typeof CAMPAIGN_TEMPLATES)[number];

export const FRAUD_LABELS = ['LEGIT', 'FRAUD', 'ABUSE'] as const;
export type FraudLabel = (typeof FRAUD_LABELS)[number];

export const CAMPAIGN_LABEL: Readonly<Record<CampaignTemplate, FraudLabel>> = {
  CARD_TESTING: 'FRAUD',
  ACCOUNT_TAKEOVER: 'FRAUD',
  REFUND_ABUSE: 'ABUSE',
};

/** Share of a campaign's flows the bank gets to see as fraud (event labels' is_fraud_bank_view, cases). */
const DETECTION_RATE: Readonly<Record<CampaignTemplate, number>> = {
  CARD_TESTING: 0.7,
  ACCOUNT_TAKEOVER: 0.85,
  REFUND_ABUSE: 0.5,
};

/** Roughly how many with-fraud events one campaign adds (sizes the baseline so --events holds). */
export const EVENTS_PER_CAMPAIGN_ESTIMATE = 32;

export type CampaignRole = 'PROBE' | 'CASH_OUT' | 'TAKEOVER' | 'REFUND_LOOP';

export interface Campaign {
  readonly index: number;
  readonly template: CampaignTemplate;
  /** sha256 hex of `{mf}:{ph}:{seed}:{scenario_id}:{template}:{instance}`, the engine's recipe. */
  readonly campaignId: string;
  readonly fraudLabel: FraudLabel;
  readonly detectionRate: number;
  readonly party: number;
  readonly account: number;
  readonly instrument: number;
}

/** One planned campaign arrival, with the entities and amount the overlay gives its flow. */
export interface CampaignArrival {
  readonly campaign: number;
  readonly role: CampaignRole;
  readonly ts: number;
  readonly merchant: number;
  readonly amount: number;
  readonly device: number;
  readonly ip: number;
}

export interface CampaignPlan {
  readonly campaigns: readonly Campaign[];
  readonly arrivals: readonly CampaignArrival[];
}

export interface CampaignContext {
  readonly count: number;
  readonly manifestFingerprint: string;
  readonly parameterHash: string;
  readonly seed: bigint;
  readonly scenarioId: string;
  readonly horizonStartMicros: number;
  readonly horizonMicros: number;
  readonly merchants: MerchantTable;
  readonly entities: EntityTable;
}

const MINUTE = 60 * MICROS_PER_SECOND;

function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

export function campaignIdFor(ctx: CampaignContext, template: CampaignTemplate, instance: number): string {
  const raw = `${ctx.manifestFingerprint}:${ctx.parameterHash}:${ctx.seed}:${ctx.scenarioId}:${template}:${instance}`;
  return sha256Hex(raw);
}

/** Sorted burst times: `n` offsets spread over `span` microseconds from `start`. */
function burstTimes(start: number, span: number, n: number, random: RandomStream): number[] {
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(Math.round(start + random.next() * span));
  return times.sort((a, b) => a - b);
}

export function planCampaigns(ctx: CampaignContext, random: RandomStream): CampaignPlan {
  const { merchants, entities } = ctx;
  const campaigns: Campaign[] = [];
  const arrivals: CampaignArrival[] = [];
  const risky = Array.from(merchants.riskyIndices);
  let freshDevice = entities.freshDeviceStart;
  let freshIp = entities.freshIpStart;
  const horizonEnd = ctx.horizonStartMicros + ctx.horizonMicros;

  for (let c = 0; c < ctx.count; c++) {
    const template = CAMPAIGN_TEMPLATES[c % CAMPAIGN_TEMPLATES.length] ?? 'CARD_TESTING';
    const instance = Math.floor(c / CAMPAIGN_TEMPLATES.length);
    const party = random.int(entities.parties);
    const account = (entities.accountStart[party] ?? 0) + random.int(entities.accountCount[party] ?? 1);
    const instrument = entities.instrumentStart[account] ?? 0;
    campaigns.push({
      index: c,
      template,
      campaignId: campaignIdFor(ctx, template, instance),
      fraudLabel: CAMPAIGN_LABEL[template],
      detectionRate: DETECTION_RATE[template],
      party,
      account,
      instrument,
    });
    const start = ctx.horizonStartMicros + random.uniform(1, 17) * MICROS_PER_HOUR;
    const pick = () => risky[random.int(risky.length)] ?? 0;

    if (template === 'CARD_TESTING') {
      const device = freshDevice++;
      const ips = [freshIp++, freshIp++, freshIp++];
      const probes = burstTimes(start, random.uniform(6, 15) * MINUTE, random.intBetween(8, 20), random);
      let merchantCursor = random.int(risky.length);
      probes.forEach((ts, i) => {
        const merchant = risky[merchantCursor++ % risky.length] ?? 0;
        arrivals.push({
          campaign: c,
          role: 'PROBE',
          ts,
          merchant,
          amount: cents(random.uniform(0.5, 2)),
          device,
          ip: ips[i % 3] ?? 0,
        });
      });
      let ts = probes[probes.length - 1] ?? start;
      for (let k = random.intBetween(1, 2); k > 0; k--) {
        ts = Math.round(ts + random.uniform(2, 10) * MINUTE);
        arrivals.push({
          campaign: c,
          role: 'CASH_OUT',
          ts,
          merchant: pick(),
          amount: cents(random.uniform(400, 1500)),
          device,
          ip: ips[2] ?? 0,
        });
      }
    } else if (template === 'ACCOUNT_TAKEOVER') {
      const device = freshDevice++;
      const ip = freshIp++;
      const targets = [pick(), pick()];
      for (const ts of burstTimes(start, random.uniform(15, 45) * MINUTE, random.intBetween(4, 10), random)) {
        const merchant = targets[random.int(2)] ?? 0;
        arrivals.push({
          campaign: c,
          role: 'TAKEOVER',
          ts,
          merchant,
          amount: cents(random.uniform(250, 2500)),
          device,
          ip,
        });
      }
    } else {
      const device = entities.deviceStart[party] ?? 0;
      const ip = entities.homeIp[party] ?? 0;
      const merchant = pick();
      const span = Math.min(random.uniform(2, 6) * MICROS_PER_HOUR, horizonEnd - start - MINUTE);
      for (const ts of burstTimes(start, span, random.intBetween(4, 8), random)) {
        arrivals.push({
          campaign: c,
          role: 'REFUND_LOOP',
          ts,
          merchant,
          amount: cents(random.uniform(60, 400)),
          device,
          ip,
        });
      }
    }
  }
  return { campaigns, arrivals: arrivals.filter((a) => a.ts < horizonEnd) };
}
