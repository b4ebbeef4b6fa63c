import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runCli, UsageError } from './cli-support.ts';
import { type PartStatus, stackDown, stackStatus, stackUp } from './stack.ts';
import { PART_NAMES, stackConfig } from './stack-config.ts';

const USAGE = 'usage: local/cli.ts up | down [--part NAME]... | status [--json] [--esm]';

const Args = z.object({
  command: z.enum(['up', 'down', 'status'], { error: () => USAGE }),
  json: z.boolean().default(false),
  esm: z.boolean().default(false),
  part: z
    .array(
      z.enum(PART_NAMES, {
        error: (i) => `unknown part ${String(i.input)}; parts: ${PART_NAMES.join(', ')}`,
      }),
    )
    .default([]),
});

function parse(argv: string[]) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        esm: { type: 'boolean' },
        part: { type: 'string', multiple: true },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const result = Args.safeParse({ command: parsed.positionals[0], ...parsed.values });
  if (!result.success) throw new UsageError(result.error.issues[0]?.message ?? USAGE);
  return result.data;
}

function table(parts: PartStatus[]): string {
  const rows = [
    ['part', 'endpoint', 'healthy', 'detail'],
    ...parts.map((p) => [p.name, p.endpoint, p.healthy ? 'yes' : 'NO', p.detail]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function esmStatus(url: string): Promise<unknown> {
  const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
  return res.json();
}

runCli('stack', async () => {
  const args = parse(process.argv.slice(2));
  const config = stackConfig();
  const say = (line: string) => console.log(line);
  switch (args.command) {
    case 'up': {
      await stackUp(config, say);
      const parts = await stackStatus(config);
      console.log(table(parts));
      return parts.every((p) => p.healthy) ? 0 : 1;
    }
    case 'down': {
      const stopped = await stackDown(config, say, args.part.length > 0 ? args.part : undefined);
      console.log(
        stopped.length === 0
          ? 'local cloud: nothing was running'
          : `local cloud: stopped ${stopped.join(', ')}`,
      );
      return 0;
    }
    case 'status': {
      const parts = await stackStatus(config);
      const healthy = parts.every((p) => p.healthy);
      const esmPart = parts.find((p) => p.name === 'esm-poller');
      const esm = args.esm && esmPart?.healthy ? await esmStatus(esmPart.endpoint) : undefined;
      if (args.json) {
        const body = {
          parts: parts.map(({ name, endpoint, healthy, detail, pid }) => ({
            name,
            endpoint,
            healthy,
            detail,
            pid,
          })),
          ...(args.esm ? { esm } : {}),
        };
        console.log(JSON.stringify(body, null, 2));
      } else {
        console.log(table(parts));
        if (args.esm) console.log(JSON.stringify(esm ?? 'esm-poller is not healthy', null, 2));
      }
      return healthy ? 0 : 1;
    }
  }
});
