import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { sfnClient } from '../lib/adapters/aws-clients.ts';
import { LIFECYCLE_PHASES } from '../lib/contracts/run-report.ts';
import { phaseSpans } from '../lib/run-reporter/timeline.ts';
import { runCli, UsageError } from '../local/cli-support.ts';
import { followExecution, watchExecution } from '../local/lifecycle-runner.ts';
import { readStackState, stackUp } from '../local/stack.ts';
import { stackConfig } from '../local/stack-config.ts';
import { CaseLabelsSummary, closeoutLines, copyRunReport, ReportHeadline } from './parity-closeout.ts';
import { DecisionChainSummary, DecisionQualitySummary, decisionLaneLines } from './parity-decision-lane.ts';
import { type ProgressEvent, ProgressModel, progressMode } from './parity-progress.ts';
import { lifecycleEvent, oracleEvent, watchStream } from './parity-progress-events.ts';
import { createRenderer, type ProgressRenderer } from './parity-progress-render.ts';
import { generateWorld } from './world/generate.ts';

/**
 * `npm run parity`: a whole run on the embedded local cloud, on a generated world: P0 SUBSTRATE_READY, P1
 * RUN_PINNED, P2 DAEMONS_READY, P3 ORACLE_READY (the oracle pipeline, nested), P4 INGEST_READY, P5
 * READY_PUBLISHED (Scenario Runner), P6 STREAMING_ACTIVE and P7 INGEST_COMMITTED (World Streamer → Ingestion Gate
 * → Kinesis, reconciled with the receipts) and P8 RTDL_CAUGHT_UP (the archive writer, identity graph, context store and
 * online features applied or accounted for every admitted event) and P9 DECISION_CHAIN_COMMITTED (one decision per
 * admitted traffic event, its intent and outcome admitted, every chain resolved in the decision log), then the quality
 * report of the decisions against the world's truth, P10 CASE_LABELS_COMMITTED (cases and labels, the bank's view
 * loaded), P11 OBS_GOV_CLOSED (the run report and its page, conformance, governance) and P12 DONE (the run stopped).
 */

const USAGE =
  'usage: npm run parity -- [--events N] [--seed S] [--max-events-per-output N] [--speedup X] ' +
  '[--align-window-seconds N] [--summary-json FILE] [--quiet | --json] [--no-progress] [--no-stack-up] ' +
  '[--platform-run-id platform_YYYYMMDDTHHMMSSZ]';
const whole = (flag: string) => z.string().regex(/^\d+$/, `${flag} must be a whole number`).transform(Number);
const Flags = z.object({
  'no-stack-up': z.boolean().default(false),
  'no-progress': z.boolean().default(false),
  quiet: z.boolean().default(false),
  json: z.boolean().default(false),
  'platform-run-id': z.string().min(1).optional(),
  events: whole('--events')
    .pipe(z.number().min(500, '--events must be at least 500').max(50_000_000))
    .default(5_000),
  seed: z
    .string()
    .regex(/^\d{1,18}$/, '--seed must be a whole number below 10^18')
    .transform((s) => BigInt(s))
    .default(42n),
  'max-events-per-output': whole('--max-events-per-output').default(200),
  speedup: z
    .string()
    .regex(/^\d+(\.\d+)?$/, '--speedup must be a number ≥ 0 (0 = no pacing)')
    .transform(Number)
    .default(0),
  'summary-json': z.string().min(1).optional(),
  'align-window-seconds': whole('--align-window-seconds').optional(),
});

const Output = z.object({
  platform_run_id: z.string(),
  phases_completed: z.array(z.string()),
  oracle_pack_id: z.string(),
  engine_run_root: z.string(),
  scenario_run_id: z.string(),
  ready_message_id: z.string(),
  stream_run_execution: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  ingest: z.array(
    z.object({
      output_id: z.string(),
      emitted: z.number(),
      admitted: z.number(),
      duplicate: z.number(),
      quarantined: z.number(),
      events: z.number(),
    }),
  ),
  rtdl: z.record(
    z.string(),
    z.object({
      counts: z.object({
        seen: z.number(),
        applied: z.number(),
        duplicate: z.number(),
        skipped: z.number(),
        failed: z.number(),
      }),
      health_state: z.string(),
      health_reasons: z.array(z.string()),
      state_digest: z.string().optional(),
    }),
  ),
  decision_chain: DecisionChainSummary,
  decision_quality: DecisionQualitySummary,
  case_labels: CaseLabelsSummary,
  bank_labels: z.unknown(),
  report: ReportHeadline,
});

/** The first P8 check: how far behind each projector was when P7 ended (IG admitted − accounted, per topic). */
const FirstCheck = z.object({
  checks: z.array(
    z.object({ projector: z.string(), topic: z.string(), admitted: z.number(), accounted: z.number() }),
  ),
});

const HELP = `${USAGE}

A whole run on the embedded local cloud (brought up if it is not running) on a generated world, phases P0–P12.
  --events N                  events in the generated world (default 5000, at least 500)
  --seed S                    the world's seed (default 42)
  --max-events-per-output N   events streamed per output (default 200; 0 = every event)
  --speedup X                 event-time pacing (default 0 = none; 600 = the reference's)
  --align-window-seconds N    the outputs advance through event time together, N seconds at a time
                              (default: the deployment's WSP_ALIGN_WINDOW_SECONDS, 600; 0 = not aligned)
  --summary-json FILE         also write the summary as JSON
  --quiet                     print only the result (and errors, on stderr)
  --json                      JSON lines on stdout: {"type":"phase"|"output"|"result",...}; other text on stderr
                              (npm run -s parity -- --json: -s keeps npm's own banner off stdout too)
  --no-progress               no live progress on a terminal: a line per phase and per 10% of each output
                              (the default without a terminal, or with CI set)
  --no-stack-up               fail instead of starting the local cloud
  --platform-run-id ID        pin this platform run id instead of a new one`;

runCli('parity', async () => {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    console.log(HELP);
    return;
  }
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        'no-stack-up': { type: 'boolean' },
        'no-progress': { type: 'boolean' },
        quiet: { type: 'boolean' },
        json: { type: 'boolean' },
        'platform-run-id': { type: 'string' },
        events: { type: 'string' },
        seed: { type: 'string' },
        'max-events-per-output': { type: 'string' },
        speedup: { type: 'string' },
        'summary-json': { type: 'string' },
        'align-window-seconds': { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const parsed = Flags.safeParse(values);
  if (!parsed.success) throw new UsageError(`${parsed.error.issues[0]?.message}; ${USAGE}`);
  const flags = parsed.data;
  if (flags.json && flags.quiet) throw new UsageError(`--json and --quiet do not go together; ${USAGE}`);
  const model = new ProgressModel(flags['max-events-per-output']);
  const mode = progressMode(flags, process.stdout.isTTY, process.env);
  // --json: stdout carries the JSON lines alone; anything else that logs goes to stderr.
  if (mode === 'json') console.log = console.info = console.error;
  const renderer = createRenderer(mode, model, { stdout: process.stdout, stderr: process.stderr });
  try {
    return await parity(flags, model, renderer);
  } catch (error) {
    renderer.fail((error as Error).message ?? String(error));
    throw error;
  } finally {
    renderer.stop();
  }
});

async function parity(flags: z.infer<typeof Flags>, model: ProgressModel, renderer: ProgressRenderer) {
  const config = stackConfig();
  const say = (line: string) => renderer.log(line);
  const show = (events: ProgressEvent[]) => events.length > 0 && renderer.show(events);
  const cap = flags['max-events-per-output'];

  say('parity: a whole run (P0 to P12) on the embedded local cloud');
  const started = performance.now();
  const wall: Record<string, number> = {};
  const lap = (name: string, since: number) => {
    wall[name] = Math.round(performance.now() - since) / 1000;
    return performance.now();
  };
  say('[1/4] local cloud');
  const state = flags['no-stack-up'] ? readStackState(config.dataDir) : await stackUp(config, say);
  if (!state)
    throw new Error(
      `no local cloud state in ${config.dataDir}; run without --no-stack-up or npm run stack:up first`,
    );
  const machine = state.stateMachines.find((m) => m.name.endsWith('-run-lifecycle'));
  if (!machine) throw new Error('serverless.yml declares no run-lifecycle state machine');

  let mark = lap('local_cloud', started);
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

  mark = lap('world', mark);
  say(
    `[3/4] run-lifecycle (${machine.name}): stream ${cap === 0 ? 'every event' : `at most ${cap} events per output`}, ${flags.speedup === 0 ? 'no pacing' : `event time ÷ ${flags.speedup}`}`,
  );
  const sfn = sfnClient({ region: state.region, sfn: state.endpoints.sfn });
  const input = {
    world_source: `file://${world}`,
    scenario_id: 'baseline_v1',
    stream: {
      max_events_per_output: cap,
      speedup: flags.speedup,
      ...(flags['align-window-seconds'] === undefined
        ? {}
        : { align_window_seconds: flags['align-window-seconds'] }),
    },
    ...(flags['platform-run-id'] ? { platform_run_id: flags['platform-run-id'] } : {}),
  };
  const oracleMachine = state.stateMachines.find((m) => m.name.endsWith('-oracle-pipeline'));
  const streamMachine = state.stateMachines.find((m) => m.name.endsWith('-stream-run'));
  let platformRunId: string | undefined;
  let messageId: string | undefined;
  let lagAtP7: z.infer<typeof FirstCheck> | undefined;
  let alignment: unknown;
  const children: Array<{ stop(): Promise<void> }> = [];
  const sortedWindows = new Map<string, number>();
  const executionArn = (machineArn: string, name: string) =>
    `${machineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  const outcome = await followExecution(sfn, machine.arn, input, {
    namePrefix: 'parity',
    timeoutMs: 60 * 60_000,
    onEvent: (e) => {
      show(lifecycleEvent(model, e));
      const entered = e.type?.endsWith('StateEntered') ? e.stateEnteredEventDetails?.name : undefined;
      const exited = e.stateExitedEventDetails;
      if (exited?.name === 'P1RunPinned' && exited.output)
        platformRunId = (JSON.parse(exited.output) as { run?: { platform_run_id?: string } }).run
          ?.platform_run_id;
      if (exited?.name === 'P6StreamingActive' && exited.output)
        messageId = (JSON.parse(exited.output) as { streaming?: { message_id?: string } }).streaming
          ?.message_id;
      if (exited?.name === 'P7IngestCommitted' && exited.output)
        alignment = (JSON.parse(exited.output) as { committed?: { alignment?: unknown } }).committed
          ?.alignment;
      if (exited?.name === 'P8CaughtUpCheck' && exited.output && !lagAtP7) {
        const first = FirstCheck.safeParse((JSON.parse(exited.output) as { rtdl?: unknown }).rtdl);
        if (first.success) {
          lagAtP7 = first.data;
          const behind = first.data.checks.filter((c) => c.accounted < c.admitted);
          const lag = behind.map((c) => `${c.projector} ${c.admitted - c.accounted} behind on ${c.topic}`);
          show(model.note(`projectors at the end of P7: ${lag.join('; ') || 'caught up'}`, Date.now()));
        }
      }
      if (exited?.name === 'P5ReadyPublished' && exited.output) {
        const sr = (JSON.parse(exited.output) as { sr?: { state?: string; run_id?: string } }).sr;
        show(model.note(`scenario run ${sr?.run_id}: ${sr?.state}`, Date.now()));
      }
      if (!entered) return;
      // P3 runs the oracle-pipeline as a nested execution named <platform_run_id>-oracle: show its progress too.
      if (entered === 'P3OracleReady' && oracleMachine && platformRunId)
        children.push(
          watchExecution(sfn, executionArn(oracleMachine.arn, `${platformRunId}-oracle`), (ce) =>
            show(oracleEvent(model, ce, sortedWindows)),
          ),
        );
      // The outputs stream in segments (stream-output executions): their rounds and chunks tell each output's count.
      if (entered === 'P7IngestCommitted' && streamMachine && messageId)
        children.push(watchStream(sfn, executionArn(streamMachine.arn, messageId), model, show));
    },
  });
  await Promise.all(children.map((c) => c.stop()));
  show(
    model.finish(outcome.history.at(-1)?.timestamp?.getTime() ?? Date.now(), outcome.status === 'SUCCEEDED'),
  );
  renderer.stop(); // on a terminal the live frame stays as it ended, and what follows is printed under it

  const evidenceDir = path.join(config.dataDir, 'parity', outcome.executionName);
  fs.mkdirSync(evidenceDir, { recursive: true });
  fs.writeFileSync(path.join(evidenceDir, 'execution.json'), JSON.stringify(outcome.description, null, 2));
  fs.writeFileSync(path.join(evidenceDir, 'history.json'), JSON.stringify(outcome.history, null, 2));

  say('[4/4] result');
  const lines: string[] = [];
  const res = (line: string) => lines.push(line);
  const times = phaseSpans(
    outcome.history.map((e) => ({
      timestamp: e.timestamp ?? new Date(0),
      stateName: e.stateEnteredEventDetails?.name ?? e.stateExitedEventDetails?.name,
      kind: 'other' as const,
    })),
  );
  const phaseRows = Object.entries(LIFECYCLE_PHASES).map(([phase, gate]) => {
    const t = times.get(phase);
    return {
      phase,
      gate,
      status: !t ? 'NOT_REACHED' : outcome.status === 'SUCCEEDED' ? 'PASS' : 'REACHED',
      seconds: t ? (t.end - t.start) / 1000 : null,
    };
  });
  if (outcome.status !== 'SUCCEEDED') {
    for (const r of phaseRows)
      res(`  ${r.phase} ${r.gate.padEnd(17)} ${r.status === 'NOT_REACHED' ? '-' : 'reached'}`);
    res(`  run-lifecycle ${outcome.status}: ${outcome.error ?? 'no error'}: ${outcome.cause ?? 'no cause'}`);
    res(`  evidence: execution and history in ${evidenceDir}`);
    const failed = { status: outcome.status, error: outcome.error, cause: outcome.cause, phases: phaseRows };
    if (flags['summary-json'])
      fs.writeFileSync(flags['summary-json'], `${JSON.stringify(failed, null, 2)}\n`);
    renderer.result(lines, { ...failed, evidence_dir: evidenceDir });
    return 1;
  }
  const output = Output.parse(outcome.output);
  lap('run_lifecycle', mark);
  wall.total = Math.round(performance.now() - started) / 1000;
  res(`  run-lifecycle SUCCEEDED in ${outcome.seconds.toFixed(1)} s`);
  res(`  platform_run_id: ${output.platform_run_id}   scenario_run_id: ${output.scenario_run_id}`);
  res(`  oracle pack: ${output.oracle_pack_id} at ${output.engine_run_root}`);
  res('  phase                      status   seconds');
  for (const r of phaseRows)
    res(
      `  ${`${r.phase} ${r.gate}`.padEnd(26)} ${'PASS'.padEnd(8)} ${r.seconds === null ? '-' : r.seconds.toFixed(1)}`,
    );
  res(
    `  ${'output'.padEnd(32)} ${'emitted'.padStart(8)} ${'admitted'.padStart(9)} ${'duplicate'.padStart(10)} ${'quarantined'.padStart(12)}`,
  );
  for (const o of output.ingest)
    res(
      `  ${o.output_id.padEnd(32)} ${String(o.emitted).padStart(8)} ${String(o.admitted).padStart(9)} ${String(o.duplicate).padStart(10)} ${String(o.quarantined).padStart(12)}`,
    );
  res(
    `  ${'projector'.padEnd(18)} ${'seen'.padStart(8)} ${'applied'.padStart(8)} ${'duplicate'.padStart(10)} ${'skipped'.padStart(8)} ${'failed'.padStart(7)} ${'lag@P7'.padStart(7)}  health`,
  );
  for (const [name, p] of Object.entries(output.rtdl)) {
    const lag = (lagAtP7?.checks ?? [])
      .filter((c) => c.projector === name)
      .reduce((sum, c) => sum + Math.max(0, c.admitted - c.accounted), 0);
    const c = p.counts;
    res(
      `  ${name.padEnd(18)} ${String(c.seen).padStart(8)} ${String(c.applied).padStart(8)} ${String(c.duplicate).padStart(10)} ${String(c.skipped).padStart(8)} ${String(c.failed).padStart(7)} ${String(lag).padStart(7)}  ${p.health_state}${p.health_reasons.length > 0 ? ` (${p.health_reasons.join(', ')})` : ''}`,
    );
  }
  for (const line of decisionLaneLines(output.decision_chain, output.decision_quality)) res(line);
  for (const line of closeoutLines(output.case_labels, output.bank_labels, output.report)) res(line);
  const reportRef = String(output.evidence.run_report_ref ?? '');
  const page = await copyRunReport(state.endpoints.s3, state.region, reportRef, evidenceDir);
  const digest = output.rtdl['online-features']?.state_digest;
  if (digest) res(`  feature state digest: ${digest}`);
  if (alignment) res(`  event-time alignment: ${JSON.stringify(alignment)}`);
  res('  evidence:');
  for (const [k, v] of Object.entries(output.evidence)) res(`    ${k}: ${String(v)}`);
  res(`    READY message ${output.ready_message_id}; stream-run execution ${output.stream_run_execution}`);
  res(`    execution and history: ${evidenceDir}`);
  res(
    `    S3 objects on disk: ${path.join(config.dataDir, 's3')}; Postgres ${state.databaseUrl.replace(/:[^:@/]+@/, ':***@')} (ig_receipts, ig_admissions, platform_runs)`,
  );
  res(
    `  run report page: ${page ?? 'not found'} (also ${String(output.evidence.run_report_html_ref ?? '-')})`,
  );
  res(
    `parity: done in ${wall.total?.toFixed(1)} s (local cloud ${wall.local_cloud?.toFixed(1)} s, world ${wall.world?.toFixed(1)} s, run-lifecycle ${wall.run_lifecycle?.toFixed(1)} s)`,
  );
  const summary = {
    status: 'SUCCEEDED',
    seconds: outcome.seconds,
    wall_seconds: wall,
    ...output,
    phases: phaseRows,
    projector_lag_at_p7: lagAtP7?.checks ?? null,
    alignment: alignment ?? null,
  };
  if (flags['summary-json'])
    fs.writeFileSync(
      flags['summary-json'],
      `${JSON.stringify(summary, (_k, v) => (typeof v === 'bigint' ? String(v) : v), 2)}\n`,
    );
  // The JSON result ends, like the text, with where the evidence is.
  renderer.result(lines, { ...summary, evidence_dir: evidenceDir, run_report_page: page ?? null });
  return 0;
}
