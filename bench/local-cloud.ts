import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { kinesisClient, lambdaClient, s3Client, sfnClient } from '../lib/adapters/aws-clients.ts';
import { startEphemeralStack } from '../local/ephemeral-stack.ts';
import { allHistory, waitForExecution } from '../local/lifecycle-runner.ts';
import { stackStatus, stackUp } from '../local/stack.ts';
import { type Bench, median, type Ratio, type Row, ratio, row, secondsSince } from './report.ts';

/**
 * `npm run bench -- local-cloud`: the local cloud's own figures on a throwaway stack (free ports, temp dir):
 * cold and warm `stack:up`, kinesalite, s3rver, a warm Lambda invoke beside the invoke floor, and the run
 * lifecycle's P0–P2 beside the same three Lambdas invoked directly.
 *
 * The run lifecycle is started without `world_source`: it runs P0 SUBSTRATE_READY, P1 RUN_PINNED and P2
 * DAEMONS_READY (every gate passed) and ends at P3's input check with WORLD_SOURCE_MISSING, before the nested
 * oracle pipeline. A whole run (world generation, the oracle pipeline, streaming) takes a minute and is
 * `npm run parity`'s figure; the bench checks in the history that P2's gate let the execution through.
 */

const SIZES = {
  full: { kinesisRecords: 20_000, s3Puts: 400, invokes: 10, lifecycleRuns: 5 },
  smoke: { kinesisRecords: 2_000, s3Puts: 32, invokes: 3, lifecycleRuns: 2 },
};

/** Requested platform_run_ids, one second apart from a fixed instant: pins never wait for the clock. */
function runIds(): () => string {
  let t = Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e6) * 1000;
  return () => {
    t += 1000;
    return `platform_${new Date(t)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`;
  };
}

async function invokeJson(
  lambda: LambdaClient,
  fn: string,
  input: unknown,
): Promise<Record<string, unknown>> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: fn, Payload: Buffer.from(JSON.stringify(input)) }),
  );
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  if (out.FunctionError) throw new Error(`${fn} failed: ${text.slice(0, 200)}`);
  return JSON.parse(text || 'null') as Record<string, unknown>;
}

export const localCloudBench: Bench = {
  name: 'local-cloud',
  summary: 'stack:up cold/warm, kinesalite, s3rver, Lambda invoke, run lifecycle P0–P2 on a throwaway stack',
  async run({ smoke, say }) {
    const size = smoke ? SIZES.smoke : SIZES.full;
    const rows: Row[] = [];
    const ratios: Ratio[] = [];
    const add = (r: Row) => {
      rows.push(r);
      say(`  ${r.name}: ${r.value} ${r.unit} ${r.note}`);
      return r;
    };
    say('bench local-cloud: starting a throwaway local cloud (its cold start is measured)');
    let t0 = performance.now();
    const stack = await startEphemeralStack(path.resolve('.'), 'bench', () => undefined);
    add(row('stack:up cold', secondsSince(t0), 's', 'empty data dir: initdb, bundling, bootstrap'));
    try {
      t0 = performance.now();
      await stackUp(stack.config, () => undefined);
      add(row('stack:up warm (API)', secondsSince(t0), 's', 'already up: health probes only'));
      t0 = performance.now();
      await stackStatus(stack.config);
      add(row('stack:status', secondsSince(t0), 's'));
      t0 = performance.now();
      execFileSync(
        process.execPath,
        [createRequire(import.meta.url).resolve('tsx/cli'), 'local/cli.ts', 'up'],
        { env: { ...process.env, ...stack.env }, stdio: 'ignore' },
      );
      add(
        row('stack:up warm (CLI)', secondsSince(t0), 's', 'the command a user runs, process start included'),
      );

      const e = { region: stack.state.region, ...stack.state.endpoints };
      const kinesis = kinesisClient(e);
      const stream = 'fp.bus.case.v1';
      const n = size.kinesisRecords;
      const payload = Buffer.from(JSON.stringify({ pad: 'x'.repeat(450) }));
      t0 = performance.now();
      for (let i = 0; i < n; i += 500) {
        await kinesis.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: Array.from({ length: Math.min(500, n - i) }, (_, j) => ({
              PartitionKey: `k${(i + j) % 64}`,
              Data: payload,
            })),
          }),
        );
      }
      add(
        row(
          'kinesis PutRecords',
          n / secondsSince(t0),
          'rec/s',
          `${n} x ~500 B, 500 per call, 1 shard (a substrate ceiling itself)`,
        ),
      );
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
      add(
        row(
          'kinesis GetRecords',
          read / secondsSince(t0),
          'rec/s',
          '10,000 per call (a substrate ceiling itself)',
        ),
      );

      const s3 = s3Client(e);
      const body = 'y'.repeat(10_240);
      const puts = size.s3Puts;
      t0 = performance.now();
      for (let i = 0; i < puts; i += 16) {
        await Promise.all(
          Array.from({ length: Math.min(16, puts - i) }, (_, j) =>
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
      add(row('s3 PutObject If-None-Match', puts / secondsSince(t0), 'op/s', '10 KB, 16 concurrent'));

      const lambda = lambdaClient(e);
      const fnOf = (key: string) => {
        const fn = stack.state.functions.find((f) => f.endsWith(`-${key}`));
        if (!fn) throw new Error(`the service has no function ${key}`);
        return fn;
      };
      // The invoke floor: an invoke serverless-offline answers 404 (no such function) runs no handler.
      const missing = 'bench-no-such-function';
      const floor: number[] = [];
      for (let i = 0; i < size.invokes + 1; i++) {
        t0 = performance.now();
        await lambda.send(new InvokeCommand({ FunctionName: missing })).catch(() => undefined);
        if (i > 0) floor.push(secondsSince(t0) * 1000);
      }
      const floorRow = add(
        row(
          'lambda invoke floor p50',
          median(floor),
          'ms',
          `invoke of an unknown function (404, no handler runs), ${size.invokes} calls`,
        ),
      );
      const status = fnOf('substrate-status');
      await lambda.send(new InvokeCommand({ FunctionName: status }));
      const invokes: number[] = [];
      for (let i = 0; i < size.invokes; i++) {
        t0 = performance.now();
        await lambda.send(new InvokeCommand({ FunctionName: status }));
        invokes.push(secondsSince(t0) * 1000);
      }
      const invokeRow = add(
        row(
          'lambda invoke (substrate-status) warm p50',
          median(invokes),
          'ms',
          `13 probes of S3, Kinesis, Postgres; ${size.invokes} calls`,
        ),
      );
      ratios.push(
        ratio(
          invokeRow,
          floorRow,
          'warm invoke / invoke floor: the handler and its probes over the HTTP path',
        ),
      );

      const sfn = sfnClient(e);
      const machine = stack.state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'))?.arn;
      if (!machine) throw new Error('the service declares no run-lifecycle state machine');
      const nextRunId = runIds();
      const [pin, daemons] = [fnOf('run-pin'), fnOf('daemons-ready')];
      const lifecycle: number[] = [];
      const direct: number[] = [];
      // Round 0 warms run-pin and daemons-ready (their first invokes start workers) and is not counted.
      for (let i = 0; i <= size.lifecycleRuns; i++) {
        t0 = performance.now();
        const start = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: machine,
            input: JSON.stringify({ platform_run_id: nextRunId() }),
          }),
        );
        const done = await waitForExecution(sfn, start.executionArn ?? '');
        const ms = secondsSince(t0) * 1000;
        const history = await allHistory(sfn, start.executionArn ?? '');
        const throughP2 = history.some((h) => h.stateEnteredEventDetails?.name === 'P3WorldGiven');
        if (done.status !== 'FAILED' || done.error !== 'WORLD_SOURCE_MISSING' || !throughP2)
          throw new Error(
            `run-lifecycle without world_source should pass P0–P2 and stop at WORLD_SOURCE_MISSING; it ended ${done.status} ${done.error ?? ''}: ${done.cause ?? ''}`,
          );
        if (i > 0) lifecycle.push(ms);

        // The same three tasks, invoked one after the other with what the state machine passes them.
        t0 = performance.now();
        const substrate = await invokeJson(lambda, status, { phase: 'P0' });
        const run = await invokeJson(lambda, pin, { platform_run_id: nextRunId() });
        const ready = await invokeJson(lambda, daemons, { platform_run_id: run.platform_run_id });
        if (i > 0) direct.push(secondsSince(t0) * 1000);
        if (substrate.ready !== true || run.active !== true || ready.ready !== true)
          throw new Error(
            `P0–P2 invoked directly did not pass: ${JSON.stringify({ substrate, run, ready })}`,
          );
      }
      const lifecycleRow = add(
        row(
          'run-lifecycle P0–P2 execution p50',
          median(lifecycle),
          'ms',
          `StartExecution to the end at P3's input check (no world_source), ${size.lifecycleRuns} runs after a warm-up`,
        ),
      );
      const directRow = add(
        row(
          'P0–P2 Lambdas invoked directly p50',
          median(direct),
          'ms',
          'substrate-status, run-pin, daemons-ready one after the other (the ceiling of the execution)',
        ),
      );
      ratios.push(
        ratio(
          lifecycleRow,
          directRow,
          'execution / its three Lambdas invoked directly: the Step Functions overhead (1 = none)',
        ),
      );
    } finally {
      await stack.stop();
    }
    return {
      rows,
      ratios,
      notes: {
        sizes: size,
        runLifecycle:
          'started without world_source: P0–P2 run with their gates and the execution ends at P3WorldGiven with WORLD_SOURCE_MISSING (expected, checked); the whole run is npm run parity',
        ceilings:
          'kinesis and S3 rows are substrate figures (they are the ceilings of the esm and ingest benches); the warm invoke is compared with the invoke floor, the lifecycle with its Lambdas invoked directly',
      },
    };
  },
};
