import { IdFamily, signedIds, unsignedIds } from './ids.ts';
import type { RandomStream } from './random.ts';

/** Time zones merchants operate in (zone_representation / tzid_*), with the tz_group_id reported by 5B. */
export const TIME_ZONES = [
  { tzid: 'Europe/London', group: 'EMEA' },
  { tzid: 'Europe/Berlin', group: 'EMEA' },
  { tzid: 'Europe/Paris', group: 'EMEA' },
  { tzid: 'Africa/Lagos', group: 'EMEA' },
  { tzid: 'America/New_York', group: 'AMER' },
  { tzid: 'America/Chicago', group: 'AMER' },
  { tzid: 'America/Los_Angeles', group: 'AMER' },
  { tzid: 'America/Sao_Paulo', group: 'AMER' },
  { tzid: 'Asia/Kolkata', group: 'APAC' },
  { tzid: 'Asia/Singapore', group: 'APAC' },
  { tzid: 'Asia/Tokyo', group: 'APAC' },
  { tzid: 'Australia/Sydney', group: 'APAC' },
] as const;

/** 6B attachment policy channel groups. Virtual merchants trade ECOM; physical ones POS (a few ATM/HYBRID). */
export const CHANNEL_GROUPS = ['ECOM', 'POS', 'ATM', 'BANK_RAIL', 'HYBRID'] as const;

export interface MerchantTable {
  readonly count: number;
  readonly merchantId: BigUint64Array;
  readonly popularity: Float64Array;
  /** Index into TIME_ZONES: primary (site or customer-facing) zone. */
  readonly tz: Uint8Array;
  /** Settlement / operational zones (virtual merchants only; physical ones report null). */
  readonly settlementTz: Uint8Array;
  readonly operationalTz: Uint8Array;
  readonly channel: Uint8Array;
  readonly isVirtual: Uint8Array;
  /** Fraud-prone merchants (the overlay's campaigns hit these). */
  readonly risky: Uint8Array;
  readonly riskyIndices: Int32Array;
  /** uint64 ids; 0 means null (physical merchants have a site, virtual ones an edge). */
  readonly siteId: BigUint64Array;
  readonly edgeId: BigUint64Array;
}

export function planMerchants(count: number, salt: bigint, random: RandomStream): MerchantTable {
  const popularity = new Float64Array(count);
  const tz = new Uint8Array(count);
  const settlementTz = new Uint8Array(count);
  const operationalTz = new Uint8Array(count);
  const channel = new Uint8Array(count);
  const isVirtual = new Uint8Array(count);
  const risky = new Uint8Array(count);
  const riskyIndices: number[] = [];
  for (let m = 0; m < count; m++) {
    popularity[m] = random.lognormal(0, 1.1);
    tz[m] = random.int(TIME_ZONES.length);
    const virtual = random.chance(0.25);
    isVirtual[m] = virtual ? 1 : 0;
    settlementTz[m] = virtual ? random.int(TIME_ZONES.length) : (tz[m] ?? 0);
    operationalTz[m] = virtual ? random.int(TIME_ZONES.length) : (tz[m] ?? 0);
    const roll = random.next();
    channel[m] = virtual ? 0 : roll < 0.9 ? 1 : roll < 0.96 ? 2 : 4;
    // At least three risky merchants whatever the size, so every campaign type finds targets.
    const isRisky = m < 3 || random.chance(0.06);
    risky[m] = isRisky ? 1 : 0;
    if (isRisky) riskyIndices.push(m);
  }
  const merchantId = unsignedIds(new IdFamily(salt, 'merchant', 64), count);
  const sites = new IdFamily(salt, 'site', 64);
  const edges = new IdFamily(salt, 'edge', 64);
  const siteId = new BigUint64Array(count);
  const edgeId = new BigUint64Array(count);
  for (let m = 0; m < count; m++) {
    if (isVirtual[m] === 1) edgeId[m] = edges.idFor(m);
    else siteId[m] = sites.idFor(m);
  }
  return {
    count,
    merchantId,
    popularity,
    tz,
    settlementTz,
    operationalTz,
    channel,
    isVirtual,
    risky,
    riskyIndices: Int32Array.from(riskyIndices),
    siteId,
    edgeId,
  };
}

/**
 * Parties own 1–2 accounts, accounts hold 1–2 instruments, parties use 1–3 devices and a home IP
 * (households share IPs); a pool of mobile IPs is used now and then. Fresh devices and IPs, never
 * used by anyone in the baseline, are reserved for the fraud overlay.
 */
export interface EntityTable {
  readonly parties: number;
  readonly partyId: BigInt64Array;
  readonly activity: Float64Array;
  readonly accountStart: Int32Array;
  readonly accountCount: Uint8Array;
  readonly accountId: BigInt64Array;
  readonly accountParty: Int32Array;
  readonly instrumentStart: Int32Array;
  readonly instrumentCount: Uint8Array;
  readonly instrumentId: BigInt64Array;
  readonly deviceStart: Int32Array;
  readonly deviceCount: Uint8Array;
  readonly deviceId: BigInt64Array;
  /** First device index reserved for the overlay (baseline devices are below it). */
  readonly freshDeviceStart: number;
  readonly homeIp: Int32Array;
  readonly mobileIpStart: number;
  readonly mobileIpCount: number;
  readonly ipId: BigInt64Array;
  readonly freshIpStart: number;
}

export interface EntityPlanInput {
  readonly parties: number;
  readonly freshDevices: number;
  readonly freshIps: number;
}

export function planEntities(input: EntityPlanInput, salt: bigint, random: RandomStream): EntityTable {
  const { parties } = input;
  const activity = new Float64Array(parties);
  const accountStart = new Int32Array(parties);
  const accountCount = new Uint8Array(parties);
  const deviceStart = new Int32Array(parties);
  const deviceCount = new Uint8Array(parties);
  const homeIp = new Int32Array(parties);
  const accountParty: number[] = [];
  const instrumentCounts: number[] = [];
  const householdIps = Math.max(1, Math.round(parties * 0.7));
  let devices = 0;
  for (let p = 0; p < parties; p++) {
    activity[p] = random.lognormal(0, 0.8);
    accountStart[p] = accountParty.length;
    const accounts = random.chance(0.7) ? 1 : 2;
    accountCount[p] = accounts;
    for (let a = 0; a < accounts; a++) {
      accountParty.push(p);
      instrumentCounts.push(random.chance(0.6) ? 1 : 2);
    }
    const roll = random.next();
    const partyDevices = roll < 0.6 ? 1 : roll < 0.9 ? 2 : 3;
    deviceStart[p] = devices;
    deviceCount[p] = partyDevices;
    devices += partyDevices;
    homeIp[p] = random.int(householdIps);
  }
  const accounts = accountParty.length;
  const instrumentStart = new Int32Array(accounts);
  const instrumentCount = Uint8Array.from(instrumentCounts);
  let instruments = 0;
  for (let a = 0; a < accounts; a++) {
    instrumentStart[a] = instruments;
    instruments += instrumentCount[a] ?? 1;
  }
  const mobileIpCount = Math.max(1, Math.round(parties * 0.2));
  return {
    parties,
    partyId: signedIds(new IdFamily(salt, 'party', 63), parties),
    activity,
    accountStart,
    accountCount,
    accountId: signedIds(new IdFamily(salt, 'account', 63), accounts),
    accountParty: Int32Array.from(accountParty),
    instrumentStart,
    instrumentCount,
    instrumentId: signedIds(new IdFamily(salt, 'instrument', 63), instruments),
    deviceStart,
    deviceCount,
    deviceId: signedIds(new IdFamily(salt, 'device', 63), devices + input.freshDevices),
    freshDeviceStart: devices,
    homeIp,
    mobileIpStart: householdIps,
    mobileIpCount,
    ipId: signedIds(new IdFamily(salt, 'ip', 63), householdIps + mobileIpCount + input.freshIps),
    freshIpStart: householdIps + mobileIpCount,
  };
}
