import type { Campaign } from './campaigns.ts';
import { EVENT_CODE, type EventColumns, STREAM_BASELINE_ONLY } from './event-columns.ts';
import type { FlowTable } from './flows.ts';
import { MICROS_PER_HOUR, MICROS_PER_SECOND } from './identity.ts';
import { IdFamily } from './ids.ts';
import type { RandomStream } from './random.ts';

/** The 6B S4 case_event_type vocabulary; the index is the code stored in CaseTable.type. */
export const CASE_EVENT_TYPES = [
  'CASE_OPENED',
  'DETECTION_EVENT_ATTACHED',
  'CUSTOMER_DISPUTE_FILED',
  'CHARGEBACK_INITIATED',
  'CHARGEBACK_DECISION',
  'CASE_CLOSED',
] as const;
export type CaseEventType = (typeof CASE_EVENT_TYPES)[number];

/** Legit flows the bank wrongly flags (each opens a case that closes without a chargeback). */
const FALSE_POSITIVE_RATE = 0.0006;
const MINUTE = 60 * MICROS_PER_SECOND;

export interface CaseTable {
  readonly cases: number;
  readonly rows: number;
  readonly caseIndex: Int32Array;
  readonly caseId: BigInt64Array;
  readonly seq: Int16Array;
  readonly flow: Int32Array;
  readonly type: Uint8Array;
  readonly ts: Float64Array;
}

interface CaseRow {
  readonly flow: number;
  readonly type: CaseEventType;
  readonly ts: number;
}

/** Per flow (with-fraud view): AUTH_RESPONSE time and whether it cleared. */
function flowMilestones(flows: FlowTable, events: EventColumns) {
  const authResponse = new Float64Array(flows.count);
  const cleared = new Uint8Array(flows.count);
  for (let i = 0; i < events.length; i++) {
    if (events.variant[i] === STREAM_BASELINE_ONLY) continue;
    const f = events.flow[i] ?? 0;
    if (events.type[i] === EVENT_CODE.AUTH_RESPONSE) authResponse[f] = events.ts[i] ?? 0;
    if (events.type[i] === EVENT_CODE.CLEARING) cleared[f] = 1;
  }
  return { authResponse, cleared };
}

/**
 * Marks false positives in the bank view, then writes one case per campaign (grouping its detected
 * flows) and one per false positive. Within a case, rows are in time order and case_event_seq follows it.
 */
export function planCases(
  flows: FlowTable,
  events: EventColumns,
  campaigns: readonly Campaign[],
  salt: bigint,
  random: RandomStream,
): CaseTable {
  for (let f = 0; f < flows.count; f++) {
    if ((flows.campaign[f] ?? -1) < 0 && random.chance(FALSE_POSITIVE_RATE)) flows.bankView[f] = 1;
  }
  const { authResponse, cleared } = flowMilestones(flows, events);
  const detectedByCampaign: number[][] = campaigns.map(() => []);
  const cases: { opened: number; rows: CaseRow[] }[] = [];
  for (let f = 0; f < flows.count; f++) {
    if (flows.bankView[f] !== 1) continue;
    const c = flows.campaign[f] ?? -1;
    if (c >= 0) detectedByCampaign[c]?.push(f);
    else cases.push(falsePositiveCase(f, authResponse[f] ?? 0, random));
  }
  campaigns.forEach((campaign, c) => {
    const detected = detectedByCampaign[c] ?? [];
    if (detected.length > 0) cases.push(campaignCase(campaign, detected, authResponse, cleared, random));
  });
  cases.sort((a, b) => a.opened - b.opened);

  const rows = cases.reduce((n, k) => n + k.rows.length, 0);
  const table = {
    cases: cases.length,
    rows,
    caseIndex: new Int32Array(rows),
    caseId: new BigInt64Array(rows),
    seq: new Int16Array(rows),
    flow: new Int32Array(rows),
    type: new Uint8Array(rows),
    ts: new Float64Array(rows),
  };
  const caseIds = new IdFamily(salt, 'case', 63);
  let r = 0;
  cases.forEach((k, index) => {
    const id = caseIds.idFor(index);
    k.rows
      .sort((a, b) => a.ts - b.ts || CASE_EVENT_TYPES.indexOf(a.type) - CASE_EVENT_TYPES.indexOf(b.type))
      .forEach((row, seq) => {
        table.caseIndex[r] = index;
        table.caseId[r] = id;
        table.seq[r] = seq;
        table.flow[r] = row.flow;
        table.type[r] = CASE_EVENT_TYPES.indexOf(row.type);
        table.ts[r] = row.ts;
        r++;
      });
  });
  return table;
}

function falsePositiveCase(f: number, authResponse: number, random: RandomStream) {
  const opened = Math.round(authResponse + random.uniform(5, 60) * MINUTE);
  const rows: CaseRow[] = [
    { flow: f, type: 'CASE_OPENED', ts: opened },
    { flow: f, type: 'DETECTION_EVENT_ATTACHED', ts: opened + 2 * MICROS_PER_SECOND },
    { flow: f, type: 'CASE_CLOSED', ts: Math.round(opened + random.uniform(1, 12) * MICROS_PER_HOUR) },
  ];
  return { opened, rows };
}

function campaignCase(
  campaign: Campaign,
  detected: readonly number[],
  authResponse: Float64Array,
  cleared: Uint8Array,
  random: RandomStream,
) {
  const first = detected[0] ?? 0;
  const last = detected[detected.length - 1] ?? first;
  const opened = Math.round(
    Math.max(...detected.map((f) => authResponse[f] ?? 0)) + random.uniform(2, 30) * MINUTE,
  );
  const rows: CaseRow[] = [{ flow: first, type: 'CASE_OPENED', ts: opened }];
  let t = opened;
  for (const f of detected) {
    t += Math.round(random.uniform(1, 5) * MICROS_PER_SECOND);
    rows.push({ flow: f, type: 'DETECTION_EVENT_ATTACHED', ts: t });
  }
  if (campaign.fraudLabel === 'FRAUD') {
    const disputed = Math.round(t + random.uniform(1, 6) * MICROS_PER_HOUR);
    rows.push({ flow: first, type: 'CUSTOMER_DISPUTE_FILED', ts: disputed });
    t = disputed;
    for (const f of detected) {
      if (cleared[f] !== 1) continue;
      const initiated = Math.round(disputed + random.uniform(2, 24) * MICROS_PER_HOUR);
      const decided = Math.round(initiated + random.uniform(24, 72) * MICROS_PER_HOUR);
      rows.push({ flow: f, type: 'CHARGEBACK_INITIATED', ts: initiated });
      rows.push({ flow: f, type: 'CHARGEBACK_DECISION', ts: decided });
      t = Math.max(t, decided);
    }
  } else {
    t = Math.round(t + random.uniform(1, 6) * MICROS_PER_HOUR);
  }
  rows.push({ flow: last, type: 'CASE_CLOSED', ts: Math.round(t + random.uniform(10, 60) * MINUTE) });
  return { opened, rows };
}
