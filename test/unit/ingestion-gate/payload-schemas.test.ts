import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PyFloat, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { ENGINE_PAYLOAD_TYPES, payloadValidator } from '../../../lib/ingestion-gate/payload-schemas.ts';
import { renderPayloadSchemas } from '../../../tools/sync-payload-schemas.ts';
import { generateWorld } from '../../../tools/world/generate.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'payload-schemas-'));
const rows = new Map<string, Record<string, unknown>[]>();

/** Rows of a world output as the World Streamer will send them: 64-bit ints as bigint, doubles as PyFloat. */
async function rowsOf(db: DuckDBInstance, world: string, outputId: string) {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (
        p.includes(`/${outputId.replace('_5B', '').replace(/^arrival_events$/, 'arrival_events')}/`) &&
        p.endsWith('.parquet')
      )
        files.push(p);
    }
  };
  walk(path.join(world, 'data'));
  const c = await db.connect();
  const reader = await c.runAndReadAll(
    `SELECT * FROM read_parquet([${files.map((f) => `'${f}'`).join(',')}], hive_partitioning = false) LIMIT 50`,
  );
  const types = reader.columnTypes().map(String);
  const names = reader.columnNames();
  const out = reader
    .getRows()
    .map((r) =>
      Object.fromEntries(
        r.map((v, i) => [names[i], types[i] === 'DOUBLE' && typeof v === 'number' ? new PyFloat(v) : v]),
      ),
    );
  c.closeSync();
  return out;
}

beforeAll(async () => {
  const world = path.join(dir, 'world');
  await generateWorld({ out: world, events: 500, seed: 3n });
  const db = await DuckDBInstance.create(':memory:');
  for (const t of [
    'arrival_events_5B',
    's1_arrival_entities_6B',
    's3_flow_anchor_with_fraud_6B',
    's3_event_stream_with_fraud_6B',
    's2_event_stream_baseline_6B',
    's2_flow_anchor_baseline_6B',
  ])
    rows.set(t, await rowsOf(db, world, t));
  db.closeSync();
}, 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('IG payload schemas (§5.3 step 4, engine row schemas)', () => {
  it('covers the six engine event types', () => {
    expect([...ENGINE_PAYLOAD_TYPES].sort()).toEqual(
      [
        'arrival_events_5B',
        's1_arrival_entities_6B',
        's2_event_stream_baseline_6B',
        's2_flow_anchor_baseline_6B',
        's3_event_stream_with_fraud_6B',
        's3_flow_anchor_with_fraud_6B',
      ].sort(),
    );
  });

  it('accepts the rows of a generated world for every engine event type', () => {
    for (const [eventType, list] of rows) {
      expect(list.length, eventType).toBeGreaterThan(0);
      for (const row of list) expect(payloadValidator.validate(eventType, row), eventType).toEqual([]);
    }
  });

  it('refuses an extra column in a closed 6B row, a missing required column, a wrong type and a bad pattern', () => {
    const row = rows.get('s3_event_stream_with_fraud_6B')?.[0] ?? {};
    expect(
      payloadValidator.validate('s3_event_stream_with_fraud_6B', { ...row, extra_column: 1 }).join(),
    ).toMatch(/extra_column/);
    const { amount: _a, ...missing } = row;
    expect(payloadValidator.validate('s3_event_stream_with_fraud_6B', missing).join()).toMatch(
      /payload\.amount/,
    );
    expect(
      payloadValidator.validate('s3_event_stream_with_fraud_6B', { ...row, flow_id: 'x' }).join(),
    ).toMatch(/flow_id/);
    expect(
      payloadValidator
        .validate('s3_event_stream_with_fraud_6B', { ...row, manifest_fingerprint: 'nope' })
        .join(),
    ).toMatch(/manifest_fingerprint/);
    expect(payloadValidator.validate('s3_event_stream_with_fraud_6B', undefined)).toEqual([
      'payload: required for an engine event',
    ]);
  });

  it('keeps uint64 bounds exact: 2^64-1 is a valid merchant_id, 2^64 is not', () => {
    const row = rows.get('arrival_events_5B')?.[0] ?? {};
    expect(
      payloadValidator.validate('arrival_events_5B', { ...row, merchant_id: 18_446_744_073_709_551_615n }),
    ).toEqual([]);
    expect(
      payloadValidator.validate('arrival_events_5B', { ...row, merchant_id: 18_446_744_073_709_551_616n }),
    ).not.toEqual([]);
    // As parsed from an HTTP body.
    const parsed = parseJsonLossless('{"v":18446744073709551615}') as { v: bigint };
    expect(payloadValidator.validate('arrival_events_5B', { ...row, merchant_id: parsed.v })).toEqual([]);
  });

  it('non-engine types need only an object payload', () => {
    expect(payloadValidator.validate('decision_response', { anything: true })).toEqual([]);
  });

  it('the checked-in extract is what the engine schemas give today', () => {
    const fresh = renderPayloadSchemas(
      path.resolve(import.meta.dirname, '../../fixtures/engine-reference/engine-schemas'),
    );
    const checkedIn = fs.readFileSync(
      path.resolve(import.meta.dirname, '../../../lib/ingestion-gate/reference/payload-schemas.json'),
      'utf8',
    );
    expect(JSON.parse(fresh)).toEqual(JSON.parse(checkedIn));
  });
});
