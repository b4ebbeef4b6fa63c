import type { CampaignArrival } from './campaigns.ts';
import { type EntityTable, type MerchantTable, TIME_ZONES } from './entities.ts';
import { HORIZON_HOURS, MICROS_PER_HOUR } from './identity.ts';
import { IdFamily } from './ids.ts';
import { AliasTable, type RandomStream } from './random.ts';

/** Relative arrival intensity per UTC hour of the day (quiet nights, lunch and evening peaks). */
const HOUR_WEIGHTS = [
  0.35, 0.25, 0.2, 0.18, 0.2, 0.3, 0.5, 0.8, 1, 1.1, 1.2, 1.3, 1.35, 1.3, 1.2, 1.15, 1.2, 1.3, 1.45, 1.5,
  1.35, 1.1, 0.8, 0.55,
];
/** Chance that an arrival lands on exactly the previous arrival's microsecond (exact ts ties across files). */
const TIE_RATE = 0.004;
const SESSION_WINDOW_MICROS = 30 * 60 * 1_000_000;

/** The 5B arrival skeleton with the 6B S1 entity attachments, in time order (index = flow index). */
export interface ArrivalTable {
  readonly count: number;
  /** Epoch microseconds (exact integers in a double). */
  readonly ts: Float64Array;
  readonly merchant: Int32Array;
  /** 1-based per merchant, in time order. */
  readonly arrivalSeq: Int32Array;
  readonly bucket: Int32Array;
  /** Index into the campaign arrivals, or −1 for a baseline arrival. */
  readonly campaignArrival: Int32Array;
  readonly lambda: Float64Array;
  /** Local wall clock of the primary / settlement / operational zone, as epoch-like microseconds. */
  readonly localPrimary: Float64Array;
  readonly localSettlement: Float64Array;
  readonly localOperational: Float64Array;
  readonly party: Int32Array;
  readonly account: Int32Array;
  readonly instrument: Int32Array;
  readonly device: Int32Array;
  readonly ip: Int32Array;
  readonly sessionId: BigInt64Array;
}

export interface ArrivalPlanInput {
  readonly baselineCount: number;
  readonly campaignArrivals: readonly CampaignArrival[];
  readonly horizonStartMicros: number;
  readonly merchants: MerchantTable;
  readonly entities: EntityTable;
  readonly salt: bigint;
}

/** Splits `total` over the hours in proportion to HOUR_WEIGHTS (largest remainder, so the sum is exact). */
function hourlyCounts(total: number): number[] {
  const sum = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  const exact = HOUR_WEIGHTS.map((w) => (total * w) / sum);
  const counts = exact.map(Math.floor);
  const order = exact.map((x, h) => ({ h, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.h - b.h);
  let left = total - counts.reduce((a, b) => a + b, 0);
  for (const { h } of order) {
    if (left-- <= 0) break;
    counts[h] = (counts[h] ?? 0) + 1;
  }
  return counts;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `tzid` from UTC at an instant, in microseconds (DST-aware, via the platform's ICU data). */
export function tzOffsetMicros(tzid: string, atMicros: number): number {
  let format = formatters.get(tzid);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tzid,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(tzid, format);
  }
  const instantMs = Math.floor(atMicros / 1_000_000) * 1000;
  const part: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(instantMs))) part[p.type] = Number(p.value);
  const local = Date.UTC(
    part.year ?? 0,
    (part.month ?? 1) - 1,
    part.day ?? 1,
    part.hour ?? 0,
    part.minute ?? 0,
    part.second ?? 0,
  );
  return (local - instantMs) * 1000;
}

export function planArrivals(input: ArrivalPlanInput, random: RandomStream): ArrivalTable {
  const { merchants, entities, campaignArrivals, horizonStartMicros: h0 } = input;
  const count = input.baselineCount + campaignArrivals.length;
  const rawTs = new Float64Array(count);
  const rawMerchant = new Int32Array(count);
  const byPopularity = new AliasTable(merchants.popularity);
  let n = 0;
  hourlyCounts(input.baselineCount).forEach((perHour, hour) => {
    for (let i = 0; i < perHour; i++, n++) {
      rawTs[n] = h0 + hour * MICROS_PER_HOUR + Math.floor(random.next() * MICROS_PER_HOUR);
      rawMerchant[n] = byPopularity.sample(random);
    }
  });
  campaignArrivals.forEach((a, i) => {
    rawTs[n + i] = a.ts;
    rawMerchant[n + i] = a.merchant;
  });

  const order = Array.from({ length: count }, (_, i) => i).sort(
    (a, b) => (rawTs[a] ?? 0) - (rawTs[b] ?? 0) || a - b,
  );
  const ts = new Float64Array(count);
  const merchant = new Int32Array(count);
  const campaignArrival = new Int32Array(count);
  const forcedTies = new Set([Math.floor(count / 3), Math.floor((2 * count) / 3)]);
  order.forEach((source, i) => {
    ts[i] = rawTs[source] ?? 0;
    merchant[i] = rawMerchant[source] ?? 0;
    campaignArrival[i] = source >= input.baselineCount ? source - input.baselineCount : -1;
    // Copying the previous timestamp keeps the order; neighbours land in different part files.
    if (i > 0 && (forcedTies.has(i) || random.chance(TIE_RATE))) ts[i] = ts[i - 1] ?? 0;
  });

  const arrivalSeq = new Int32Array(count);
  const nextSeq = new Int32Array(merchants.count);
  const bucket = new Int32Array(count);
  const lambda = new Float64Array(count);
  const popularityTotal = merchants.popularity.reduce((a, b) => a + b, 0);
  const weightTotal = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  const localPrimary = new Float64Array(count);
  const localSettlement = new Float64Array(count);
  const localOperational = new Float64Array(count);
  const offsets = new Map<number, number>();
  const offsetAt = (tz: number, b: number): number => {
    const key = tz * 1024 + b;
    let offset = offsets.get(key);
    if (offset === undefined) {
      offset = tzOffsetMicros(TIME_ZONES[tz]?.tzid ?? 'UTC', h0 + b * MICROS_PER_HOUR);
      offsets.set(key, offset);
    }
    return offset;
  };
  for (let i = 0; i < count; i++) {
    const m = merchant[i] ?? 0;
    nextSeq[m] = (nextSeq[m] ?? 0) + 1;
    arrivalSeq[i] = nextSeq[m] ?? 1;
    const t = ts[i] ?? 0;
    const b = Math.min(HORIZON_HOURS - 1, Math.floor((t - h0) / MICROS_PER_HOUR));
    bucket[i] = b;
    lambda[i] =
      (count * ((merchants.popularity[m] ?? 0) / popularityTotal) * (HOUR_WEIGHTS[b] ?? 1)) / weightTotal;
    localPrimary[i] = t + offsetAt(merchants.tz[m] ?? 0, b);
    localSettlement[i] = t + offsetAt(merchants.settlementTz[m] ?? 0, b);
    localOperational[i] = t + offsetAt(merchants.operationalTz[m] ?? 0, b);
  }

  return {
    count,
    ts,
    merchant,
    arrivalSeq,
    bucket,
    campaignArrival,
    lambda,
    localPrimary,
    localSettlement,
    localOperational,
    ...attachEntities(ts, h0, entities, input.salt, random),
  };
}

/** 6B S1: who transacts — a party by activity, one of its accounts/instruments/devices, mostly its home IP. */
function attachEntities(
  ts: Float64Array,
  h0: number,
  entities: EntityTable,
  salt: bigint,
  random: RandomStream,
) {
  const count = ts.length;
  const party = new Int32Array(count);
  const account = new Int32Array(count);
  const instrument = new Int32Array(count);
  const device = new Int32Array(count);
  const ip = new Int32Array(count);
  const sessionId = new BigInt64Array(count);
  const byActivity = new AliasTable(entities.activity);
  const sessions = new Map<number, bigint>();
  const sessionFamily = new IdFamily(salt, 'session', 63);
  for (let i = 0; i < count; i++) {
    const p = byActivity.sample(random);
    const a = (entities.accountStart[p] ?? 0) + random.int(entities.accountCount[p] ?? 1);
    party[i] = p;
    account[i] = a;
    instrument[i] = (entities.instrumentStart[a] ?? 0) + random.int(entities.instrumentCount[a] ?? 1);
    device[i] = (entities.deviceStart[p] ?? 0) + random.int(entities.deviceCount[p] ?? 1);
    ip[i] = random.chance(0.85)
      ? (entities.homeIp[p] ?? 0)
      : entities.mobileIpStart + random.int(entities.mobileIpCount);
    // A session is one party's activity within a 30-minute window.
    const key = p * 64 + Math.floor(((ts[i] ?? 0) - h0) / SESSION_WINDOW_MICROS);
    let session = sessions.get(key);
    if (session === undefined) {
      session = sessionFamily.idFor(key);
      sessions.set(key, session);
    }
    sessionId[i] = session;
  }
  return { party, account, instrument, device, ip, sessionId };
}
