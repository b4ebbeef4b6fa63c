import { canonicalJson } from '../contracts/canonical-json.ts';
import type { IntentLink, LineageChain, OutcomeLink } from '../contracts/decision-log.ts';
import type {
  BatchWrites,
  ChainWrite,
  DecisionLogCheckpoint,
  IntakeAttempt,
  IntakeCandidateRow,
  OffsetKey,
  QuarantineRow,
  ReplayObservation,
} from '../decision-log/ports.ts';
import { insertExpectingNew, type Queryable } from './postgres/projector-store.ts';

/**
 * The writes of the decision log's Postgres store (decision-log-stores.ts, migration 0018): one `unnest` statement per
 * table and batch, every column named once with its type and its value. Rows the batch found absent are inserted
 * expecting no other (`insertExpectingNew`: a row another batch inserted meanwhile is `ConcurrentInsert`, and the
 * batch runs again and reads it); quarantine rows keep their first (one per offset and reason).
 */

/** Canonical JSON of a rejected record's data, or null when there is none (or it cannot be written as JSON). */
function jsonOrNull(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  try {
    return canonicalJson(value);
  } catch {
    return null;
  }
}

/** A column of an `unnest` insert: its name, its Postgres type and its value in a row. */
type Column<Row> = readonly [name: string, type: string, value: (row: Row) => unknown];

const offsetColumns = <Row extends OffsetKey>(): Column<Row>[] => [
  ['topic', 'text', (r) => r.topic],
  ['partition_id', 'int', (r) => r.partition],
  ['offset_kind', 'text', (r) => r.offset_kind],
  ['source_offset', 'text', (r) => r.offset],
];
const runColumns = <
  Row extends { platform_run_id: string | null; scenario_run_id: string | null },
>(): Column<Row>[] => [
  ['platform_run_id', 'text', (r) => r.platform_run_id],
  ['scenario_run_id', 'text', (r) => r.scenario_run_id],
];

export const ATTEMPT_COLUMNS: readonly Column<IntakeAttempt>[] = [
  ...offsetColumns<IntakeAttempt>(),
  ...runColumns<IntakeAttempt>(),
  ['event_type', 'text', (r) => r.event_type],
  ['event_id', 'text', (r) => r.event_id],
  ['accepted', 'boolean', (r) => r.accepted],
  ['reason_code', 'text', (r) => r.reason_code],
  ['write_status', 'text', (r) => r.write_status],
  ['checkpoint_advanced', 'boolean', (r) => r.checkpoint_advanced],
  ['detail', 'text', (r) => r.detail],
  ['attempted_at_utc', 'timestamptz', (r) => r.attempted_at_utc],
];
const QUARANTINE_COLUMNS: readonly Column<QuarantineRow>[] = [
  ...offsetColumns<QuarantineRow>(),
  ...runColumns<QuarantineRow>(),
  ['reason_code', 'text', (r) => r.reason_code],
  ['detail', 'text', (r) => r.detail],
  ['event_type', 'text', (r) => r.event_type],
  ['event_id', 'text', (r) => r.event_id],
  ['schema_version', 'text', (r) => r.schema_version],
  ['payload_hash', 'text', (r) => r.payload_hash],
  ['published_at_utc', 'text', (r) => r.published_at_utc],
  ['envelope_json', 'text', (r) => jsonOrNull(r.envelope)],
  ['quarantined_at_utc', 'timestamptz', (r) => r.quarantined_at_utc],
];
const OBSERVATION_COLUMNS: readonly Column<ReplayObservation>[] = [
  ...offsetColumns<ReplayObservation>(),
  ...runColumns<ReplayObservation>(),
  ['event_type', 'text', (r) => r.event_type],
  ['event_id', 'text', (r) => r.event_id],
  ['payload_hash', 'text', (r) => r.payload_hash],
];
const CANDIDATE_COLUMNS: readonly Column<IntakeCandidateRow>[] = [
  ...runColumns<IntakeCandidateRow>(),
  ['event_type', 'text', (r) => r.event_type],
  ['event_id', 'text', (r) => r.event_id],
  ['schema_version', 'text', (r) => r.schema_version],
  ['payload_hash', 'text', (r) => r.payload_hash],
  ['source_topic', 'text', (r) => r.eb_ref.topic],
  ['source_partition', 'int', (r) => r.eb_ref.partition],
  ['source_offset', 'text', (r) => r.eb_ref.offset],
  ['offset_kind', 'text', (r) => r.eb_ref.offset_kind],
  ['published_at_utc', 'text', (r) => r.eb_ref.published_at_utc ?? null],
  ['event_ts_utc', 'text', (r) => r.ts_utc],
  ['envelope_json', 'text', (r) => canonicalJson(r.envelope)],
];
const CHECKPOINT_COLUMNS: readonly Column<DecisionLogCheckpoint>[] = [
  ['topic', 'text', (r) => r.topic],
  ['partition_id', 'int', (r) => r.partition],
  ['next_offset', 'text', (r) => r.next_offset],
  ['offset_kind', 'text', (r) => r.offset_kind],
  ['watermark_ts_utc', 'text', (r) => r.watermark_ts_utc],
  ['updated_at_utc', 'timestamptz', (r) => r.updated_at_utc],
];
const CHAIN_WRITE_COLUMNS: readonly Column<ChainWrite>[] = [
  ['decision_id', 'text', (r) => r.chain.decision_id],
  ['platform_run_id', 'text', (r) => r.chain.platform_run_id],
  ['scenario_run_id', 'text', (r) => r.chain.scenario_run_id],
  ['pins_json', 'text', (r) => canonicalJson(r.chain.pins)],
  ['run_config_digest', 'text', (r) => r.chain.run_config_digest],
  ['decision_event_id', 'text', (r) => r.chain.decision?.event.event_id ?? null],
  ['decision_payload_hash', 'text', (r) => r.chain.decision?.event.payload_hash ?? null],
  ['decision_json', 'text', (r) => (r.chain.decision ? canonicalJson(r.chain.decision) : null)],
  ['intent_count', 'int', (r) => r.chain.intents.length],
  ['outcome_count', 'int', (r) => r.chain.outcomes.length],
  ['unresolved_reasons_json', 'text', (r) => JSON.stringify(r.chain.unresolved_reasons)],
  ['chain_status', 'text', (r) => r.chain.chain_status],
  ['unresolved_since_utc', 'timestamptz', (r) => r.chain.unresolved_since_utc],
  ['audit_id', 'text', (r) => r.chain.audit_id],
  ['audit_record_digest', 'text', (r) => r.audit?.record_digest ?? null],
];
type Linked<Link> = { chain: LineageChain; link: Link };
const INTENT_COLUMNS: readonly Column<Linked<IntentLink>>[] = [
  ['decision_id', 'text', (r) => r.chain.decision_id],
  ['action_id', 'text', (r) => r.link.action_id],
  ['platform_run_id', 'text', (r) => r.chain.platform_run_id],
  ['scenario_run_id', 'text', (r) => r.chain.scenario_run_id],
  ['intent_event_id', 'text', (r) => r.link.event.event_id],
  ['payload_hash', 'text', (r) => r.link.event.payload_hash],
  ['link_json', 'text', (r) => canonicalJson(r.link)],
  ['requested_at_utc', 'text', (r) => r.link.requested_at_utc],
];
const OUTCOME_COLUMNS: readonly Column<Linked<OutcomeLink>>[] = [
  ['decision_id', 'text', (r) => r.chain.decision_id],
  ['outcome_id', 'text', (r) => r.link.outcome_id],
  ['action_id', 'text', (r) => r.link.action_id],
  ['platform_run_id', 'text', (r) => r.chain.platform_run_id],
  ['scenario_run_id', 'text', (r) => r.chain.scenario_run_id],
  ['outcome_event_id', 'text', (r) => r.link.event.event_id],
  ['payload_hash', 'text', (r) => r.link.event.payload_hash],
  ['status', 'text', (r) => r.link.status],
  ['link_json', 'text', (r) => canonicalJson(r.link)],
  ['completed_at_utc', 'text', (r) => r.link.completed_at_utc],
];

const EXPECT_NEW = 'ON CONFLICT DO NOTHING RETURNING 1';
const arraysOf = <Row>(streamId: string, columns: readonly Column<Row>[], rows: readonly Row[]) => [
  streamId,
  ...columns.map(([, , value]) => rows.map(value)),
];
const unnestOf = <Row>(columns: readonly Column<Row>[]) =>
  `unnest(${columns.map(([, type], i) => `$${i + 2}::${type}[]`).join(', ')})`;

/**
 * `INSERT INTO table (stream_id, columns…) SELECT $1, u.* FROM unnest($2::type[], …) u` + `tail`, one array per
 * column; with EXPECT_NEW every row must be new (`ConcurrentInsert` otherwise: the batch runs again).
 */
export async function insertRows<Row>(
  client: Queryable,
  streamId: string,
  table: string,
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  tail = '',
) {
  if (rows.length === 0) return;
  const names = columns.map(([name]) => name).join(', ');
  const sql = `INSERT INTO ${table} (stream_id, ${names}) SELECT $1, u.* FROM ${unnestOf(columns)} AS u ${tail}`;
  const params = arraysOf(streamId, columns, rows);
  if (tail === EXPECT_NEW) await insertExpectingNew(client, table, sql, params, rows.length);
  else await client.query(sql, params);
}

/** Writes a batch's rows, one statement per table (chains: one insert of the new, one update of the stored). */
export async function writeDecisionLogBatch(
  client: Queryable,
  streamId: string,
  w: BatchWrites,
): Promise<void> {
  await insertRows(client, streamId, 'dla_intake_attempts', ATTEMPT_COLUMNS, w.attempts);
  await insertRows(
    client,
    streamId,
    'dla_intake_quarantine',
    QUARANTINE_COLUMNS,
    w.quarantines,
    'ON CONFLICT DO NOTHING',
  );
  await insertRows(
    client,
    streamId,
    'dla_intake_replay_observations',
    OBSERVATION_COLUMNS,
    w.observations,
    EXPECT_NEW,
  );
  await insertRows(client, streamId, 'dla_intake_candidates', CANDIDATE_COLUMNS, w.candidates, EXPECT_NEW);
  await insertRows(
    client,
    streamId,
    'dla_lineage_chains',
    CHAIN_WRITE_COLUMNS,
    w.chains.filter((c) => !c.existed),
    EXPECT_NEW,
  );
  const stored = w.chains.filter((c) => c.existed);
  if (stored.length > 0) {
    // An audit digest, once written, stays (write-once); every other column is the batch's.
    const sets = CHAIN_WRITE_COLUMNS.slice(1)
      .map(([n]) => (n === 'audit_record_digest' ? `${n} = COALESCE(c.${n}, u.${n})` : `${n} = u.${n}`))
      .join(', ');
    await client.query(
      `UPDATE dla_lineage_chains c SET ${sets}, updated_at_utc = now()
       FROM ${unnestOf(CHAIN_WRITE_COLUMNS)} AS u(${CHAIN_WRITE_COLUMNS.map(([n]) => n).join(', ')})
       WHERE c.stream_id = $1 AND c.decision_id = u.decision_id`,
      arraysOf(streamId, CHAIN_WRITE_COLUMNS, stored),
    );
  }
  const intents = w.chains.flatMap((c) => c.newIntents.map((link) => ({ chain: c.chain, link })));
  await insertRows(client, streamId, 'dla_lineage_intents', INTENT_COLUMNS, intents, EXPECT_NEW);
  const outcomes = w.chains.flatMap((c) => c.newOutcomes.map((link) => ({ chain: c.chain, link })));
  await insertRows(client, streamId, 'dla_lineage_outcomes', OUTCOME_COLUMNS, outcomes, EXPECT_NEW);
  await insertRows(
    client,
    streamId,
    'dla_intake_checkpoints',
    CHECKPOINT_COLUMNS,
    w.checkpoints,
    `ON CONFLICT (stream_id, topic, partition_id) DO UPDATE SET next_offset = EXCLUDED.next_offset,
       offset_kind = EXCLUDED.offset_kind, watermark_ts_utc = EXCLUDED.watermark_ts_utc,
       updated_at_utc = EXCLUDED.updated_at_utc`,
  );
}
