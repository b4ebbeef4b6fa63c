import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError } from '../local/cli-support.ts';

/** The flags of `npm run bench`, parsed once with zod; anything else is refused in one line. */

export const BENCH_NAMES = [
  'local-cloud',
  'esm',
  'ingest',
  'sort',
  'cold-start',
  'rtdl',
  'decision',
] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

export const USAGE = `usage: npm run bench -- [${BENCH_NAMES.join('|')} ...] [--smoke] [--help]`;

const Flags = z.object({
  names: z.array(
    z.enum(BENCH_NAMES, {
      error: (i) => `unknown bench ${JSON.stringify(i.input)}; benches: ${BENCH_NAMES.join(', ')}`,
    }),
  ),
  smoke: z.boolean().default(false),
  help: z.boolean().default(false),
});

export interface BenchArgs {
  /** The benches to run, in the order given (each once). */
  names: BenchName[];
  smoke: boolean;
  help: boolean;
  /** No name given and no --smoke: list the benches and run local-cloud. */
  defaulted: boolean;
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { smoke: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]}; ${USAGE}`);
  }
  const flags = Flags.safeParse({ names: parsed.positionals, ...parsed.values });
  if (!flags.success) throw new UsageError(`${flags.error.issues[0]?.message}; ${USAGE}`);
  const { smoke, help } = flags.data;
  const given = [...new Set(flags.data.names)];
  if (given.length > 0) return { names: given, smoke, help, defaulted: false };
  // --smoke alone runs every bench (what CI runs); no name at all runs local-cloud.
  return { names: smoke ? [...BENCH_NAMES] : ['local-cloud'], smoke, help, defaulted: !smoke };
}
