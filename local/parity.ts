import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { sfnClient } from '../lib/adapters/aws-clients.ts';
import { generateWorld } from '../lib/world/generate.ts';
import { runCli, UsageError } from './cli-support.ts';
import { followExecution, watchExecution } from './lifecycle-runner.ts';
import { progressLine } from './oracle-pipeline-runner.ts';
import { readStackState, stackUp } from './stack.ts';
import { stackConfig } from './stack-config.ts';

/**
 * `npm run parity`: a whole run on the embedded local cloud, on a generated world. Today the run lifecycle has
 * P0 SUBSTRATE_READY, P1 RUN_PINNED and P3 ORACLE_READY; later issues extend the same state machine to P12.
 */

const USAGE =
  'usage: npm run parity -- [--events N] [--seed S] [--no-stack-up] [--platform-run-id platform_YYYYMMDDTHHMMSSZ]';
const Flags = z.object({
  'no-stack-up': z.boolean().default(false),
  'platform-run-id': z.string().min(1).optional(),
  events: z
    .string()
    .regex(/^\d+$/, '--events must be a whole number')
    .transform(Number)
    .pipe(z.number().min(500, '--events must be at least 500').max(50_000_000))
    .default(5_000),
  seed: z
    .string()
    .regex(/^\d{1,18}$/, '--seed must be a whole number below 10^18')
    .transform((s) => BigInt(s))
    .default(42n),
});

runCli('parity', async () => {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        'no-stack-up': { type: 'boolean' },
        'platform-run-id': { type: 'string' },
        events: { type: 'string' },
        seed: { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const parsed = Flags.safeParse(values);
  if (!parsed.success) throw new UsageError(`${parsed.error.issues[0]?.message}; ${USAGE}`);
  const flags = parsed.data;
  const config = stackConfig();
  const say = (line: string) => console.log(line);

  say(
    'parity: a run of the lifecycle that exists today (P0 SUBSTRATE_READY, P1 RUN_PINNED, P3 ORACLE_READY) on the embedded local cloud',
  );
  say('[1/4] local cloud');
  const state = flags['no-stack-up'] ? readStackState(config.dataDir) : await stackUp(config, say);
  if (!state)
    throw new Error(
      `no local cloud state in ${config.dataDir}; run without --no-stack-up or npm run stack:up first`,
    );
  const machine = state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'));
  if (!machine) throw new Error('serverless.yml declares no run-lifecycle state machine');

  const world = path.join(config.dataDir, 'worlds', `events-${flags.events}-seed-${flags.seed}`);
  say(`[2/4] world: ${flags.events} events, seed ${flags.seed}`);
  if (fs.existsSync(path.join(world, 'run_receipt.json')))
    say(`  reusing ${world} (same events and seed give the same bytes)`);
  else {
    fs.rmSync(world, { recursive: true, force: true });
    const summary = await generateWorld({
      out: world,
      events: flags.events,
      seed: flags.seed,
      onProgress: (p) => {
        if (p.stage !== 'output' || p.part === p.parts) say(`  ${p.message}`);
      },
    });
    say(`  generated ${world}: ${summary.outputs.length} outputs, ${summary.gates.length} gates`);
  }

  say(`[3/4] run-lifecycle (${machine.name})`);
  const sfn = sfnClient({ region: state.region, sfn: state.endpoints.sfn });
  const input = {
    world_source: `file://${world}`,
    scenario_id: 'baseline_v1',
    ...(flags['platform-run-id'] ? { platform_run_id: flags['platform-run-id'] } : {}),
  };
  const oracleMachine = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
  let platformRunId: string | undefined;
  let child: { stop(): Promise<void> } | undefined;
  const sortedWindows = new Map<string, number>();
  const outcome = await followExecution(sfn, machine.arn, input, {
    namePrefix: 'parity',
    onEvent: (e) => {
      const entered = e.type?.endsWith('StateEntered') ? e.stateEnteredEventDetails?.name : undefined;
      const exited = e.stateExitedEventDetails;
      if (exited?.name === 'P1RunPinned' && exited.output)
        platformRunId = (JSON.parse(exited.output) as { run?: { platform_run_id?: string } }).run
          ?.platform_run_id;
      if (!entered) return;
      say(`  → ${entered}`);
      // P3 runs the oracle-pipeline as a nested execution named <platform_run_id>-oracle: show its progress too.
      if (entered === 'P3OracleReady' && oracleMachine && platformRunId) {
        const arn = oracleMachine.arn.replace(':stateMachine:', ':execution:');
        child = watchExecution(sfn, `${arn}:${platformRunId}-oracle`, (ce) => {
          const line = progressLine(ce, sortedWindows);
          if (line) say(`      ${line}`);
        });
      }
    },
  });
  await child?.stop();

  const evidenceDir = path.join(config.dataDir, 'parity', outcome.executionName);
  fs.mkdirSync(evidenceDir, { recursive: true });
  fs.writeFileSync(path.join(evidenceDir, 'execution.json'), JSON.stringify(outcome.description, null, 2));
  fs.writeFileSync(path.join(evidenceDir, 'history.json'), JSON.stringify(outcome.history, null, 2));

  say('[4/4] result');
  if (outcome.status !== 'SUCCEEDED') {
    say(`  run-lifecycle ${outcome.status}: ${outcome.error ?? 'no error'}: ${outcome.cause ?? 'no cause'}`);
    say(`  evidence: execution and history in ${evidenceDir}`);
    return 1;
  }
  const output = z
    .object({
      platform_run_id: z.string(),
      phases_completed: z.array(z.string()),
      oracle_pack_id: z.string(),
      engine_run_root: z.string(),
      evidence: z.record(z.string(), z.unknown()),
      stream_views: z.array(z.object({ output_id: z.string(), rows: z.number(), parts: z.number() })),
    })
    .parse(outcome.output);
  say(
    `  run-lifecycle SUCCEEDED in ${outcome.seconds.toFixed(1)} s (phases ${output.phases_completed.join(', ')})`,
  );
  say(`  platform_run_id: ${output.platform_run_id}`);
  say(`  oracle pack: ${output.oracle_pack_id} at ${output.engine_run_root}`);
  for (const v of output.stream_views)
    say(`    stream view ${v.output_id.padEnd(32)} ${String(v.rows).padStart(9)} rows in ${v.parts} part(s)`);
  say('  evidence:');
  for (const [k, v] of Object.entries(output.evidence)) say(`    ${k}: ${String(v)}`);
  say(`    execution and history: ${evidenceDir}`);
  say(
    `    S3 objects on disk: ${path.join(config.dataDir, 's3')}; Postgres tables platform_runs, active_run in ${state.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
  );
  return 0;
});
