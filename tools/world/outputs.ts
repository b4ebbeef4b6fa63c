import type { WorldOutputId } from '../../lib/world/layout.ts';
import type { WorldPlan } from '../../lib/world/world-plan.ts';
import { sqlString } from './parquet-writer.ts';

/**
 * One SELECT per output over the staged tables, columns in the engine schema's order and types:
 * ids BIGINT, merchant/site/edge ids UBIGINT, the 5B seed UBIGINT and the 6B seed BIGINT (as the engine
 * writes them), *_seq and bucket_index BIGINT, ts_utc a `YYYY-MM-DDTHH:MM:SS.ffffffZ` string.
 */
export interface OutputQuery {
  readonly outputId: WorldOutputId;
  /** Rows the output will hold. */
  readonly rows: number;
  /** Number of part files. */
  readonly parts: number;
  /** The totally ordered SELECT of part `part`. */
  select(part: number): string;
}

/** Rows per part file above which a part is split further (at least three parts whenever possible). */
const ROWS_PER_PART = 250_000;

function partCount(rows: number, units: number): number {
  return Math.max(1, Math.min(units, Math.max(3, Math.ceil(rows / ROWS_PER_PART))));
}

/** Routing universe hash reported on every 5B arrival (constant per world). */
export function routingUniverseHash(plan: WorldPlan): string {
  return plan.identity.manifestFingerprint.split('').reverse().join('');
}

const ENTITY_IDS =
  'p.id AS party_id, acc.id AS account_id, ins.id AS instrument_id, dev.id AS device_id, ip.id AS ip_id';

function entityJoins(src: string, suffix: string): string {
  return (
    `JOIN party p ON p.i = ${src}.party${suffix} JOIN account acc ON acc.i = ${src}.account${suffix} ` +
    `JOIN instrument ins ON ins.i = ${src}.instrument${suffix} JOIN device dev ON dev.i = ${src}.device${suffix} ` +
    `JOIN ip ON ip.i = ${src}.ip${suffix}`
  );
}

export function outputQueries(plan: WorldPlan): OutputQuery[] {
  const id = plan.identity;
  const mf = sqlString(id.manifestFingerprint);
  const ph = sqlString(id.parameterHash);
  const scenario = sqlString(plan.scenarioId);
  const seed6B = `CAST(${id.seed} AS BIGINT)`;
  const tokens6B = `${seed6B} AS seed, ${mf} AS manifest_fingerprint, ${ph} AS parameter_hash, ${scenario} AS scenario_id`;
  const flowCount = plan.flows.count;
  const fraudEvents = plan.events.countFor('fraud');
  const baselineEvents = plan.events.countFor('baseline');

  const perFlow = (outputId: WorldOutputId, rows: number, build: (where: string) => string): OutputQuery => {
    const parts = partCount(rows, flowCount);
    return { outputId, rows, parts, select: (part) => build(`% ${parts} = ${part}`) };
  };

  const anchor = (withFraud: boolean) => (where: string) =>
    `SELECT fl.flow_id, CAST(ar.seq AS BIGINT) AS arrival_seq, mc.merchant_id, ${ENTITY_IDS}, ts_utc(ar.ts) AS ts_utc, ` +
    `${withFraud ? 'fl.amount_f' : 'fl.amount'} AS amount, ${tokens6B}` +
    (withFraud ? ', fl.campaign >= 0 AS fraud_flag, cp.campaign_id' : '') +
    ' FROM flow fl JOIN arrival ar ON ar.a = fl.f JOIN merchant mc ON mc.m = ar.m ' +
    // Baseline entities are the arrival's (s1); the with-fraud view takes the overlay's.
    (withFraud ? entityJoins('fl', '_f') : entityJoins('ar', '')) +
    (withFraud ? ' LEFT JOIN campaign cp ON cp.c = fl.campaign' : '') +
    ` WHERE fl.f ${where} ORDER BY ar.ts, fl.flow_id`;

  const stream = (withFraud: boolean) => (where: string) =>
    `SELECT fl.flow_id, CAST(e.seq AS BIGINT) AS event_seq, event_type_of(e.typ) AS event_type, ts_utc(e.ts) AS ts_utc, ` +
    `e.amount, ${tokens6B}` +
    (withFraud ? ', fl.campaign >= 0 AS fraud_flag, cp.campaign_id' : '') +
    ' FROM event e JOIN flow fl ON fl.f = e.f' +
    (withFraud ? ' LEFT JOIN campaign cp ON cp.c = fl.campaign' : '') +
    // variant 1 = baseline-only rows, 2 = with-fraud-only rows (see event-columns.ts)
    ` WHERE e.variant <> ${withFraud ? 1 : 2} AND e.f ${where} ORDER BY e.ts, fl.flow_id, e.seq`;

  const arrivalEvents = (where: string) =>
    `SELECT ${mf} AS manifest_fingerprint, ${ph} AS parameter_hash, CAST(${id.seed} AS UBIGINT) AS seed, ` +
    `${scenario} AS scenario_id, mc.merchant_id, tp.tzid AS zone_representation, ` +
    'channel_group_of(mc.channel) AS channel_group, CAST(ar.bucket AS BIGINT) AS bucket_index, ' +
    'CAST(ar.seq AS BIGINT) AS arrival_seq, ts_utc(ar.ts) AS ts_utc, tp.tzid AS tzid_primary, ' +
    'ts_local(ar.lp) AS ts_local_primary, ' +
    'CASE WHEN mc.is_virtual THEN tset.tzid END AS tzid_settlement, ' +
    'CASE WHEN mc.is_virtual THEN ts_local(ar.ls) END AS ts_local_settlement, ' +
    'CASE WHEN mc.is_virtual THEN top.tzid END AS tzid_operational, ' +
    'CASE WHEN mc.is_virtual THEN ts_local(ar.lo) END AS ts_local_operational, ' +
    'tp.grp AS tz_group_id, NULLIF(mc.site_id, 0) AS site_id, NULLIF(mc.edge_id, 0) AS edge_id, ' +
    `${sqlString(routingUniverseHash(plan))} AS routing_universe_hash, ar.lam AS lambda_realised, ` +
    `mc.is_virtual, '1.0.0' AS s4_spec_version ` +
    'FROM arrival ar JOIN merchant mc ON mc.m = ar.m JOIN tz tp ON tp.t = mc.tz ' +
    'JOIN tz tset ON tset.t = mc.stz JOIN tz top ON top.t = mc.otz ' +
    `WHERE ar.a ${where} ORDER BY ar.ts, mc.merchant_id, ar.seq`;

  const arrivalEntities = (where: string) =>
    `SELECT ${scenario} AS scenario_id, CAST(ar.seq AS BIGINT) AS arrival_seq, mc.merchant_id, ` +
    `ts_utc(ar.ts) AS ts_utc, ${ENTITY_IDS}, ar.session_id, ${seed6B} AS seed, ${mf} AS manifest_fingerprint, ` +
    `${ph} AS parameter_hash FROM arrival ar JOIN merchant mc ON mc.m = ar.m ${entityJoins('ar', '')} ` +
    `WHERE ar.a ${where} ORDER BY ar.ts, mc.merchant_id, ar.seq`;

  const eventLabels = (where: string) =>
    'SELECT fl.flow_id, CAST(e.seq AS BIGINT) AS event_seq, fl.campaign >= 0 AS is_fraud_truth, ' +
    `fl.bank_view AS is_fraud_bank_view, ${tokens6B} FROM event e JOIN flow fl ON fl.f = e.f ` +
    `WHERE e.variant <> 1 AND e.f ${where} ORDER BY fl.flow_id, e.seq`;

  const flowTruth = (where: string) =>
    "SELECT fl.flow_id, fl.campaign >= 0 AS is_fraud_truth, COALESCE(cp.fraud_label, 'LEGIT') AS fraud_label, " +
    `${tokens6B} FROM flow fl LEFT JOIN campaign cp ON cp.c = fl.campaign ` +
    `WHERE fl.f ${where} ORDER BY fl.flow_id`;

  const caseParts = partCount(plan.cases.rows, plan.cases.cases);
  const caseTimeline: OutputQuery = {
    outputId: 's4_case_timeline_6B',
    rows: plan.cases.rows,
    parts: caseParts,
    select: (part) =>
      'SELECT ce.case_id, CAST(ce.seq AS BIGINT) AS case_event_seq, fl.flow_id, ' +
      `case_event_type_of(ce.typ) AS case_event_type, ts_utc(ce.ts) AS ts_utc, ${tokens6B} ` +
      `FROM case_event ce JOIN flow fl ON fl.f = ce.f WHERE ce.k % ${caseParts} = ${part} ` +
      'ORDER BY ce.ts, ce.case_id, ce.seq',
  };

  return [
    perFlow('arrival_events_5B', plan.arrivals.count, arrivalEvents),
    perFlow('s1_arrival_entities_6B', plan.arrivals.count, arrivalEntities),
    perFlow('s2_flow_anchor_baseline_6B', flowCount, anchor(false)),
    perFlow('s3_flow_anchor_with_fraud_6B', flowCount, anchor(true)),
    perFlow('s2_event_stream_baseline_6B', baselineEvents, stream(false)),
    perFlow('s3_event_stream_with_fraud_6B', fraudEvents, stream(true)),
    perFlow('s4_event_labels_6B', fraudEvents, eventLabels),
    perFlow('s4_flow_truth_labels_6B', flowCount, flowTruth),
    caseTimeline,
  ];
}
