import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import pg from 'pg';
import { kinesisClient, lambdaClient, s3Client, sfnClient } from '../lib/adapters/aws-clients.ts';
import { runCli } from '../local/cli-support.ts';
import { startEphemeralStack } from '../local/ephemeral-stack.ts';
import { waitForExecution } from '../local/lifecycle-runner.ts';
import { stackStatus, stackUp } from '../local/stack.ts';
import { ESM_FIXTURE_SCHEMA } from '../test/fixtures/esm-service/schema.ts';
import { benchIngest } from './ingest.ts';
import { benchSort } from './sort.ts';

/**
 * `npm run bench`: the local cloud's own figures on this machine, on a throwaway stack (free ports, temp dir).
 * Writes bench/results/<timestamp>.json and prints a table. Numbers only; nothing here asserts a speed.
 */

interface Row {
  name: string;
  value: number;
  unit: string;
  note: string;
}

const rows: Row[] = [];
const record = (name: string, value: number, unit: string, note = '') => {
  rows.push({ name, value: Math.round(value * 100) / 100, unit, note });
  console.log(`  ${name}: ${rows.at(-1)?.value} ${unit} ${note}`);
};
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

runCli('bench', async () => {
  if (process.argv[2] === 'sort') {
    await benchSort();
    return 0;
  }
  if (process.argv[2] === 'ingest') {
    await benchIngest();
    return 0;
  }
  console.log('bench: starting a throwaway local cloud (cold start is measured)');
  let t0 = performance.now();
  const stack = await startEphemeralStack(path.resolve('.'), 'bench', () => undefined);
  record('stack:up cold', seconds(t0), 's', 'empty data dir: initdb, bundling, bootstrap');
  try {
    t0 = performance.now();
    await stackUp(stack.config, () => undefined);
    record('stack:up warm (API)', seconds(t0), 's', 'already up: health probes only');
    t0 = performance.now();
    await stackStatus(stack.config);
    record('stack:status', seconds(t0), 's');
    t0 = performance.now();
    execFileSync(
      process.execPath,
      [createRequire(import.meta.url).resolve('tsx/cli'), 'local/cli.ts', 'up'],
      { env: { ...process.env, ...stack.env }, stdio: 'ignore' },
    );
    record('stack:up warm (CLI)', seconds(t0), 's', 'the command a user runs, process start included');

    const e = { region: stack.state.region, ...stack.state.endpoints };
    const kinesis = kinesisClient(e);
    const stream = 'fp.bus.case.v1';
    const n = 20_000;
    const payload = Buffer.from(JSON.stringify({ pad: 'x'.repeat(450) }));
    t0 = performance.now();
    for (let i = 0; i < n; i += 500) {
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: Array.from({ length: 500 }, (_, j) => ({
            PartitionKey: `k${(i + j) % 64}`,
            Data: payload,
          })),
        }),
      );
    }
    record('kinesis PutRecords', n / seconds(t0), 'rec/s', `${n} x ~500 B, 500 per call, 1 shard`);
    const shard = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards?.[0]?.ShardId;
    let iterator = (
      await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shard,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    let read = 0;
    t0 = performance.now();
    while (iterator && read < n) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      read += out.Records?.length ?? 0;
      iterator = out.NextShardIterator;
    }
    record('kinesis GetRecords', read / seconds(t0), 'rec/s', '10,000 per call');

    const s3 = s3Client(e);
    const body = 'y'.repeat(10_240);
    const puts = 400;
    t0 = performance.now();
    for (let i = 0; i < puts; i += 16) {
      await Promise.all(
        Array.from({ length: 16 }, (_, j) =>
          s3.send(
            new PutObjectCommand({
              Bucket: 'fraud-platform',
              Key: `bench/${randomUUID()}-${i + j}`,
              Body: body,
              IfNoneMatch: '*',
            }),
          ),
        ),
      );
    }
    record('s3 PutObject If-None-Match', puts / seconds(t0), 'op/s', '10 KB, 16 concurrent');

    const lambda = lambdaClient(e);
    const fn = stack.state.functions.find((f) => f.endsWith('substrate-status')) ?? '';
    await lambda.send(new InvokeCommand({ FunctionName: fn }));
    const invokes: number[] = [];
    for (let i = 0; i < 10; i++) {
      t0 = performance.now();
      await lambda.send(new InvokeCommand({ FunctionName: fn }));
      invokes.push(seconds(t0) * 1000);
    }
    record(
      'lambda invoke (substrate-status) warm p50',
      median(invokes),
      'ms',
      '13 probes of S3, Kinesis, Postgres',
    );

    const sfn = sfnClient(e);
    const machine = stack.state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'))?.arn ?? '';
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      const start = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, input: '{}' }));
      const done = await waitForExecution(sfn, start.executionArn ?? '');
      if (done.status !== 'SUCCEEDED') throw new Error(`run-lifecycle ${done.status}: ${done.cause}`);
      runs.push(seconds(t0) * 1000);
      await new Promise((r) => setTimeout(r, 1000)); // one pin per second
    }
    record('run-lifecycle P0-P1 execution p50', median(runs), 'ms', 'StartExecution to SUCCEEDED, 5 runs');
  } finally {
    await stack.stop();
  }

  await benchEventSourceMappings();

  const result = {
    when: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30) },
    rows,
  };
  fs.mkdirSync('bench/results', { recursive: true });
  const file = path.join('bench/results', `local-cloud-${result.when.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log('');
  console.table(rows);
  console.log(`bench: results in ${file}`);
  return 0;
});

/** End to end through the ESM poller: PutRecords → mapping → a Lambda that only counts (fixture service). */
async function benchEventSourceMappings(): Promise<void> {
  console.log(
    'bench: event-source mappings (test/fixtures/esm-service, counter function, 2 shards, batchSize 500)',
  );
  const stack = await startEphemeralStack(
    path.resolve('test/fixtures/esm-service'),
    'bench-esm',
    () => undefined,
  );
  const db = new pg.Pool({ connectionString: stack.state.databaseUrl, max: 2 });
  try {
    await db.query(ESM_FIXTURE_SCHEMA);
    const kinesis = kinesisClient({ region: stack.state.region, kinesis: stack.state.endpoints.kinesis });
    const n = 20_000;
    const payload = Buffer.from(JSON.stringify({ pad: 'z'.repeat(450) }));
    const t0 = performance.now();
    for (let i = 0; i < n; i += 500) {
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: 'esm-throughput',
          Records: Array.from({ length: 500 }, (_, j) => ({
            PartitionKey: `k${(i + j) % 101}`,
            Data: payload,
          })),
        }),
      );
    }
    for (;;) {
      const r = await db.query<{ n: string | null; calls: string }>(
        "SELECT sum(batch_size) AS n, count(*) AS calls FROM esm_invocations WHERE function_name = 'esm-fixture-local-throughput'",
      );
      const done = Number(r.rows[0]?.n ?? 0);
      if (done >= n) {
        record('esm end-to-end', n / seconds(t0), 'rec/s', `${n} records, ${r.rows[0]?.calls} invocations`);
        break;
      }
      if (seconds(t0) > 300) throw new Error(`only ${done} of ${n} records delivered in 300 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await db.end();
    await stack.stop();
  }
}
