import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MAX_ID63 } from '../../lib/world/ids.ts';
import { generateWorld, MAX_EVENTS, MIN_EVENTS } from './generate.ts';

const USAGE =
  'usage: npm run world -- generate --out DIR --events N --seed S [--scenario-id baseline_v1]\n' +
  `  --events  rows of s3_event_stream_with_fraud_6B, ${MIN_EVENTS}..${MAX_EVENTS} (met within a few percent)\n` +
  '  --seed    0..2^63-1; with --events it fixes every byte of the world';

const CliArgs = z.object({
  command: z.literal('generate', { error: 'the only command is "generate"' }),
  out: z.string({ error: '--out DIR is required' }).min(1, '--out DIR is required'),
  events: z
    .string({ error: '--events N is required' })
    .regex(/^\d+$/, '--events must be a whole number')
    .transform(Number)
    .pipe(
      z
        .number()
        .min(MIN_EVENTS, `--events must be at least ${MIN_EVENTS}`)
        .max(MAX_EVENTS, `--events must be at most ${MAX_EVENTS}`),
    ),
  seed: z
    .string({ error: '--seed S is required' })
    .regex(/^\d+$/, '--seed must be a non-negative whole number')
    .transform((s) => BigInt(s))
    .refine((s) => s <= MAX_ID63, '--seed must be at most 2^63-1'),
  scenarioId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, '--scenario-id: letters, digits, "_", "." and "-" only'),
});

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 bad usage). */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: z.infer<typeof CliArgs>;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        events: { type: 'string' },
        seed: { type: 'string' },
        'scenario-id': { type: 'string', default: 'baseline_v1' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new Error(`unexpected argument "${positionals[1]}"`);
    const result = CliArgs.safeParse({
      command: positionals[0],
      out: values.out,
      events: values.events,
      seed: values.seed,
      scenarioId: values['scenario-id'],
    });
    if (!result.success) throw new Error(result.error.issues[0]?.message ?? 'invalid arguments');
    parsed = result.data;
  } catch (error) {
    io.stderr(`world: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }

  try {
    const summary = await generateWorld({
      out: parsed.out,
      events: parsed.events,
      seed: parsed.seed,
      scenarioId: parsed.scenarioId,
      onProgress: (p) => io.stdout(`[world] ${p.message}`),
    });
    const t = summary.timingsMs;
    io.stdout(`[world] engine run root: ${summary.runRoot}`);
    io.stdout(
      `[world] run_id=${summary.runId} manifest_fingerprint=${summary.manifestFingerprint} ` +
        `parameter_hash=${summary.parameterHash} seed=${summary.seed} scenario_id=${summary.scenarioId}`,
    );
    for (const o of summary.outputs)
      io.stdout(`[world]   ${o.outputId.padEnd(30)} ${String(o.rows).padStart(10)} rows  ${o.parts} parts`);
    io.stdout(
      `[world] ${summary.gates.length} gates PASS; ${summary.campaigns} campaigns, ${summary.fraudFlows} fraud flows`,
    );
    io.stdout(
      `[world] took ${(t.total / 1000).toFixed(2)} s (plan ${(t.plan / 1000).toFixed(2)} s, ` +
        `parquet ${(t.parquet / 1000).toFixed(2)} s, gates ${(t.gates / 1000).toFixed(2)} s)`,
    );
    return 0;
  } catch (error) {
    io.stderr(`world: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const code = await main(process.argv.slice(2), {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  });
  process.exitCode = code;
}
