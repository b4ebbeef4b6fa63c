import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WORLD_CATALOGUE, WORLD_OUTPUT_IDS } from '../../../lib/world/layout.ts';
import { type Duck, makeWorld, openDuck, parquetOf, type TestWorld } from './world-fixture.ts';

// A copy of ../shared/reference/engine-schemas (test/fixtures/engine-reference/README.md), so CI needs no workspace.
const SCHEMA_DIR = new URL('../../fixtures/engine-reference/engine-schemas', import.meta.url).pathname;
type Node = Record<string, unknown>;
const packs = new Map<string, Node>();
function pack(file: string): Node {
  let loaded = packs.get(file);
  if (loaded === undefined) {
    loaded = parse(readFileSync(`${SCHEMA_DIR}/${file}`, 'utf8'), { uniqueKeys: false }) as Node;
    packs.set(file, loaded);
  }
  return loaded;
}

/** The row schema a catalogue schema_ref points at (the engine walks `properties` too; arrays → items). */
function rowSchema(schemaRef: string): { node: Node; file: string } {
  const [file = '', pointer = ''] = schemaRef.split('#');
  let node = pack(file);
  for (const part of pointer.split('/').filter(Boolean)) {
    const props = node.properties as Node | undefined;
    node = (node[part] ?? props?.[part]) as Node;
  }
  if (node.type === 'array') node = node.items as Node;
  return { node, file };
}

/** JSON-schema type of a property, following local $defs and mapping the shared layer defs by name. */
function typeOf(prop: Node, file: string): { type: string; nullable: boolean } {
  const ref = prop.$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').pop() ?? '';
    const local = ref.startsWith('#/$defs/') ? ((pack(file).$defs as Node)[name] as Node) : undefined;
    if (local !== undefined && local.$ref === undefined) {
      return { type: String(local.type), nullable: prop.nullable === true };
    }
    const shared: Record<string, string> = {
      hex64: 'string',
      hex32: 'string',
      rfc3339_micros: 'string',
      iana_tzid: 'string',
      id64: 'integer',
      uint64: 'integer',
    };
    return { type: shared[name] ?? 'unknown', nullable: prop.nullable === true };
  }
  const types = Array.isArray(prop.type) ? (prop.type as string[]) : [String(prop.type)];
  return {
    type: types.filter((t) => t !== 'null')[0] ?? 'null',
    nullable: types.includes('null') || prop.nullable === true,
  };
}

/** The engine's physical types: uint64 merchant/site/edge ids and 5B seed; other integers int64. */
function expectedDuckType(outputId: string, column: string, jsonType: string): string {
  if (jsonType === 'integer') {
    const unsigned =
      ['merchant_id', 'site_id', 'edge_id'].includes(column) ||
      (outputId === 'arrival_events_5B' && column === 'seed');
    return unsigned ? 'UBIGINT' : 'BIGINT';
  }
  return { number: 'DOUBLE', boolean: 'BOOLEAN', string: 'VARCHAR' }[jsonType] ?? jsonType;
}

describe('world outputs against the engine schemas', () => {
  let world: TestWorld;
  let duck: Duck;
  beforeAll(async () => {
    world = await makeWorld({ seed: 21n });
    duck = await openDuck();
  }, 60_000);
  afterAll(async () => {
    duck?.close();
    await world?.dispose();
  });

  it.each(WORLD_OUTPUT_IDS)('%s has the schema columns, types and requiredness', async (outputId) => {
    const { node, file } = rowSchema(WORLD_CATALOGUE[outputId].schema_ref);
    const properties = node.properties as Record<string, Node>;
    const required = node.required as string[];
    const described = await duck.rows(`DESCRIBE SELECT * FROM ${parquetOf(world, outputId)}`);
    const columns = described.map((r) => String(r.column_name));
    expect(columns.filter((c) => !(c in properties))).toEqual([]);
    expect(required.filter((c) => !columns.includes(c))).toEqual([]);
    if (node.additionalProperties === false)
      expect([...columns].sort()).toEqual(Object.keys(properties).sort());
    for (const row of described) {
      const column = String(row.column_name);
      const { type, nullable } = typeOf(properties[column] ?? {}, file);
      expect(`${column}:${row.column_type}`).toBe(`${column}:${expectedDuckType(outputId, column, type)}`);
      const nulls = Number(
        await duck.scalar(`SELECT count(*) FROM ${parquetOf(world, outputId)} WHERE ${column} IS NULL`),
      );
      if (required.includes(column) && !nullable)
        expect(`${column} nulls=${nulls}`).toBe(`${column} nulls=0`);
    }
  });

  // The outputs whose engine schema declares ts_utc (the others have no such column: nothing to check there).
  const withTsUtc = WORLD_OUTPUT_IDS.filter((outputId) => {
    const { node } = rowSchema(WORLD_CATALOGUE[outputId].schema_ref);
    return 'ts_utc' in (node.properties as Record<string, Node>);
  });

  it('checks ts_utc on the outputs whose schema declares it, and only those', () => {
    expect(withTsUtc.length).toBeGreaterThan(0);
    expect(withTsUtc.length).toBeLessThan(WORLD_OUTPUT_IDS.length);
  });

  it.each(withTsUtc)('%s writes ts_utc as rfc3339 with exactly six fraction digits', async (outputId) => {
    const src = parquetOf(world, outputId);
    const columns = (await duck.rows(`DESCRIBE SELECT * FROM ${src}`)).map((r) => String(r.column_name));
    expect(columns).toContain('ts_utc');
    const bad = await duck.scalar(
      `SELECT count(*) FROM ${src} WHERE NOT regexp_full_match(ts_utc, '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z')`,
    );
    expect(Number(bad)).toBe(0);
  });

  it('writes the 5B local wall clocks without a zone suffix and nulls settlement zones of physical merchants', async () => {
    const src = parquetOf(world, 'arrival_events_5B');
    const bad = await duck.scalar(
      `SELECT count(*) FROM ${src} WHERE NOT regexp_full_match(ts_local_primary, '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}')`,
    );
    expect(Number(bad)).toBe(0);
    const mixed = await duck.rows(
      `SELECT is_virtual, count(tzid_settlement) AS zones, count(site_id) AS sites, count(edge_id) AS edges, count(*) AS n FROM ${src} GROUP BY ALL`,
    );
    for (const row of mixed) {
      const [zones, sites, edges, n] = [row.zones, row.sites, row.edges, row.n].map(Number);
      if (row.is_virtual === true) expect([zones, sites, edges]).toEqual([n, 0, n]);
      else expect([zones, sites, edges]).toEqual([0, n, 0]);
    }
  });

  it.each(WORLD_OUTPUT_IDS)('%s rows carry exactly the path tokens', async (outputId) => {
    const output = world.summary.outputs.find((o) => o.outputId === outputId);
    const tokens = Object.fromEntries(
      (output?.directory ?? '')
        .split('/')
        .filter((s) => s.includes('='))
        .map((s) => s.split('=') as [string, string]),
    );
    expect(Object.keys(tokens).sort()).toEqual([...WORLD_CATALOGUE[outputId].partitions].sort());
    const src = parquetOf(world, outputId);
    const extra = outputId === 'arrival_events_5B' ? ', parameter_hash' : '';
    const rows = await duck.rows(
      `SELECT DISTINCT CAST(seed AS VARCHAR) AS seed, manifest_fingerprint, scenario_id${extra}${extra ? '' : ', parameter_hash'} FROM ${src}`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      seed: tokens.seed,
      manifest_fingerprint: tokens.manifest_fingerprint,
      scenario_id: tokens.scenario_id,
      parameter_hash: tokens.parameter_hash ?? world.summary.parameterHash,
    });
  });

  it('writes real 64-bit ids, many beyond 2^53, read back losslessly as BigInt', async () => {
    const rows = await duck.rows(
      `SELECT flow_id, CAST(flow_id AS VARCHAR) AS flow_text, merchant_id, CAST(merchant_id AS VARCHAR) AS merchant_text, account_id ` +
        `FROM ${parquetOf(world, 's3_flow_anchor_with_fraud_6B')}`,
    );
    const beyond = (v: unknown) => typeof v === 'bigint' && v > 2n ** 53n;
    expect(rows.filter((r) => beyond(r.flow_id)).length).toBeGreaterThan(rows.length * 0.9);
    expect(rows.filter((r) => beyond(r.account_id)).length).toBeGreaterThan(rows.length * 0.9);
    expect(rows.some((r) => typeof r.merchant_id === 'bigint' && r.merchant_id > 2n ** 63n)).toBe(true);
    for (const r of rows) {
      expect(r.flow_id).toBe(BigInt(String(r.flow_text)));
      expect(r.merchant_id).toBe(BigInt(String(r.merchant_text)));
    }
  });

  it('spreads rows over at least three part files with interleaved times and exact ties across files', async () => {
    for (const o of world.summary.outputs) expect(`${o.outputId}:${o.parts >= 3}`).toBe(`${o.outputId}:true`);
    const src = parquetOf(world, 's3_event_stream_with_fraud_6B', ', filename = true');
    const ranges = await duck.rows(
      `SELECT filename, min(ts_utc) AS lo, max(ts_utc) AS hi FROM ${src} GROUP BY filename ORDER BY filename`,
    );
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    for (const a of ranges)
      for (const b of ranges) if (a !== b) expect(String(a.lo) < String(b.hi)).toBe(true);
    const ties = await duck.scalar(
      `SELECT count(*) FROM (SELECT ts_utc FROM ${src} GROUP BY ts_utc HAVING count(DISTINCT filename) > 1)`,
    );
    expect(Number(ties)).toBeGreaterThan(0);
  });
});
