import { z } from 'zod';
import type { EvidenceRef } from '../contracts/case-trigger.ts';
import { type RtdlPins, recipeId } from '../contracts/decision-lane.ts';
import { envelopeTsUtc } from '../contracts/envelope.ts';
import { engineEventId } from '../contracts/identity.ts';
import type { LabelAssertionInput } from '../contracts/label-store.ts';
import { describeIssues, PlatformError } from '../errors/platform-error.ts';

/**
 * The world's bank view as delayed EXTERNAL label assertions (downstream.md §4.3): a pure mapping of engine rows —
 * the traffic events in scope (`s3_event_stream_with_fraud_6B`, those the run streamed), their bank-view event
 * labels (`s4_event_labels_6B`) and the case timeline (`s4_case_timeline_6B`) — to `LabelAssertionInput`s.
 *
 * Why this shape:
 * - Labels are what the bank came to believe, not the truth: only `is_fraud_bank_view` and the case timeline are
 *   read. The rows are parsed with schemas that name no truth column (`is_fraud_truth`, `fraud_flag`,
 *   `campaign_id` are stripped), so a false positive the bank flagged is labelled fraud, and undetected fraud is not.
 * - The subject is the traffic event as the platform knows it: its event_id is the World Streamer's
 *   (`engineEventId` of the traffic output with its catalogue primary key — seed, manifest_fingerprint, scenario_id,
 *   flow_id, event_seq — and the world pins), so a label meets the decision made about the same event. A traffic
 *   row of another world than the pins is refused.
 * - Per event the bank marks fraud: `fraud_disposition` = FRAUD_CONFIRMED. Per event of a flow whose case shows a
 *   chargeback (CHARGEBACK_INITIATED or _DECISION): `chargeback_status` = CHARGEBACK.
 * - effective_time is the event's ts (what the label is about happened then); observed_time is when the bank learned
 *   it — the flow's earliest case row (any row for the disposition, the earliest chargeback row for a chargeback),
 *   else the event's ts — but never before the event itself (a flow's later events, e.g. a clearing after the case
 *   opened, are known fraud as soon as they happen). So an as-of read before the bank knew answers NOT_FOUND.
 * - `case_timeline_event_id` names the engine row the label was dated by (the case row, else the event-label row)
 *   with the recipe `ls.bank_view_engine_row.v1` {output_id, primary_key, world pins}; the evidence names the engine
 *   rows within the world as EXTERNAL_REF `s4_event_labels_6B/<flow_id>/<event_seq>` and
 *   `s4_case_timeline_6B/<case_id>/<case_event_seq>`. A reload of the same world gives the same ids and hashes, so it
 *   replays (ASSERTION_REPLAY_MATCH) instead of duplicating.
 */

export const TRAFFIC_OUTPUT_ID = 's3_event_stream_with_fraud_6B';
export const EVENT_LABELS_OUTPUT_ID = 's4_event_labels_6B';
export const CASE_TIMELINE_OUTPUT_ID = 's4_case_timeline_6B';
/** The traffic output's catalogue primary key (engine_outputs.catalogue.yaml, lib/world/layout.ts; a test holds them equal). */
export const TRAFFIC_PRIMARY_KEY = [
  'seed',
  'manifest_fingerprint',
  'scenario_id',
  'flow_id',
  'event_seq',
] as const;
export const BANK_VIEW_ACTOR_ID = 'EXTERNAL::engine_bank_view';
export const BANK_VIEW_ROW_RECIPE = 'ls.bank_view_engine_row.v1';
const CHARGEBACK_CASE_EVENTS: ReadonlySet<string> = new Set(['CHARGEBACK_INITIATED', 'CHARGEBACK_DECISION']);

/** An engine integer as DuckDB hands it over (BIGINT as bigint; a number or a decimal string accepted). */
const EngineInteger = z
  .union([z.bigint(), z.number().int(), z.string().regex(/^-?[0-9]+$/)])
  .transform((v) => BigInt(v));

/** An engine timestamp, normalised as the World Streamer normalises the envelope's ts_utc. */
const EngineTime = z.union([z.string(), z.date()]).transform((value, ctx) => {
  const ts = envelopeTsUtc(value);
  if (ts === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 timestamp' });
    return z.NEVER;
  }
  return ts;
});

// z.object (not strict): the columns a row has beyond these — the truth among them — are dropped here.
export const BankViewTrafficRow = z.object({
  flow_id: EngineInteger,
  event_seq: EngineInteger,
  ts_utc: EngineTime,
  // The world columns of the primary key (they must be the run's world).
  seed: EngineInteger,
  manifest_fingerprint: z.string().min(1),
  scenario_id: z.union([z.string().min(1), EngineInteger]),
});
type TrafficRow = z.infer<typeof BankViewTrafficRow>;
export const BankViewEventLabelRow = z.object({
  flow_id: EngineInteger,
  event_seq: EngineInteger,
  is_fraud_bank_view: z.boolean(),
});
export const BankViewCaseRow = z.object({
  case_id: EngineInteger,
  case_event_seq: EngineInteger,
  flow_id: EngineInteger,
  case_event_type: z.string().min(1),
  ts_utc: EngineTime,
});
type CaseRow = z.infer<typeof BankViewCaseRow>;

export interface BankViewRows {
  /** The traffic events in scope: labels are made for these only, in this order. */
  traffic: Iterable<unknown>;
  eventLabels: Iterable<unknown>;
  caseTimeline: Iterable<unknown>;
}

/** An engine row that does not have the columns the mapping reads. */
export class BankViewRowInvalid extends PlatformError<'BANK_VIEW_ROW_INVALID'> {
  constructor(outputId: string, index: number, issues: string) {
    super('BANK_VIEW_ROW_INVALID', `BANK_VIEW_ROW_INVALID: ${outputId} row ${index}: ${issues}`);
  }
}

function parseRows<T>(schema: z.ZodType<T>, outputId: string, rows: Iterable<unknown>): T[] {
  const parsed: T[] = [];
  let index = 0;
  for (const row of rows) {
    const result = schema.safeParse(row);
    if (!result.success) throw new BankViewRowInvalid(outputId, index, describeIssues(result.error.issues));
    parsed.push(result.data);
    index++;
  }
  return parsed;
}

const eventKey = (flowId: bigint, eventSeq: bigint) => `${flowId}|${eventSeq}`;
const later = (a: string, b: string) => (a < b ? b : a);

/** Earliest first: ts, then case_id, case_event_seq (so the row order of the input does not matter). */
function earlier(a: CaseRow | undefined, b: CaseRow): CaseRow {
  if (a === undefined) return b;
  if (a.ts_utc !== b.ts_utc) return a.ts_utc < b.ts_utc ? a : b;
  if (a.case_id !== b.case_id) return a.case_id < b.case_id ? a : b;
  return a.case_event_seq <= b.case_event_seq ? a : b;
}

/** The recipe id naming one engine row of this world. */
export function bankViewEngineRowId(
  outputId: string,
  primaryKey: Readonly<Record<string, bigint>>,
  pins: RtdlPins,
): string {
  return recipeId(BANK_VIEW_ROW_RECIPE, {
    output_id: outputId,
    primary_key: Object.fromEntries(Object.entries(primaryKey).map(([k, v]) => [k, v.toString()])),
    manifest_fingerprint: pins.manifest_fingerprint,
    parameter_hash: pins.parameter_hash,
    seed: String(pins.seed),
    scenario_id: String(pins.scenario_id),
  });
}

/** The platform event_id of a traffic event, as the World Streamer derives it (§4.4, the row's primary key). */
export function trafficEventId(row: TrafficRow, pins: RtdlPins): string {
  return engineEventId(
    TRAFFIC_OUTPUT_ID,
    TRAFFIC_PRIMARY_KEY,
    {
      seed: row.seed,
      manifest_fingerprint: row.manifest_fingerprint,
      scenario_id: row.scenario_id,
      flow_id: row.flow_id,
      event_seq: row.event_seq,
    },
    {
      manifest_fingerprint: pins.manifest_fingerprint,
      parameter_hash: pins.parameter_hash,
      seed: pins.seed,
      scenario_id: String(pins.scenario_id),
    },
  );
}

const externalRef = (outputId: string, ...key: bigint[]): EvidenceRef => ({
  ref_type: 'EXTERNAL_REF',
  ref_id: [outputId, ...key.map(String)].join('/'),
});

const caseRowRef = (row: CaseRow) => externalRef(CASE_TIMELINE_OUTPUT_ID, row.case_id, row.case_event_seq);
const caseRowId = (row: CaseRow, pins: RtdlPins) =>
  bankViewEngineRowId(
    CASE_TIMELINE_OUTPUT_ID,
    { case_id: row.case_id, case_event_seq: row.case_event_seq },
    pins,
  );

/** The bank view of the traffic events in scope as label assertions (see the module comment). */
export function bankViewAssertions(rows: BankViewRows, pins: RtdlPins): LabelAssertionInput[] {
  const traffic = parseRows(BankViewTrafficRow, TRAFFIC_OUTPUT_ID, rows.traffic);
  traffic.forEach((row, index) => {
    if (
      String(row.seed) !== String(pins.seed) ||
      row.manifest_fingerprint !== pins.manifest_fingerprint ||
      String(row.scenario_id) !== String(pins.scenario_id)
    )
      throw new BankViewRowInvalid(TRAFFIC_OUTPUT_ID, index, 'the row is of another world than the pins');
  });
  const bankFraud = new Set(
    parseRows(BankViewEventLabelRow, EVENT_LABELS_OUTPUT_ID, rows.eventLabels)
      .filter((row) => row.is_fraud_bank_view)
      .map((row) => eventKey(row.flow_id, row.event_seq)),
  );
  const firstCaseRow = new Map<bigint, CaseRow>();
  const firstChargeback = new Map<bigint, CaseRow>();
  for (const row of parseRows(BankViewCaseRow, CASE_TIMELINE_OUTPUT_ID, rows.caseTimeline)) {
    firstCaseRow.set(row.flow_id, earlier(firstCaseRow.get(row.flow_id), row));
    if (CHARGEBACK_CASE_EVENTS.has(row.case_event_type))
      firstChargeback.set(row.flow_id, earlier(firstChargeback.get(row.flow_id), row));
  }

  const assertions: LabelAssertionInput[] = [];
  const seen = new Set<string>();
  for (const event of traffic) {
    const key = eventKey(event.flow_id, event.event_seq);
    if (seen.has(key)) continue;
    seen.add(key);
    const common = {
      label_subject_key: {
        platform_run_id: pins.platform_run_id,
        event_id: trafficEventId(event, pins),
      },
      pins: { ...pins },
      effective_time: event.ts_utc,
      source_type: 'EXTERNAL' as const,
      actor_id: BANK_VIEW_ACTOR_ID,
    };
    if (bankFraud.has(key)) {
      const labelRef = externalRef(EVENT_LABELS_OUTPUT_ID, event.flow_id, event.event_seq);
      const learnt = firstCaseRow.get(event.flow_id);
      assertions.push({
        ...common,
        case_timeline_event_id:
          learnt === undefined
            ? bankViewEngineRowId(
                EVENT_LABELS_OUTPUT_ID,
                { flow_id: event.flow_id, event_seq: event.event_seq },
                pins,
              )
            : caseRowId(learnt, pins),
        label_type: 'fraud_disposition',
        label_value: 'FRAUD_CONFIRMED',
        observed_time: learnt === undefined ? event.ts_utc : later(event.ts_utc, learnt.ts_utc),
        evidence_refs: learnt === undefined ? [labelRef] : [labelRef, caseRowRef(learnt)],
      });
    }
    const chargeback = firstChargeback.get(event.flow_id);
    if (chargeback !== undefined)
      assertions.push({
        ...common,
        case_timeline_event_id: caseRowId(chargeback, pins),
        label_type: 'chargeback_status',
        label_value: 'CHARGEBACK',
        observed_time: later(event.ts_utc, chargeback.ts_utc),
        evidence_refs: [caseRowRef(chargeback)],
      });
  }
  return assertions;
}
