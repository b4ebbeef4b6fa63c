import { parseArgs } from 'node:util';
import { z } from 'zod';
import { UsageError } from '../../local/cli-support.ts';

export const USAGE =
  'usage: tsx tools/deploy-readiness/cli.ts <package-dir> --stage NAME [--zip-goal-bytes N]';

const Arguments = z.object({
  dir: z.string({ error: () => `a package directory is required; ${USAGE}` }).min(1),
  stage: z
    .string({ error: () => `--stage is required; ${USAGE}` })
    .regex(/^[a-zA-Z0-9-]+$/, { error: '--stage must be letters, digits and dashes' }),
  zipGoalBytes: z.coerce
    .number({ error: '--zip-goal-bytes must be a whole number of bytes' })
    .int({ error: '--zip-goal-bytes must be a whole number of bytes' })
    .positive({ error: '--zip-goal-bytes must be a whole number of bytes' })
    .optional(),
});
export type CliArguments = z.infer<typeof Arguments>;

const OPTIONS = { stage: { type: 'string' }, 'zip-goal-bytes': { type: 'string' } } as const;

function readArguments(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
}

/** The command line, or a UsageError whose message is one line. */
export function parseCliArguments(argv: string[]): CliArguments {
  const parsed = readArguments(argv);
  if (parsed.positionals.length > 1)
    throw new UsageError(`one package directory, not ${parsed.positionals.length}; ${USAGE}`);
  const result = Arguments.safeParse({
    dir: parsed.positionals[0],
    stage: parsed.values.stage,
    zipGoalBytes: parsed.values['zip-goal-bytes'],
  });
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? USAGE);
  return result.data;
}
