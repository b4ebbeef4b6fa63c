import { randomInt } from 'node:crypto';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { lambdaClient } from '../../../lib/adapters/aws-clients.ts';
import { canonicalJson, parseJsonLossless } from '../../../lib/contracts/canonical-json.ts';
import { toEventRecord } from '../../../local/event-source-mapping/kinesis-event.ts';
import { clientsFor } from '../../support/clients.ts';
import { eventually } from '../../support/eventually.ts';

/**
 * What the RTDL projector tests through the bus (test/integration/rtdl/*.test.ts) share: the shared local cloud's
 * clients and database, a run of their own (drawn once per test file) pinned as the active run before the file's
 * tests, envelopes of it put on the Kinesis streams (the real event-source mappings deliver them), the projectors
 * asked through their task (Lambda invoke), and a record redelivered as the mapping would after a retry.
 */

const { state } = inject('stack');
const clients = clientsFor(state);
const { kinesis } = clients;
/** The shared stack's S3: where a projector sets a record aside. */
export const s3 = clients.s3;
const lambda = lambdaClient({ region: state.region, lambda: state.endpoints.lambda });
export const db = new pg.Pool({ connectionString: state.databaseUrl, max: 2 });

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
/** A run id no other test uses (a year no run is pinned in). */
export const RUN = `platform_2031${pad(randomInt(1, 13))}${pad(randomInt(1, 29))}T${pad(randomInt(0, 24))}${pad(randomInt(0, 60))}${pad(randomInt(0, 60))}Z`;
export const OTHER_RUN = 'platform_20300101T000000Z';
const SCENARIO_RUN = '3'.repeat(32);
export const PINS = {
  platform_run_id: RUN,
  scenario_run_id: SCENARIO_RUN,
  manifest_fingerprint: 'a'.repeat(64),
  parameter_hash: 'b'.repeat(64),
  scenario_id: 'baseline_v1',
  seed: 42,
  run_id: '1'.repeat(32),
};
export const TOPIC = {
  traffic: 'fp.bus.traffic.fraud.v1',
  arrival: 'fp.bus.context.arrival_events.v1',
  anchor: 'fp.bus.context.flow_anchor.fraud.v1',
};
const fn = (name: string) => `fraud-platform-local-${name}`;
let serial = 0;
export const unique = () => `${Date.now()}${pad(++serial, 4)}`;

export function envelope(eventType: string, tsUtc: string, payload: Record<string, unknown>, extra = {}) {
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

export async function put(topic: string, data: string, partitionKey = `pk-${unique()}`) {
  const answer = await kinesis.send(
    new PutRecordCommand({ StreamName: topic, PartitionKey: partitionKey, Data: Buffer.from(data) }),
  );
  return { topic, data, shardId: answer.ShardId ?? '', sequenceNumber: answer.SequenceNumber ?? '' };
}
export const putEnvelope = (topic: string, value: unknown) => put(topic, canonicalJson(value));
export const putOn = (partitionKey: string, topic: string, value: unknown) =>
  put(topic, canonicalJson(value), partitionKey);

export async function invoke<T>(name: string, payload: unknown): Promise<T> {
  const answer = await lambda.send(
    new InvokeCommand({ FunctionName: fn(name), Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8');
  if (answer.FunctionError) throw new Error(`${name} failed: ${text}`);
  return parseJsonLossless(text) as T;
}

/** The same Kinesis record again, as the mapping delivers it after a retry: same shard, same sequence number. */
export function redeliver(
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
export const report = (name: string) => invoke<Report>(name, { action: 'report', platform_run_id: RUN });

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
export async function features(
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
export async function featuresWhen(
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

export const contextQuery = (request: Record<string, unknown>) =>
  invoke<{ status: string; reason_codes?: string[] }>('context-store', {
    action: 'query',
    request: { request_id: `q-${unique()}`, pins: PINS, ...request },
  });

/** Pins the run of this test file and makes it the active run: the projectors scope themselves to it. */
export async function pinRunAsActive() {
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
}

/** A test file on the bus: its run pinned as the active run before its tests, the pool closed after them. */
export function onTheBus() {
  beforeAll(pinRunAsActive);
  afterAll(async () => {
    await db.end();
  });
}
