import path from 'node:path';
import { PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import pg from 'pg';
import { kinesisClient } from '../lib/adapters/aws-clients.ts';
import { canonicalJson, pyFloat } from '../lib/contracts/canonical-json.ts';
import { dedupeKey, sha256Hex } from '../lib/contracts/identity.ts';
import { routeEnvelope } from '../lib/contracts/partitioning.ts';
import { startEphemeralStack } from '../local/ephemeral-stack.ts';
import { stackDown, stackUp } from '../local/stack.ts';
import { stackConfig } from '../local/stack-config.ts';
import { type Bench, type BenchOutcome, median, ratio, row } from './report.ts';

/**
 * `npm run bench -- ingest`: IG admitted events/s through its HTTP API (single push and batch push) on a
 * throwaway local cloud, beside the substrate ceiling measured in the same run on the same kind of records:
 * kinesalite PutRecords (500 per call) plus a Postgres multi-row insert of the keys and records, and the same one
 * record per call (PutRecord + single-row insert, 8 in flight) beside the single pushes. The batch push and the
 * batched ceiling run in interleaved rounds (the machine's load changes under both alike); the figures are the
 * medians. `--smoke`: 100 single pushes, one round of 1,000.
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

const ratio2 = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const key = (e: { event_id: string }) => dedupeKey(PRID, 'traffic_fraud', e.event_id);

/** Substrate records made before any clock starts (the producer's serialiser is not the measured cost). */
function substrateRecords(n: number, tag: string) {
  return envelopes(n, tag).map((e) => ({
    key: key(e),
    partitionKey: routeEnvelope(e).partitionKey,
    data: canonicalJson(e),
  }));
}

const SIZES = {
  full: { single: 2_000, perRound: 10_000, rounds: 3, batchInFlight: 4, floorRequests: 400 },
  smoke: { single: 100, perRound: 1_000, rounds: 1, batchInFlight: 2, floorRequests: 40 },
};

/** Full sizes can be changed with BENCH_INGEST_SINGLE, _BATCH, _ROUNDS and _BATCH_IN_FLIGHT. */
function sizes(smoke: boolean) {
  if (smoke) return SIZES.smoke;
  const f = SIZES.full;
  return {
    single: Number(process.env.BENCH_INGEST_SINGLE ?? f.single),
    perRound: Number(process.env.BENCH_INGEST_BATCH ?? f.perRound),
    rounds: Number(process.env.BENCH_INGEST_ROUNDS ?? f.rounds),
    // Batches in flight: a producer per output (the parity world has 4 streamed outputs).
    batchInFlight: Number(process.env.BENCH_INGEST_BATCH_IN_FLIGHT ?? f.batchInFlight),
    floorRequests: f.floorRequests,
  };
}

export const ingestBench: Bench = {
  name: 'ingest',
  summary: 'Ingestion Gate admitted events/s (single and batch push) beside the substrate ceiling',
  run: ({ smoke, say }) => benchIngest(sizes(smoke), say),
};

async function benchIngest(
  size: ReturnType<typeof sizes>,
  say: (line: string) => void,
): Promise<BenchOutcome> {
  const { single, perRound, rounds, batchInFlight } = size;
  say(
    `bench ingest: a throwaway local cloud; ${single} single pushes; ${rounds} rounds of ${perRound} in batches of 500 and the batched ceiling`,
  );
  const stack = await startEphemeralStack(path.resolve('.'), 'bench-ingest', () => undefined);
  const db = new pg.Pool({ connectionString: stack.state.databaseUrl, max: 8 });
  try {
    const base = stack.state.endpoints.http;
    const kinesis = kinesisClient({ region: stack.state.region, ...stack.state.endpoints });
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
      Array.from({ length: size.floorRequests }, (_, i) => i),
      8,
      async () => {
        const res = await fetch(`${base}/v1/ops/health`, { headers: { 'x-ig-api-key': KEY } });
        await res.text();
      },
    );
    const floorRate = size.floorRequests / ((performance.now() - t0) / 1000);
    say(`  local Lambda floor: GET /v1/ops/health ${Math.round(floorRate)} requests/s (8 in flight)`);

    const one = envelopes(single, 'single').map((e) => canonicalJson(e));
    t0 = performance.now();
    let admitted = 0;
    await pool(one, 8, async (body) => {
      const r = await post(base, '/v1/ingest/push', body);
      if (r.decision === 'ADMIT') admitted++;
    });
    const singleRate = admitted / ((performance.now() - t0) / 1000);
    say(`  single push: ${admitted} admitted, ${Math.round(singleRate)} ev/s (8 in flight)`);

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
    say(
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
      say(
        `  round ${round}: batch push ${Math.round(batchRates.at(-1) ?? 0)} ev/s (${batchInFlight} batches in flight); ceiling: kinesalite PutRecords ${Math.round(kinesisRates.at(-1) ?? 0)} rec/s + Postgres multi-row insert ${Math.round(postgresRates.at(-1) ?? 0)} rows/s = ${Math.round(ceilingRates.at(-1) ?? 0)} ev/s`,
      );
    }
    await db.query('DROP TABLE bench_keys');

    // The edge's overhead: the same batch rounds with the functions' AWS calls (Kinesis, S3) sent through the edge
    // endpoint instead of each part's port, between direct rounds before (above) and after (A-B-A, so a drift in
    // the machine's load shows on both sides).
    const directRoute = stack.config;
    const edgeRoute = stackConfig({ ...stack.env, LOCAL_AWS_CALLS: 'edge' });
    const batchRound = async (tag: string) => {
      const many = envelopes(perRound, tag);
      const bodies: string[] = [];
      for (let i = 0; i < many.length; i += 500)
        bodies.push(canonicalJson({ envelopes: many.slice(i, i + 500) }));
      const t = performance.now();
      let n = 0;
      await pool(bodies, batchInFlight, async (body) => {
        const r = await post(base, '/v1/ingest/batch', body);
        n += Number(r.admitted ?? 0);
      });
      return n / ((performance.now() - t) / 1000);
    };
    const restartLambda = async (config: typeof directRoute, tag: string) => {
      await stackDown(config, () => undefined, ['lambda']);
      await stackUp(config, () => undefined);
      await pool(
        Array.from({ length: 2 * batchInFlight }, (_, i) => i),
        batchInFlight,
        async (i) => {
          await post(
            base,
            '/v1/ingest/batch',
            canonicalJson({ envelopes: envelopes(500, `${tag}-warm-${i}`) }),
          );
        },
      );
    };
    const edgeRates: number[] = [];
    await restartLambda(edgeRoute, 'edge');
    for (let round = 1; round <= rounds; round++) {
      edgeRates.push(await batchRound(`edge-${round}`));
      say(
        `  edge round ${round}: batch push ${Math.round(edgeRates.at(-1) ?? 0)} ev/s (the functions' AWS calls through the edge)`,
      );
    }
    await restartLambda(directRoute, 'direct-after');
    const directAfter: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      directAfter.push(await batchRound(`direct-after-${round}`));
      say(`  direct round ${round} (after): batch push ${Math.round(directAfter.at(-1) ?? 0)} ev/s`);
    }

    const batchRate = median(batchRates);
    const ceilingRate = median(ceilingRates);
    const batchRow = row(
      `IG batch push (500 a request, ${batchInFlight} in flight; median of ${rounds})`,
      batchRate,
      'ev/s',
      `rounds: ${batchRates.map(Math.round).join(', ')}`,
    );
    const singleRow = row('IG single push (8 in flight)', singleRate, 'ev/s', `${single} events`);
    const ceilingRow = row(
      'substrate, batched (PutRecords 500 + multi-row insert; median)',
      ceilingRate,
      'ev/s',
      `kinesalite ${Math.round(median(kinesisRates))} rec/s + Postgres ${Math.round(median(postgresRates))} rows/s (the ceiling)`,
    );
    const oneRow = row(
      'substrate, one record per call (PutRecord + insert, 8 in flight)',
      ceilingOneRate,
      'ev/s',
      `kinesalite ${Math.round(perRecord.length / kinesisOneSeconds)} rec/s + Postgres ${Math.round(perRecord.length / pgOneSeconds)} rows/s (the single-push ceiling)`,
    );
    const directRow = row(
      'IG batch push, AWS calls to each part (median, before and after)',
      median([...batchRates, ...directAfter]),
      'ev/s',
      `rounds: ${[...batchRates, ...directAfter].map(Math.round).join(', ')}`,
    );
    const edgeRow = row(
      "IG batch push, the functions' AWS calls through the edge (median)",
      median(edgeRates),
      'ev/s',
      `rounds: ${edgeRates.map(Math.round).join(', ')}`,
    );
    const floorRow = row(
      'local Lambda floor (GET /v1/ops/health, 8 in flight)',
      floorRate,
      'req/s',
      'auth and a cached health report, no store',
    );
    return {
      rows: [batchRow, singleRow, ceilingRow, oneRow, floorRow, directRow, edgeRow],
      ratios: [
        ratio(
          edgeRow,
          directRow,
          'through the edge / direct to the parts: the edge overhead (goal: at least 0.9)',
        ),
        ratio(
          batchRow,
          ceilingRow,
          'batch push / batched substrate ceiling (same records, interleaved rounds)',
        ),
        ratio(singleRow, ceilingRow, 'single push / batched substrate ceiling'),
        ratio(singleRow, oneRow, 'single push / one-record-per-call substrate ceiling'),
      ],
      notes: {
        sizes: size,
        ceiling:
          'kinesalite PutRecords (500 per call) plus a Postgres multi-row insert of the same keys and records, measured in rounds interleaved with the batch pushes; medians',
      },
      detail: {
        batchPerRound: batchRates.map(Math.round),
        ceilingPerRound: ceilingRates.map(Math.round),
        batchVsCeilingPerRound: batchRates.map((b, i) => ratio2(b, ceilingRates[i] as number)),
        kinesisPerRound: kinesisRates.map(Math.round),
        postgresPerRound: postgresRates.map(Math.round),
        edgePerRound: edgeRates.map(Math.round),
        directAfterPerRound: directAfter.map(Math.round),
      },
    };
  } finally {
    await db.end();
    await stack.stop();
  }
}
