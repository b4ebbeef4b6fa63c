import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { sfnClient } from '../lib/adapters/aws-clients.ts';
import { runCli, UsageError } from './cli-support.ts';
import { runLifecycle } from './lifecycle-runner.ts';
import { readStackState, stackUp } from './stack.ts';
import { stackConfig } from './stack-config.ts';

/**
 * `npm run parity`: a whole run on the embedded local cloud. Today the run lifecycle has P0-P1
 * (substrate ready, run pinned); later issues extend the same state machine to P12.
 */

const USAGE = 'usage: npm run parity -- [--no-stack-up] [--platform-run-id platform_YYYYMMDDTHHMMSSZ]';
const Flags = z.object({
  'no-stack-up': z.boolean().default(false),
  'platform-run-id': z.string().min(1).optional(),
});

runCli('parity', async () => {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: { 'no-stack-up': { type: 'boolean' }, 'platform-run-id': { type: 'string' } },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const flags = Flags.parse(values);
  const config = stackConfig();
  const say = (line: string) => console.log(line);

  say(
    'parity: a run of the lifecycle that exists today (P0 SUBSTRATE_READY, P1 RUN_PINNED) on the embedded local cloud',
  );
  say('[1/3] local cloud');
  const state = flags['no-stack-up'] ? readStackState(config.dataDir) : await stackUp(config, say);
  if (!state)
    throw new Error(
      `no local cloud state in ${config.dataDir}; run without --no-stack-up or npm run stack:up first`,
    );
  const machine = state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'));
  if (!machine) throw new Error('serverless.yml declares no run-lifecycle state machine');

  say(`[2/3] run-lifecycle (${machine.name})`);
  const sfn = sfnClient({ region: state.region, sfn: state.endpoints.sfn });
  const input = flags['platform-run-id'] ? { platform_run_id: flags['platform-run-id'] } : {};
  const outcome = await runLifecycle(sfn, machine.arn, input, (phase) => say(`  → ${phase}`));

  const evidenceDir = path.join(config.dataDir, 'parity', outcome.executionName);
  fs.mkdirSync(evidenceDir, { recursive: true });
  fs.writeFileSync(path.join(evidenceDir, 'execution.json'), JSON.stringify(outcome.description, null, 2));
  fs.writeFileSync(path.join(evidenceDir, 'history.json'), JSON.stringify(outcome.history, null, 2));

  say('[3/3] result');
  if (outcome.status !== 'SUCCEEDED') {
    say(`  run-lifecycle ${outcome.status}: ${outcome.error ?? 'no error'}: ${outcome.cause ?? 'no cause'}`);
    say(`  evidence: execution and history in ${evidenceDir}`);
    return 1;
  }
  const output = z
    .object({ platform_run_id: z.string(), evidence: z.record(z.string(), z.unknown()) })
    .parse(outcome.output);
  say(`  run-lifecycle SUCCEEDED in ${outcome.seconds.toFixed(1)} s`);
  say(`  platform_run_id: ${output.platform_run_id}`);
  say('  evidence:');
  for (const [k, v] of Object.entries(output.evidence)) say(`    ${k}: ${String(v)}`);
  say(`    execution and history: ${evidenceDir}`);
  say(
    `    S3 objects on disk: ${path.join(config.dataDir, 's3')}; Postgres tables platform_runs, active_run in ${state.databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
  );
  return 0;
});
