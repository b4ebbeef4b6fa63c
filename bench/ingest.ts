import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import pg from 'pg';
import { kinesisClient } from '../lib/adapters/aws-clients.ts';
import { canonicalJson, pyFloat } from '../lib/contracts/canonical-json.ts';
import { dedupeKey, sha256Hex } from '../lib/contracts/identity.ts';
import { routeEnvelope } from '../lib/contracts/partitioning.ts';
import { startEphemeralStack } from '../local/ephemeral-stack.ts';

/**
 * `npm run bench -- ingest`: IG admitted events/s through its HTTP API (single push and batch push) on a
 * throwaway local cloud, beside the substrate ceiling measured in the same run on the same kind of records:
 * kinesalite PutRecords (500 per call) plus a Postgres multi-row insert of the keys and records, and the same one
 * record per call (PutRecord + single-row insert, 8 in flight) beside the single pushes. The batch push and the
 * batched ceiling run in interleaved rounds (the machine's load changes under both alike); the figures are the
 * medians. Writes bench/results/ingest.json.
 */

const KEY = 'local-parity-wsp';
const PRID = 'platform_20260305T000000Z';

function envelopes(n: number, tag: string) {
  return Array.from({ length: n }, (_, i) => {
    const flowId = 9_100_000_000_000_000_000n + BigInt(i);
    return {
      event_id: sha256Hex(`bench-${tag}-${i}`),
      event_type: 's3_event_stream_with_fraud_6B',
      ts_utc: '2026-03-08T00:01:03.106979Z',
      manifest_fingerprint: 'a'.repeat(64),
      parameter_hash: 'b'.repeat(64),
      seed: 42,
      scenario_id: 'baseline_v1',
      run_id: '1'.repeat(32),
      platform_run_id: PRID,
      scenario_run_id: '2'.repeat(32),
      producer: 'svc:world_stream_producer',
      payload: {
        flow_id: flowId,
        event_seq: i % 7,
        event_type: 'AUTH_REQUEST',
        ts_utc: '2026-03-08T00:01:03.106979',
        amount: pyFloat(10 + (i % 100)),
        seed: 42n,
        manifest_fingerprint: 'a'.repeat(64),
        parameter_hash: 'b'.repeat(64),
        scenario_id: 'baseline_v1',
        fraud_flag: i % 50 === 0,
        campaign_id: null,
      },
    };
  });
}

async function post(base: string, route: string, body: string) {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ig-api-key': KEY },
    body,
  }).catch((error: Error) => {
    throw new Error(
      `POST ${base}${route}: ${error.message} (${String((error.cause as Error | undefined)?.message ?? '')})`,
    );
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${route} answered ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        await work(items[i] as T);
      }
    }),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const key = (e: { event_id: string }) => dedupeKey(PRID, 'traffic_fraud', e.event_id);

/** Substrate records made before any clock starts (the producer's serialiser is not the measured cost). */
function substrateRecords(n: number, tag: string) {
  return envelopes(n, tag).map((e) => ({
    key: key(e),
    partitionKey: routeEnvelope(e).partitionKey,
    data: canonicalJson(e),
  }));
}

export async function benchIngest(): Promise<void> {
  const single = Number(process.env.BENCH_INGEST_SINGLE ?? 2_000);
  const perRound = Number(process.env.BENCH_INGEST_BATCH ?? 10_000);
  const rounds = Number(process.env.BENCH_INGEST_ROUNDS ?? 3);
  // Batches in flight: a producer per output (the parity world has 4 streamed outputs).
  const batchInFlight = Number(process.env.BENCH_INGEST_BATCH_IN_FLIGHT ?? 4);
  console.log(
    `bench ingest: a throwaway local cloud; ${single} single pushes; ${rounds} rounds of ${perRound} in batches of 500 and the batched ceiling`,
  );
  const stack = await startEphemeralStack(path.resolve('.'), 'bench-ingest', () => undefined);
  try {
    const base = stack.state.endpoints.http;
    const kinesis = kinesisClient({ region: stack.state.region, ...stack.state.endpoints });
    const db = new pg.Pool({ connectionString: stack.state.databaseUrl, max: 8 });
    await db.query('CREATE TABLE bench_keys (dedupe_key text PRIMARY KEY, record text NOT NULL)');
    // Warm the Lambda containers (pools, clients, the JIT), not measured: 8 pushes at once, then two batches for
    // each container the batch rounds keep busy.
    await pool(envelopes(8, 'warm'), 8, async (e) => {
      await post(base, '/v1/ingest/push', canonicalJson(e));
    });
    await pool(
      Array.from({ length: 2 * batchInFlight }, (_, i) => i),
      batchInFlight,
      async (i) => {
        await post(base, '/v1/ingest/batch', canonicalJson({ envelopes: envelopes(500, `warm-batch-${i}`) }));
      },
    );

    // The local Lambda floor: GET /v1/ops/health (auth, a cached health report, no store) at the same concurrency.
    let t0 = performance.now();
    await pool(
      Array.from({ length: 400 }, (_, i) => i),
      8,
      async () => {
        const res = await fetch(`${base}/v1/ops/health`, { headers: { 'x-ig-api-key': KEY } });
        await res.text();
      },
    );
    const floorRate = 400 / ((performance.now() - t0) / 1000);
    console.log(`  local Lambda floor: GET /v1/ops/health ${Math.round(floorRate)} requests/s (8 in flight)`);

    const one = envelopes(single, 'single').map((e) => canonicalJson(e));
    t0 = performance.now();
    let admitted = 0;
    await pool(one, 8, async (body) => {
      const r = await post(base, '/v1/ingest/push', body);
      if (r.decision === 'ADMIT') admitted++;
    });
    const singleRate = admitted / ((performance.now() - t0) / 1000);
    console.log(`  single push: ${admitted} admitted, ${Math.round(singleRate)} ev/s (8 in flight)`);

    const perRecord = substrateRecords(single, 'ceiling-single');
    t0 = performance.now();
    await pool(perRecord, 8, async (r) => {
      await kinesis.send(
        new PutRecordCommand({
          StreamName: 'fp.bus.traffic.fraud.v1',
          PartitionKey: r.partitionKey,
          Data: Buffer.from(r.data),
        }),
      );
    });
    const kinesisOneSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    await pool(perRecord, 8, async (r) => {
      await db.query('INSERT INTO bench_keys VALUES ($1, $2) ON CONFLICT DO NOTHING', [r.key, r.data]);
    });
    const pgOneSeconds = (performance.now() - t0) / 1000;
    const ceilingOneRate = perRecord.length / (kinesisOneSeconds + pgOneSeconds);
    console.log(
      `  substrate, one record per call (8 in flight): kinesalite PutRecord ${Math.round(perRecord.length / kinesisOneSeconds)} rec/s + Postgres insert ${Math.round(perRecord.length / pgOneSeconds)} rows/s = ${Math.round(ceilingOneRate)} ev/s together`,
    );

    const batchRates: number[] = [];
    const ceilingRates: number[] = [];
    const kinesisRates: number[] = [];
    const postgresRates: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const many = envelopes(perRound, `batch-${round}`);
      const bodies: string[] = [];
      for (let i = 0; i < many.length; i += 500)
        bodies.push(canonicalJson({ envelopes: many.slice(i, i + 500) }));
      t0 = performance.now();
      admitted = 0;
      await pool(bodies, batchInFlight, async (body) => {
        const r = await post(base, '/v1/ingest/batch', body);
        admitted += Number(r.admitted ?? 0);
      });
      batchRates.push(admitted / ((performance.now() - t0) / 1000));

      const records = substrateRecords(perRound, `ceiling-${round}`);
      t0 = performance.now();
      for (let i = 0; i < records.length; i += 500) {
        await kinesis.send(
          new PutRecordsCommand({
            StreamName: 'fp.bus.traffic.fraud.v1',
            Records: records
              .slice(i, i + 500)
              .map((r) => ({ PartitionKey: r.partitionKey, Data: Buffer.from(r.data) })),
          }),
        );
      }
      const kinesisSeconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      for (let i = 0; i < records.length; i += 500) {
        const slice = records.slice(i, i + 500);
        await db.query(
          'INSERT INTO bench_keys SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
          [slice.map((r) => r.key), slice.map((r) => r.data)],
        );
      }
      const pgSeconds = (performance.now() - t0) / 1000;
      kinesisRates.push(records.length / kinesisSeconds);
      postgresRates.push(records.length / pgSeconds);
      ceilingRates.push(records.length / (kinesisSeconds + pgSeconds));
      console.log(
        `  round ${round}: batch push ${Math.round(batchRates.at(-1) ?? 0)} ev/s (${batchInFlight} batches in flight); ceiling: kinesalite PutRecords ${Math.round(kinesisRates.at(-1) ?? 0)} rec/s + Postgres multi-row insert ${Math.round(postgresRates.at(-1) ?? 0)} rows/s = ${Math.round(ceilingRates.at(-1) ?? 0)} ev/s`,
      );
    }
    await db.query('DROP TABLE bench_keys');
    await db.end();

    const batchRate = median(batchRates);
    const ceilingRate = median(ceilingRates);
    const result = {
      when: new Date().toISOString(),
      node: process.version,
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      lambdaFloorRequestsPerSecond: Math.round(floorRate),
      single: { events: single, admittedPerSecond: Math.round(singleRate), inFlight: 8 },
      batch: {
        eventsPerRound: perRound,
        rounds,
        admittedPerSecond: Math.round(batchRate),
        perRound: batchRates.map(Math.round),
        batchSize: 500,
        inFlight: batchInFlight,
      },
      ceiling: {
        kinesisRecordsPerSecond: Math.round(median(kinesisRates)),
        postgresRowsPerSecond: Math.round(median(postgresRates)),
        combinedPerSecond: Math.round(ceilingRate),
        perRound: ceilingRates.map(Math.round),
      },
      ceilingOneRecordPerCall: {
        kinesisRecordsPerSecond: Math.round(perRecord.length / kinesisOneSeconds),
        postgresRowsPerSecond: Math.round(perRecord.length / pgOneSeconds),
        combinedPerSecond: Math.round(ceilingOneRate),
      },
      batchVsCeiling: ratio(batchRate, ceilingRate),
      batchVsCeilingPerRound: batchRates.map((b, i) => ratio(b, ceilingRates[i] as number)),
      singleVsCeiling: ratio(singleRate, ceilingRate),
      singleVsOneRecordCeiling: ratio(singleRate, ceilingOneRate),
    };
    fs.mkdirSync('bench/results', { recursive: true });
    fs.writeFileSync('bench/results/ingest.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log('');
    console.log('| measure | events/s | vs batched ceiling | vs one-record ceiling |');
    console.log('|---|---|---|---|');
    console.log(
      `| IG batch push (500 a request, ${batchInFlight} in flight; median of ${rounds}) | ${result.batch.admittedPerSecond} | ${result.batchVsCeiling}× (rounds: ${result.batchVsCeilingPerRound.join(', ')}) | |`,
    );
    console.log(
      `| IG single push (8 in flight) | ${result.single.admittedPerSecond} | ${result.singleVsCeiling}× | ${result.singleVsOneRecordCeiling}× |`,
    );
    console.log(
      `| substrate, batched (PutRecords 500 + multi-row insert; median) | ${result.ceiling.combinedPerSecond} | 1× | |`,
    );
    console.log(
      `| substrate, one record per call (PutRecord + insert, 8 in flight) | ${result.ceilingOneRecordPerCall.combinedPerSecond} | | 1× |`,
    );
    console.log(
      `| local Lambda floor (GET health, 8 in flight) | ${result.lambdaFloorRequestsPerSecond} req/s | | |`,
    );
    console.log(
      `bench ingest: load average ${result.loadAverage.join(' ')}; results in bench/results/ingest.json`,
    );
  } finally {
    await stack.stop();
  }
}
