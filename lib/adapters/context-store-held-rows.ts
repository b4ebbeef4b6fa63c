import type { JoinFrameRecord, JoinFrameState } from '../context-store/ports.ts';
import { canonicalJson, parseJsonLossless } from '../contracts/canonical-json.ts';
import type { FlowBinding, JoinFrameKey, SourceEvent } from '../contracts/context-store.ts';
import { type HeldRows, insertExpectingNew } from './postgres/projector-store.ts';

/**
 * The context store's held rows (the unit of work of lib/adapters/postgres/projector-store.ts): join frames (stored
 * ones locked when loaded, new ones inserted expecting no conflict, so two shards merging roles into one new frame
 * serialise) and flow bindings by flow; and how their rows read back (documents as canonical JSON, bigints exact).
 */

/** Floats such as `12.0` stay floats, so a stored role re-serialises (and re-hashes) byte-identically. */
export const lossless = <T>(text: string) => parseJsonLossless(text, { preserveFloats: true }) as T;

/** arrival_seq stays a decimal string on the way to numeric(20,0); it comes back as a string too. */
export const keyParams = (key: JoinFrameKey) => [
  key.platform_run_id,
  key.scenario_run_id,
  key.merchant_id,
  key.arrival_seq.toString(),
];

export interface FrameRow {
  payload_hash: string | null;
  frame_json: string | null;
  source_event_json: string | null;
}

export function frameOf(row: FrameRow | undefined): JoinFrameRecord | undefined {
  if (!row?.frame_json || !row.payload_hash || !row.source_event_json) return undefined;
  const state = lossless<JoinFrameState>(row.frame_json);
  state.join_frame_key.arrival_seq = BigInt(state.join_frame_key.arrival_seq);
  return {
    state,
    payload_hash: row.payload_hash,
    source_event: lossless<SourceEvent>(row.source_event_json),
  };
}

export function bindingOf(row: { binding_json: string } | undefined): FlowBinding | undefined {
  if (!row) return undefined;
  const binding = lossless<FlowBinding>(row.binding_json);
  binding.join_frame_key.arrival_seq = BigInt(binding.join_frame_key.arrival_seq);
  return binding;
}

export const FRAME_KEY_COLUMNS = 'stream_id, platform_run_id, scenario_run_id, merchant_id, arrival_seq';
export const frameKeyText = (streamId: string, key: JoinFrameKey) =>
  JSON.stringify([streamId, ...keyParams(key)]);

/** A join frame as the unit holds it (`record` undefined: a stored row no role has filled yet). */
interface HeldFrame {
  record: JoinFrameRecord | undefined;
}

function frameColumns(changes: readonly { key: string; row: HeldFrame }[]) {
  const columns: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const { key, row } of changes) {
    if (!row.record) continue;
    const values = [
      ...(JSON.parse(key) as string[]),
      row.record.payload_hash,
      canonicalJson(row.record.state),
      canonicalJson(row.record.source_event),
      row.record.state.context_complete,
    ];
    for (const [i, value] of values.entries()) columns[i]?.push(value);
  }
  return columns;
}

const FRAME_VALUES = `SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[],
  $7::text[], $8::text[], $9::boolean[])`;
const FRAME_INSERT = `INSERT INTO csfb_join_frames (${FRAME_KEY_COLUMNS}, payload_hash, frame_json, source_event_json,
  context_complete) ${FRAME_VALUES}`;

export const JOIN_FRAMES: HeldRows<HeldFrame> = {
  name: 'csfb_join_frames',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as string[]);
    const res = await client.query<
      FrameRow & {
        stream_id: string;
        platform_run_id: string;
        scenario_run_id: string;
        merchant_id: string;
        arrival_seq: string;
      }
    >(
      `SELECT ${FRAME_KEY_COLUMNS}, payload_hash, frame_json, source_event_json FROM csfb_join_frames
       WHERE (${FRAME_KEY_COLUMNS}) IN
         (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[]))
       ORDER BY ${FRAME_KEY_COLUMNS} FOR UPDATE`,
      [0, 1, 2, 3, 4].map((i) => parts.map((p) => p[i])),
    );
    return new Map(
      res.rows.map((r) => [
        JSON.stringify([r.stream_id, r.platform_run_id, r.scenario_run_id, r.merchant_id, r.arrival_seq]),
        { record: frameOf(r) },
      ]),
    );
  },
  async write(client, changes) {
    const stored = changes.filter((c) => c.existed);
    if (stored.length > 0)
      await client.query(
        `${FRAME_INSERT} ON CONFLICT (${FRAME_KEY_COLUMNS}) DO UPDATE SET payload_hash = EXCLUDED.payload_hash,
           frame_json = EXCLUDED.frame_json, source_event_json = EXCLUDED.source_event_json,
           context_complete = EXCLUDED.context_complete, updated_at_utc = now()`,
        frameColumns(stored),
      );
    const added = changes.filter((c) => !c.existed && c.row.record);
    await insertExpectingNew(
      client,
      'csfb_join_frames',
      `${FRAME_INSERT} ON CONFLICT DO NOTHING RETURNING 1`,
      frameColumns(added),
      added.length,
    );
  },
};

const BINDING_COLUMNS = 'stream_id, platform_run_id, scenario_run_id, flow_id';
export const flowKeyText = (streamId: string, key: JoinFrameKey, flowId: string) =>
  JSON.stringify([streamId, key.platform_run_id, key.scenario_run_id, flowId]);

/**
 * `csfb_flow_bindings` by flow (its PK) as held rows: the stored hash, or the binding to insert (expecting no
 * conflict on either of the table's keys: another transaction's binding of the flow or of the frame meanwhile is
 * ConcurrentInsert).
 */
export const BINDINGS_BY_FLOW: HeldRows<{ payload_hash: string; insert?: FlowBinding }> = {
  name: 'csfb_flow_bindings',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as string[]);
    const res = await client.query<
      Record<'stream_id' | 'platform_run_id' | 'scenario_run_id' | 'flow_id' | 'payload_hash', string>
    >(
      `SELECT ${BINDING_COLUMNS}, payload_hash FROM csfb_flow_bindings
       WHERE (${BINDING_COLUMNS}) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`,
      [0, 1, 2, 3].map((i) => parts.map((p) => p[i])),
    );
    return new Map(
      res.rows.map((r) => [
        JSON.stringify([r.stream_id, r.platform_run_id, r.scenario_run_id, r.flow_id]),
        { payload_hash: r.payload_hash },
      ]),
    );
  },
  async write(client, changes) {
    const added = changes.flatMap((c) =>
      c.row.insert ? [{ streamId: (JSON.parse(c.key) as string[])[0], binding: c.row.insert }] : [],
    );
    const column = (pick: (a: (typeof added)[number]) => unknown) => added.map(pick);
    await insertExpectingNew(
      client,
      'csfb_flow_bindings',
      `INSERT INTO csfb_flow_bindings (${BINDING_COLUMNS}, merchant_id, arrival_seq, authoritative_source_event_type,
         payload_hash, binding_json, bound_at_utc)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::text[],
         $8::text[], $9::text[], $10::text[])
       ON CONFLICT DO NOTHING RETURNING 1`,
      [
        column((a) => a.streamId),
        column((a) => a.binding.join_frame_key.platform_run_id),
        column((a) => a.binding.join_frame_key.scenario_run_id),
        column((a) => a.binding.flow_id),
        column((a) => a.binding.join_frame_key.merchant_id),
        column((a) => a.binding.join_frame_key.arrival_seq.toString()),
        column((a) => a.binding.authoritative_source_event_type),
        column((a) => a.binding.payload_hash),
        column((a) => canonicalJson(a.binding)),
        column((a) => a.binding.bound_at_utc),
      ],
      added.length,
    );
  },
};
