import { CAMPAIGN_LABEL } from '../../lib/world/campaigns.ts';
import { CHANNEL_GROUPS, TIME_ZONES } from '../../lib/world/entities.ts';
import { EVENT_TYPES } from '../../lib/world/event-columns.ts';
import { CASE_EVENT_TYPES } from '../../lib/world/truth.ts';
import type { WorldPlan } from '../../lib/world/world-plan.ts';
import { type ParquetSession, sqlString } from './parquet-writer.ts';

function indices(count: number): Int32Array {
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = i;
  return out;
}

function sqlList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** Loads the plan into DuckDB tables (ids, indices, numbers) and defines the formatting macros. */
export async function stageWorld(session: ParquetSession, plan: WorldPlan): Promise<void> {
  const { merchants: m, entities: e, arrivals: a, flows: f, events: ev, cases: k } = plan;
  await session.run(
    [
      `CREATE MACRO ts_utc(x) AS strftime(make_timestamp(CAST(x AS BIGINT)), '%Y-%m-%dT%H:%M:%S.%fZ')`,
      `CREATE MACRO ts_local(x) AS strftime(make_timestamp(CAST(x AS BIGINT)), '%Y-%m-%dT%H:%M:%S.%f')`,
      `CREATE MACRO event_type_of(x) AS (${sqlList(EVENT_TYPES)})[x + 1]`,
      `CREATE MACRO case_event_type_of(x) AS (${sqlList(CASE_EVENT_TYPES)})[x + 1]`,
      `CREATE MACRO channel_group_of(x) AS (${sqlList(CHANNEL_GROUPS)})[x + 1]`,
    ].join(';\n'),
  );
  await session.stage('tz', [
    { name: 't', type: 'UTINYINT', data: Uint8Array.from(TIME_ZONES, (_, i) => i) },
    { name: 'tzid', type: 'VARCHAR', data: TIME_ZONES.map((z) => z.tzid) },
    { name: 'grp', type: 'VARCHAR', data: TIME_ZONES.map((z) => z.group) },
  ]);
  await session.stage('merchant', [
    { name: 'm', type: 'INTEGER', data: indices(m.count) },
    { name: 'merchant_id', type: 'UBIGINT', data: m.merchantId },
    { name: 'tz', type: 'UTINYINT', data: m.tz },
    { name: 'stz', type: 'UTINYINT', data: m.settlementTz },
    { name: 'otz', type: 'UTINYINT', data: m.operationalTz },
    { name: 'channel', type: 'UTINYINT', data: m.channel },
    { name: 'is_virtual', type: 'BOOLEAN', data: m.isVirtual },
    { name: 'site_id', type: 'UBIGINT', data: m.siteId },
    { name: 'edge_id', type: 'UBIGINT', data: m.edgeId },
  ]);
  const entityTables: [string, BigInt64Array][] = [
    ['party', e.partyId],
    ['account', e.accountId],
    ['instrument', e.instrumentId],
    ['device', e.deviceId],
    ['ip', e.ipId],
  ];
  for (const [name, ids] of entityTables) {
    await session.stage(name, [
      { name: 'i', type: 'INTEGER', data: indices(ids.length) },
      { name: 'id', type: 'BIGINT', data: ids },
    ]);
  }
  await session.stage('arrival', [
    { name: 'a', type: 'INTEGER', data: indices(a.count) },
    { name: 'm', type: 'INTEGER', data: a.merchant },
    { name: 'seq', type: 'INTEGER', data: a.arrivalSeq },
    { name: 'bucket', type: 'INTEGER', data: a.bucket },
    { name: 'ts', type: 'DOUBLE', data: a.ts },
    { name: 'lp', type: 'DOUBLE', data: a.localPrimary },
    { name: 'ls', type: 'DOUBLE', data: a.localSettlement },
    { name: 'lo', type: 'DOUBLE', data: a.localOperational },
    { name: 'lam', type: 'DOUBLE', data: a.lambda },
    { name: 'party', type: 'INTEGER', data: a.party },
    { name: 'account', type: 'INTEGER', data: a.account },
    { name: 'instrument', type: 'INTEGER', data: a.instrument },
    { name: 'device', type: 'INTEGER', data: a.device },
    { name: 'ip', type: 'INTEGER', data: a.ip },
    { name: 'session_id', type: 'BIGINT', data: a.sessionId },
  ]);
  await session.stage('flow', [
    { name: 'f', type: 'INTEGER', data: indices(f.count) },
    { name: 'flow_id', type: 'BIGINT', data: f.flowId },
    { name: 'amount', type: 'DOUBLE', data: f.amount },
    { name: 'amount_f', type: 'DOUBLE', data: f.fraudAmount },
    { name: 'party_f', type: 'INTEGER', data: f.party },
    { name: 'account_f', type: 'INTEGER', data: f.account },
    { name: 'instrument_f', type: 'INTEGER', data: f.instrument },
    { name: 'device_f', type: 'INTEGER', data: f.device },
    { name: 'ip_f', type: 'INTEGER', data: f.ip },
    { name: 'campaign', type: 'SMALLINT', data: f.campaign },
    { name: 'bank_view', type: 'BOOLEAN', data: f.bankView },
  ]);
  const n = ev.length;
  await session.stage('event', [
    { name: 'f', type: 'INTEGER', data: ev.flow.subarray(0, n) },
    { name: 'seq', type: 'SMALLINT', data: ev.seq.subarray(0, n) },
    { name: 'typ', type: 'UTINYINT', data: ev.type.subarray(0, n) },
    { name: 'ts', type: 'DOUBLE', data: ev.ts.subarray(0, n) },
    { name: 'amount', type: 'DOUBLE', data: ev.amount.subarray(0, n) },
    { name: 'variant', type: 'UTINYINT', data: ev.variant.subarray(0, n) },
  ]);
  const campaigns = plan.campaigns.campaigns;
  await session.stage('campaign', [
    { name: 'c', type: 'SMALLINT', data: Int16Array.from(campaigns, (c) => c.index) },
    { name: 'campaign_id', type: 'VARCHAR', data: campaigns.map((c) => c.campaignId) },
    { name: 'fraud_label', type: 'VARCHAR', data: campaigns.map((c) => CAMPAIGN_LABEL[c.template]) },
  ]);
  await session.stage('case_event', [
    { name: 'k', type: 'INTEGER', data: k.caseIndex },
    { name: 'case_id', type: 'BIGINT', data: k.caseId },
    { name: 'seq', type: 'SMALLINT', data: k.seq },
    { name: 'f', type: 'INTEGER', data: k.flow },
    { name: 'typ', type: 'UTINYINT', data: k.type },
    { name: 'ts', type: 'DOUBLE', data: k.ts },
  ]);
}
