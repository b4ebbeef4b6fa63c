import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { sfnClient } from '../lib/adapters/aws-clients.ts';
import { runCli, UsageError } from '../local/cli-support.ts';
import { readStackState, stackUp } from '../local/stack.ts';
import { stackConfig } from '../local/stack-config.ts';
import { type OracleProgress, runOraclePipeline } from './oracle-pipeline-runner.ts';

/**
 * `npm run oracle -- pipeline --world DIR`: starts the oracle-pipeline state machine on the local cloud
 * (sync -> seal -> check -> per output: plan windows -> sort windows -> finalize), shows per-output progress and
 * prints the receipts' figures. `--world` also takes `s3://bucket/prefix` (a world already in S3).
 */

const USAGE =
  'usage: npm run oracle -- pipeline --world DIR|s3://bucket/prefix [--scenario-id baseline_v1] ' +
  '[--output-ids a,b] [--budget-bytes N] [--engine-run-prefix P] [--no-stack-up] [--summary-json FILE]';

const Flags = z.object({
  command: z.literal('pipeline', { error: 'the only command is "pipeline"' }),
  world: z.string({ error: '--world is required' }).min(1, '--world is required'),
  'scenario-id': z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, '--scenario-id: letters, digits, "_", "." and "-"')
    .default('baseline_v1'),
  'budget-bytes': z
    .string()
    .regex(/^\d+$/, '--budget-bytes must be a whole number of bytes')
    .transform(Number)
    .pipe(z.number().min(1 << 20, '--budget-bytes must be at least 1048576'))
    .optional(),
  'output-ids': z
    .string()
    .regex(/^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$/, '--output-ids: output ids separated by commas')
    .transform((s) => s.split(','))
    .optional(),
  'engine-run-prefix': z
    .string()
    .regex(/^[\w.=/-]+$/, '--engine-run-prefix: a key prefix')
    .optional(),
  'no-stack-up': z.boolean().default(false),
  'summary-json': z.string().min(1).optional(),
});

function worldSource(world: string): string {
  if (world.startsWith('s3://')) return world;
  const dir = path.resolve(world);
  if (!fs.existsSync(path.join(dir, 'run_receipt.json')))
    throw new UsageError(
      `--world ${world}: no run_receipt.json there (make one with npm run world -- generate --out DIR --events N --seed S)`,
    );
  return `file://${dir}`;
}

runCli('oracle', async () => {
  let flags: z.infer<typeof Flags>;
  try {
    const { values, positionals } = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        world: { type: 'string' },
        'scenario-id': { type: 'string' },
        'budget-bytes': { type: 'string' },
        'engine-run-prefix': { type: 'string' },
        'output-ids': { type: 'string' },
        'no-stack-up': { type: 'boolean' },
        'summary-json': { type: 'string' },
      },
    });
    flags = Flags.parse({ ...values, command: positionals[0] });
  } catch (error) {
    const message =
      error instanceof z.ZodError ? error.issues.map((i) => i.message).join('; ') : (error as Error).message;
    throw new UsageError(`${message}; ${USAGE}`);
  }
  const source = worldSource(flags.world);
  const config = stackConfig();
  const say = (line: string) => console.log(line);

  say(`oracle pipeline: ${source} as scenario ${flags['scenario-id']}`);
  say('[1/3] local cloud');
  const state = flags['no-stack-up'] ? readStackState(config.dataDir) : await stackUp(config, say);
  if (!state) throw new Error(`no local cloud state in ${config.dataDir}; run npm run stack:up first`);
  const machine = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
  if (!machine) throw new Error('serverless.yml declares no oracle-pipeline state machine');

  say(`[2/3] ${machine.name}`);
  const sfn = sfnClient({ region: state.region, sfn: state.endpoints.sfn });
  const input = {
    world_source: source,
    scenario_id: flags['scenario-id'],
    ...(flags['budget-bytes'] ? { sort_budget_bytes: flags['budget-bytes'] } : {}),
    ...(flags['engine-run-prefix'] ? { engine_run_prefix: flags['engine-run-prefix'] } : {}),
    ...(flags['output-ids'] ? { output_ids: flags['output-ids'] } : {}),
  };
  const outcome = await runOraclePipeline(sfn, machine.arn, input, (p: OracleProgress) => say(`  ${p.line}`));

  const evidenceDir = path.join(config.dataDir, 'oracle', outcome.executionName);
  fs.mkdirSync(evidenceDir, { recursive: true });
  fs.writeFileSync(path.join(evidenceDir, 'execution.json'), JSON.stringify(outcome.description, null, 2));
  fs.writeFileSync(path.join(evidenceDir, 'history.json'), JSON.stringify(outcome.history, null, 2));

  say('[3/3] result');
  if (outcome.status !== 'SUCCEEDED' || !outcome.summary) {
    say(
      `  oracle-pipeline ${outcome.status}: ${outcome.error ?? 'no error'}: ${outcome.cause ?? 'no cause'}`,
    );
    say(`  evidence: execution and history in ${evidenceDir}`);
    return 1;
  }
  const s = outcome.summary;
  say(`  oracle-pipeline SUCCEEDED in ${outcome.seconds.toFixed(1)} s`);
  say(`  oracle_pack_id: ${s.oracle_pack_id}`);
  say(`  engine run root: ${s.engine_run_root}`);
  say(`  check: ${s.check}`);
  say(
    `  ${'output'.padEnd(34)} ${'decision'.padEnd(8)} ${'rows'.padStart(10)} ${'parts'.padStart(5)}  ts_utc range`,
  );
  for (const v of s.views)
    say(
      `  ${v.output_id.padEnd(34)} ${v.decision.padEnd(8)} ${String(v.rows).padStart(10)} ${String(v.parts).padStart(5)}  ${v.min_ts_utc ?? '-'} .. ${v.max_ts_utc ?? '-'}`,
    );
  say(
    `  evidence: receipts under ${s.engine_run_root}/stream_view/ts_utc/output_id=*/; execution in ${evidenceDir}`,
  );
  if (flags['summary-json'])
    fs.writeFileSync(
      flags['summary-json'],
      `${JSON.stringify({ ...s, seconds: outcome.seconds }, null, 2)}\n`,
    );
  return 0;
});
