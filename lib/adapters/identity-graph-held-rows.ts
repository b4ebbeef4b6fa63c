import type { ArrivalKey, ArrivalMember, DedupeRow } from '../identity-graph/ports.ts';
import { type HeldRows, insertExpectingNew } from './postgres/projector-store.ts';

/**
 * The identity graph's held rows (the unit of work of lib/adapters/postgres/projector-store.ts): its dedupe rows and
 * its arrival keys with their members. A stored arrival key is locked when loaded; a new one is inserted expecting no
 * conflict, so a flow anchor and its arrival entities on two shards serialise and the later sees the earlier's members.
 */

/** An `ieg_dedupe` row as the unit holds it: the stored hash, or the new row to insert. */
interface HeldDedupe {
  payload_hash: string;
  insert?: DedupeRow & { stream_id: string };
}

export const DEDUPE: HeldRows<HeldDedupe> = {
  name: 'ieg_dedupe',
  async load(client, keys) {
    const parts = keys.map((key) => JSON.parse(key) as [string, string]);
    const res = await client.query<{ stream_id: string; dedupe_key: string; payload_hash: string }>(
      `SELECT stream_id, dedupe_key, payload_hash FROM ieg_dedupe
       WHERE (stream_id, dedupe_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [parts.map((p) => p[0]), parts.map((p) => p[1])],
    );
    return new Map(
      res.rows.map((r) => [JSON.stringify([r.stream_id, r.dedupe_key]), { payload_hash: r.payload_hash }]),
    );
  },
  async write(client, changes) {
    const rows = changes.flatMap((c) => (c.row.insert ? [c.row.insert] : []));
    const column = (pick: (r: (typeof rows)[number]) => unknown) => rows.map(pick);
    await insertExpectingNew(
      client,
      'ieg_dedupe',
      `INSERT INTO ieg_dedupe (stream_id, dedupe_key, platform_run_id, scenario_run_id, event_class, event_id,
         payload_hash, first_topic, first_partition, first_offset, offset_kind, first_seen_ts_utc)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::int[], $10::text[], $11::text[], $12::text[])
       ON CONFLICT DO NOTHING RETURNING 1`,
      [
        column((r) => r.stream_id),
        column((r) => r.dedupe_key),
        column((r) => r.platform_run_id),
        column((r) => r.scenario_run_id),
        column((r) => r.event_class),
        column((r) => r.event_id),
        column((r) => r.payload_hash),
        column((r) => r.eb_ref.topic),
        column((r) => r.eb_ref.partition),
        column((r) => r.eb_ref.offset),
        column((r) => r.eb_ref.offset_kind),
        column((r) => r.event_ts_utc),
      ],
      rows.length,
    );
  },
};

const ARRIVAL_COLUMNS = 'stream_id, scenario_run_id, merchant_id, arrival_seq';
export const arrivalKeyText = (streamId: string, k: ArrivalKey) =>
  JSON.stringify([streamId, k.scenario_run_id, k.merchant_id, k.arrival_seq]);

/** An arrival key as the unit holds it: every member (by entity id), and those this unit adds. */
interface HeldArrival {
  members: ArrivalMember[];
  added: ArrivalMember[];
}

export const byEntityId = (a: ArrivalMember, b: ArrivalMember) =>
  a.entity_id < b.entity_id ? -1 : a.entity_id > b.entity_id ? 1 : 0;

export const ARRIVALS: HeldRows<HeldArrival> = {
  name: 'ieg_arrival_keys',
  async load(client, keys) {
    const columns = [0, 1, 2, 3].map((i) => keys.map((key) => (JSON.parse(key) as string[])[i]));
    const where = `(${ARRIVAL_COLUMNS}) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`;
    const stored = await client.query<
      Record<'stream_id' | 'scenario_run_id' | 'merchant_id' | 'arrival_seq', string>
    >(
      `SELECT ${ARRIVAL_COLUMNS} FROM ieg_arrival_keys WHERE ${where} ORDER BY ${ARRIVAL_COLUMNS} FOR UPDATE`,
      columns,
    );
    const found = new Map<string, HeldArrival>(
      stored.rows.map((r) => [arrivalKeyText(r.stream_id, r), { members: [], added: [] }]),
    );
    if (found.size === 0) return found;
    const members = await client.query<{
      stream_id: string;
      scenario_run_id: string;
      merchant_id: string;
      arrival_seq: string;
      entity_id: string;
      entity_type: string;
    }>(`SELECT ${ARRIVAL_COLUMNS}, entity_id, entity_type FROM ieg_arrival_members WHERE ${where}`, columns);
    for (const m of members.rows)
      found
        .get(arrivalKeyText(m.stream_id, m))
        ?.members.push({ entity_id: m.entity_id, entity_type: m.entity_type });
    for (const arrival of found.values()) arrival.members.sort(byEntityId);
    return found;
  },
  async write(client, changes) {
    const added = changes.filter((c) => !c.existed);
    const keyColumns = (rows: readonly { key: string }[]) =>
      [0, 1, 2, 3].map((i) => rows.map((r) => (JSON.parse(r.key) as string[])[i]));
    await insertExpectingNew(
      client,
      'ieg_arrival_keys',
      `INSERT INTO ieg_arrival_keys (${ARRIVAL_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING RETURNING 1`,
      keyColumns(added),
      added.length,
    );
    const members = changes.flatMap((c) => c.row.added.map((m) => ({ key: c.key, ...m })));
    if (members.length > 0)
      await client.query(
        `INSERT INTO ieg_arrival_members (${ARRIVAL_COLUMNS}, entity_id, entity_type)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT DO NOTHING`,
        [...keyColumns(members), members.map((m) => m.entity_id), members.map((m) => m.entity_type)],
      );
  },
};
