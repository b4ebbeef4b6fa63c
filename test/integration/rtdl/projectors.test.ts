import { randomInt } from 'node:crypto';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaClient } from '../../../lib/adapters/aws-clients.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { toEventRecord } from '../../../local/event-source-mapping/kinesis-event.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * The four RTDL projectors on the shared local cloud, through the bus: records put on the Kinesis streams reach
 * them by their event-source mappings (the real poller), and they are asked through their task (Lambda invoke).
 * downstream.md §9 #13, #14, #15, plus: a redelivered record (the mapping's at-least-once, replayed by invoking the
 * function with the same Kinesis record) changes no state; a payload-mismatch replay is an anomaly row and state is
 * unchanged; a record of another platform run is skipped and counted; a malformed record is set aside with a reason
 * and the shard moves on; the online features' windows rise and fall in event time.
 */

const { state } = inject('stack');
const { kinesis, s3 } = clientsFor(state);
const lambda = lambdaClient({ region: state.region, lambda: state.endpoints.lambda });
const db = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** A run id no other test uses (a year no run is pinned in). */
const RUN = `platform_2031${pad(randomInt(1, 13))}${pad(randomInt(1, 29))}T${pad(randomInt(0, 24))}${pad(randomInt(0, 60))}${pad(randomInt(0, 60))}Z`;
const OTHER_RUN = 'platform_20300101T000000Z';
const SCENARIO_RUN = '3'.repeat(32);
const PINS = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  manifest_fingerprint: 'a'.repeat(64),
  parameter_hash: 'b'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
  run_id: '1'.repeat(32),
};
const TOPIC = {
  traffic: 'fp.bus.traffic.fraud.v1',
  arrival: 'fp.bus.context.arrival_events.v1',
  anchor: 'fp.bus.context.flow_anchor.fraud.v1',
};
const fn = (name: string) => `fraud-platform-local-${name}`;
let serial = 0;
const unique = () => `${Date.now()}${pad(++serial, 4)}`;

function envelope(eventType: string, tsUtc: string, payload: Record<string, unknown>, extra = {}) {
  return {
    event_id: `evt-${unique()}`,
    event_type: eventType,
    ts_utc: tsUtc,
    schema_version: 'v1',
    ...PINS,
    payload,
    ...extra,
  };
}

async function put(topic: string, data: string, partitionKey = `pk-${unique()}`) {
  const answer = await kinesis.send(
    new PutRecordCommand({ StreamName: topic, PartitionKey: partitionKey, Data: Buffer.from(data) }),
  );
  return { topic, data, shardId: answer.ShardId ?? '', sequenceNumber: answer.SequenceNumber ?? '' };
}
const putEnvelope = (topic: string, value: unknown) => put(topic, canonicalJson(value));
const putOn = (partitionKey: string, topic: string, value: unknown) =>
  put(topic, canonicalJson(value), partitionKey);

async function invoke<T>(name: string, payload: unknown): Promise<T> {
  const answer = await lambda.send(
    new InvokeCommand({ FunctionName: fn(name), Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8');
  if (answer.FunctionError) throw new Error(`${name} failed: ${text}`);
  return parseJsonLossless(text) as T;
}

/** The same Kinesis record again, as the mapping delivers it after a retry: same shard, same sequence number. */
function redeliver(
  name: string,
  records: { topic: string; data: string; shardId: string; sequenceNumber: string }[],
) {
  return invoke<{ batchItemFailures: unknown[] }>(name, {
    Records: records.map((r) =>
      toEventRecord(
        { SequenceNumber: r.sequenceNumber, PartitionKey: 'redelivered', Data: Buffer.from(r.data) },
        {
          shardId: r.shardId,
          streamArn: `arn:aws:kinesis:${state.region}:000000000000:stream/${r.topic}`,
          region: state.region,
          invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
        },
      ),
    ),
  });
}

interface Report {
  counts: { seen: number; applied: number; duplicate: number; skipped: number; failed: number };
  health_state: string;
  documents: Record<string, string>;
}
const report = (name: string) => invoke<Report>(name, { action: 'report', platform_run_id: RUN });

function featuresRequest(asOf: string, keys: { key_type: string; key_id: string }[]) {
  return {
    action: 'get_features',
    request: {
      request_id: `req-${unique()}`,
      pins: PINS,
      as_of_time_utc: asOf,
      feature_keys: keys,
      feature_groups: [{ name: 'core_features', version: 'v1' }],
    },
  };
}
type Features = Record<string, Record<string, unknown>>;
async function features(
  asOf: string,
  key: { key_type: string; key_id: string },
): Promise<Record<string, unknown>> {
  const answer = await invoke<{ status: string; snapshot?: { features: Features } }>(
    'online-features',
    featuresRequest(asOf, [key]),
  );
  return answer.snapshot?.features[`${key.key_type}:${key.key_id}`] ?? {};
}
/** Polls the features until `done` holds for them. */
async function featuresWhen(
  asOf: string,
  key: { key_type: string; key_id: string },
  done: (f: Record<string, unknown>) => boolean,
  what: string,
) {
  return eventually(async () => {
    const f = await features(asOf, key);
    return done(f) ? f : undefined;
  }, what);
}

const contextQuery = (request: Record<string, unknown>) =>
  invoke<{ status: string; reason_codes?: string[] }>('context-store', {
    action: 'query',
    request: { request_id: `q-${unique()}`, pins: PINS, ...request },
  });

beforeAll(async () => {
  // The projectors scope themselves to the active run.
  await db.query(
    `INSERT INTO platform_runs (platform_run_id, pinned_at_utc, pinned_by, stream_settings)
     VALUES ($1, now(), 'rtdl-projectors-test', '{}') ON CONFLICT DO NOTHING`,
    [RUN],
  );
  await db.query(
    `INSERT INTO active_run (singleton, platform_run_id, updated_at_utc) VALUES (true, $1, now())
     ON CONFLICT (singleton) DO UPDATE SET platform_run_id = EXCLUDED.platform_run_id, updated_at_utc = now()`,
    [RUN],
  );
});
afterAll(async () => {
  await db.end();
});

describe('RTDL projectors through the bus', () => {
  it('#14 online features: two events of one flow count 2 and sum a+b; a redelivered offset and a replayed event with a new payload change nothing', async () => {
    const flow = `9${unique()}`;
    const key = { key_type: 'flow_id', key_id: flow };
    const first = await putEnvelope(
      TOPIC.traffic,
      envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:01:00.000000Z', {
        flow_id: flow,
        amount: 10.25,
      }),
    );
    const second = envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:02:00.000000Z', {
      flow_id: flow,
      amount: 4.5,
    });
    await putEnvelope(TOPIC.traffic, second);
    const asOf = '2026-03-08T00:05:00.000000Z';
    const both = await featuresWhen(asOf, key, (f) => f.event_count === 2, 'both events applied');
    expect(both).toMatchObject({
      event_count: 2,
      amount_sum: 14.75,
      last_event_ts_utc: '2026-03-08T00:02:00.000000Z',
    });

    const before = (await report('online-features')).counts;
    // At-least-once: the first record delivered again by the mapping.
    expect((await redeliver('online-features', [first])).batchItemFailures).toEqual([]);
    // The second event again at a new offset, with another amount: same event_id, new payload.
    await putEnvelope(TOPIC.traffic, { ...second, payload: { flow_id: flow, amount: 999 } });
    const after = await eventually(async () => {
      const r = (await report('online-features')).counts;
      return r.failed > before.failed && r.duplicate > before.duplicate ? r : undefined;
    }, 'the duplicate and the mismatch counted');
    expect(after.applied).toBe(before.applied);
    expect(after.duplicate).toBe(before.duplicate + 1);
    expect(after.failed).toBe(before.failed + 1);
    expect(await features(asOf, key)).toEqual(both);
    const mismatch = await db.query(
      `SELECT count(*)::int AS n FROM ofp_payload_mismatches WHERE stream_id = $1 AND event_id = $2`,
      [`ofp.v0::${RUN}`, second.event_id],
    );
    expect(mismatch.rows[0]?.n).toBe(1);
  });

  it('online features windows rise and fall back in event time; as_of excludes later events', async () => {
    const flow = `8${unique()}`;
    const key = { key_type: 'flow_id', key_id: flow };
    const at = (minutes: number) =>
      new Date(Date.UTC(2026, 2, 9, 0, minutes)).toISOString().replace('Z', '000Z');
    for (const minute of [0, 5, 30]) // T0, T0+5m, T0+30m
      await putEnvelope(
        TOPIC.traffic,
        envelope('s3_event_stream_with_fraud_6B', at(minute), { flow_id: flow, amount: 1 }),
      );
    await featuresWhen(at(90), key, (f) => f.event_count === 3, 'three events applied');
    const window = async (minute: number) => {
      const f = await features(at(minute), key);
      return [f.event_count_10m, f.event_count_1h, f.event_count];
    };
    expect(await window(6)).toEqual([2, 2, 2]); // the 30-minute event is in the future of T0+6m
    expect(await window(12)).toEqual([1, 2, 2]); // T0 left the 10-minute window
    expect(await window(20)).toEqual([0, 2, 2]);
    expect(await window(31)).toEqual([1, 3, 3]);
    expect(await window(62)).toEqual([0, 2, 3]); // T0 left the hour
    expect(await window(95)).toEqual([0, 0, 3]);
  });

  it('#15 context store: arrival event + flow anchor is READY; a binding alone is MISSING_JOIN_FRAME; an unknown flow MISSING_BINDING; other pins CONFLICT', async () => {
    const merchant = Number(unique().slice(-9));
    const flow = `7${unique()}`;
    await putEnvelope(
      TOPIC.arrival,
      envelope('arrival_events_5B', '2026-03-08T00:01:00.000000Z', { merchant_id: merchant, arrival_seq: 1 }),
    );
    await putEnvelope(
      TOPIC.anchor,
      envelope('s3_flow_anchor_with_fraud_6B', '2026-03-08T00:01:01.000000Z', {
        merchant_id: merchant,
        arrival_seq: 1,
        flow_id: flow,
        amount: 3,
      }),
    );
    const lonely = `6${unique()}`;
    await putEnvelope(
      TOPIC.anchor,
      envelope('s3_flow_anchor_with_fraud_6B', '2026-03-08T00:01:02.000000Z', {
        merchant_id: merchant,
        arrival_seq: 2,
        flow_id: lonely,
        amount: 3,
      }),
    );
    const ready = await eventually(async () => {
      const answer = await contextQuery({ query_kind: 'resolve_flow_binding', flow_id: flow });
      return answer.status === 'READY' ? answer : undefined;
    }, 'the flow binding READY');
    expect(ready.status).toBe('READY');
    const alone = await eventually(async () => {
      const answer = await contextQuery({ query_kind: 'resolve_flow_binding', flow_id: lonely });
      return answer.status === 'MISSING_BINDING' ? undefined : answer;
    }, 'the lonely binding applied');
    expect(alone.status).toBe('MISSING_JOIN_FRAME');
    expect((await contextQuery({ query_kind: 'resolve_flow_binding', flow_id: `5${unique()}` })).status).toBe(
      'MISSING_BINDING',
    );
    const conflict = await invoke<{ status: string }>('context-store', {
      action: 'query',
      request: {
        request_id: 'q-conflict',
        pins: { ...PINS, manifest_fingerprint: 'c'.repeat(64) },
        query_kind: 'resolve_flow_binding',
        flow_id: flow,
      },
    });
    expect(conflict.status).toBe('CONFLICT');
    expect(
      (await invoke<{ status: string }>('context-store', { action: 'query', request: { nonsense: 1 } }))
        .status,
    ).toBe('INVALID_REQUEST');
  });

  it('#13 identity graph: a decision_response is irrelevant — no apply failure, counted, and the shard moves on', async () => {
    const irrelevant = async () =>
      Number(
        (
          await db.query<{ n: string | null }>(
            `SELECT sum(metric_value)::text AS n FROM ieg_metrics WHERE stream_id = $1 AND metric_name = 'irrelevant'`,
            [`ieg.v0::${RUN}`],
          )
        ).rows[0]?.n ?? 0,
      );
    const before = await irrelevant();
    const pk = `pk-${unique()}`; // one partition key: both records on one shard, in this order
    const decision = envelope('decision_response', '2026-03-08T00:03:00.000000Z', {
      decision_id: unique(),
      source_event: { event_id: 'x' },
    });
    await put(TOPIC.traffic, canonicalJson(decision), pk);
    const after = await put(
      TOPIC.traffic,
      canonicalJson(
        envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:03:01.000000Z', {
          flow_id: `4${unique()}`,
          amount: 1,
        }),
      ),
      pk,
    );
    // The record behind it on the shard is applied: the offset advanced past the decision.
    await eventually(async () => {
      const res = await db.query('SELECT 1 FROM ieg_dedupe WHERE stream_id = $1 AND first_offset = $2', [
        `ieg.v0::${RUN}`,
        after.sequenceNumber,
      ]);
      return res.rowCount === 1 ? true : undefined;
    }, 'the next traffic record applied');
    expect(await irrelevant()).toBe(before + 1);
    const failures = await db.query(
      'SELECT 1 FROM ieg_apply_failures WHERE stream_id = $1 AND event_id = $2',
      [`ieg.v0::${RUN}`, decision.event_id],
    );
    expect(failures.rowCount).toBe(0);
  });

  it('a record of another platform run is skipped and counted; a malformed record is set aside with a reason and the shard moves on', async () => {
    // Per record, not by global counters: the shared stack's projectors keep skipping other tests' runs meanwhile.
    const notJson = async () =>
      Number(
        (
          await db.query<{ n: string | null }>(
            `SELECT sum(value)::text AS n FROM archive_writer_counters
             WHERE stream_id = $1 AND metric = 'skipped.RECORD_NOT_JSON'`,
            [`archive_writer.v0::${RUN}`],
          )
        ).rows[0]?.n ?? 0,
      );
    const notJsonBefore = await notJson();
    const flowOther = `3${unique()}`;
    const pk = `pk-${unique()}`; // one partition key: the three records land on one shard, in this order
    const other = await putOn(
      pk,
      TOPIC.traffic,
      envelope(
        's3_event_stream_with_fraud_6B',
        '2026-03-08T00:04:00.000000Z',
        { flow_id: flowOther, amount: 1 },
        { platform_run_id: OTHER_RUN },
      ),
    );
    const malformed = await put(TOPIC.traffic, '{"event_id": "not json', pk);
    const flow = `2${unique()}`;
    await put(
      TOPIC.traffic,
      canonicalJson(
        envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:04:01.000000Z', {
          flow_id: flow,
          amount: 2,
        }),
      ),
      pk,
    );
    await featuresWhen(
      '2026-03-08T00:05:00.000000Z',
      { key_type: 'flow_id', key_id: flow },
      (f) => f.event_count === 1,
      'the record after the malformed one applied',
    );
    // Identity graph: a failure row each — RUN_SCOPE_MISMATCH (a skip) and ENVELOPE_INVALID.
    const failures = await eventually(async () => {
      const res = await db.query<{ offset: string; reason_code: string }>(
        `SELECT "offset", reason_code FROM ieg_apply_failures WHERE stream_id = $1 AND "offset" = ANY($2)`,
        [`ieg.v0::${RUN}`, [other.sequenceNumber, malformed.sequenceNumber]],
      );
      return res.rows.length === 2 ? res : undefined;
    }, 'the identity graph recorded both');
    expect(Object.fromEntries(failures.rows.map((r) => [r.offset, r.reason_code]))).toEqual({
      [other.sequenceNumber]: 'RUN_SCOPE_MISMATCH',
      [malformed.sequenceNumber]: 'ENVELOPE_INVALID',
    });
    // Online features: both offsets seen once (skipped: run_scope_mismatch, invalid_envelope), neither applied.
    const seen = await db.query<{ offset: string }>(
      `SELECT "offset" FROM ofp_applied_events WHERE stream_id = $1 AND "offset" = ANY($2)`,
      [`ofp.v0::${RUN}`, [other.sequenceNumber, malformed.sequenceNumber]],
    );
    expect(seen.rows.map((r) => r.offset).sort()).toEqual(
      [other.sequenceNumber, malformed.sequenceNumber].sort(),
    );
    // Archive writer: neither archived; the malformed one counted RECORD_NOT_JSON in the run's scope.
    const archived = await db.query('SELECT 1 FROM archive_writer_offsets WHERE offset_value = ANY($1)', [
      [other.sequenceNumber, malformed.sequenceNumber],
    ]);
    expect(archived.rowCount).toBe(0);
    expect(
      await eventually(
        async () => ((await notJson()) > notJsonBefore ? notJson() : undefined),
        'the skip counted',
      ),
    ).toBe(notJsonBefore + 1);
    expect(
      (await features('2026-03-08T00:05:00.000000Z', { key_type: 'flow_id', key_id: flowOther })).event_count,
    ).toBeUndefined();
  });

  it('a record Postgres refuses (a NUL character in an identifier) is set aside with its bytes; the shard moves on', async () => {
    const pk = `pk-${unique()}`;
    const poison = await putOn(
      pk,
      TOPIC.arrival,
      envelope('arrival_events_5B', '2026-03-08T00:07:00.000000Z', {
        merchant_id: 'm\u0000x',
        arrival_seq: 1,
      }),
    );
    const merchant = Number(unique().slice(-9));
    const next = await putOn(
      pk,
      TOPIC.arrival,
      envelope('arrival_events_5B', '2026-03-08T00:07:01.000000Z', { merchant_id: merchant, arrival_seq: 1 }),
    );
    await eventually(async () => {
      const res = await db.query('SELECT 1 FROM ieg_dedupe WHERE stream_id = $1 AND first_offset = $2', [
        `ieg.v0::${RUN}`,
        next.sequenceNumber,
      ]);
      return res.rowCount === 1 ? true : undefined;
    }, 'the record after the poison applied');
    const partition = Number(/(\d+)$/.exec(poison.shardId)?.[1]);
    const evidence = await s3.send(
      new GetObjectCommand({
        Bucket: 'fraud-platform',
        Key: `${RUN}/identity-graph/poison/topic=${TOPIC.arrival}/partition=${partition}/offset=${poison.sequenceNumber}.json`,
      }),
    );
    const body = JSON.parse((await evidence.Body?.transformToString()) ?? '{}');
    expect(body).toMatchObject({
      component: 'identity-graph',
      reason_code: 'RECORD_UNSTORABLE',
      data: poison.data,
    });
  });

  it('archive writer: a redelivered record is a duplicate; the same offset with other bytes is a PAYLOAD_MISMATCH anomaly, the ledger row unchanged', async () => {
    const record = await putEnvelope(
      TOPIC.traffic,
      envelope('s3_event_stream_with_fraud_6B', '2026-03-08T00:06:00.000000Z', {
        flow_id: `1${unique()}`,
        amount: 5,
      }),
    );
    const ledger = async () =>
      (
        await db.query<{ payload_hash: string; archive_ref: string }>(
          `SELECT payload_hash, archive_ref FROM archive_writer_offsets WHERE stream_id = $1 AND offset_value = $2`,
          [`archive_writer.v0::${RUN}`, record.sequenceNumber],
        )
      ).rows[0];
    const row = await eventually(ledger, 'the record archived');
    const before = (await report('archive-writer')).counts;
    expect((await redeliver('archive-writer', [record])).batchItemFailures).toEqual([]);
    const tampered = { ...record, data: record.data.replace('"amount":5', '"amount":6') };
    expect((await redeliver('archive-writer', [tampered])).batchItemFailures).toEqual([]);
    const after = await report('archive-writer');
    expect(after.counts.duplicate).toBe(before.duplicate + 1);
    expect(after.counts.failed).toBe(before.failed + 1);
    expect(after.health_state).toBe('RED');
    expect(await ledger()).toEqual(row);
    const anomalies = await db.query(
      `SELECT 1 FROM archive_writer_offset_mismatches WHERE stream_id = $1 AND offset_value = $2`,
      [`archive_writer.v0::${RUN}`, record.sequenceNumber],
    );
    expect(anomalies.rowCount).toBe(1);
  });
});
