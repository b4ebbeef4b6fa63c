import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runCli, UsageError } from './cli-support.ts';
import type { MappingStatus } from './event-source-mapping/poller.ts';
import { type PartStatus, stackDown, stackStatus, stackUp } from './stack.ts';
import { endpoints, PART_NAMES, stackConfig } from './stack-config.ts';

const USAGE = 'usage: local/cli.ts up | down [--part NAME]... | status [--json] [--esm] | env';

const Args = z.object({
  command: z.enum(['up', 'down', 'status', 'env'], { error: () => USAGE }),
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

function formatTable(rows: string[][]): string {
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

function table(parts: PartStatus[]): string {
  return formatTable([
    ['part', 'endpoint', 'healthy', 'detail'],
    ...parts.map((p) => [p.name, p.endpoint, p.healthy ? 'yes' : 'NO', p.detail]),
  ]);
}

/** One row per (mapping, shard): what an operator needs to see whether a consumer keeps up. */
function esmTable(mappings: MappingStatus[]): string {
  const short = (seq: string | undefined) => (seq === undefined ? '-' : `…${seq.slice(-8)}`);
  const rows = mappings.flatMap((m) =>
    m.shards.length === 0
      ? [
          [
            `${m.functionName} <- ${m.streamName}`,
            m.enabled ? '(no shards yet)' : '(disabled)',
            '',
            '',
            '',
            '',
            '',
            '',
            '',
            '',
          ],
        ]
      : m.shards.map((s) => [
          `${m.functionName} <- ${m.streamName}`,
          s.shardId,
          String(s.lanes),
          s.iteratorAgeMs === undefined ? '-' : String(s.iteratorAgeMs),
          short(s.lastCheckpoint),
          s.inFlight.map((b) => `${b.size}@lane${b.lane}`).join(',') || '-',
          String(s.recordsCompleted),
          String(s.retries),
          `${s.failureRecords}/${s.recordsSentToFailure}`,
          (s.lastError ?? '').slice(0, 60),
        ]),
  );
  return formatTable([
    [
      'mapping',
      'shard',
      'lanes',
      'iterator age ms',
      'checkpoint',
      'in flight',
      'completed',
      'retries',
      'failures/records',
      'last error',
    ],
    ...rows,
  ]);
}

async function esmStatus(url: string): Promise<MappingStatus[]> {
  const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { mappings: MappingStatus[] }).mappings;
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
    case 'env': {
      // For a shell: `eval "$(npm run -s stack:env)"`, then the AWS CLI or any SDK reaches the local cloud.
      console.log(`export AWS_ENDPOINT_URL=${endpoints(config).edge}`);
      console.log('export AWS_ACCESS_KEY_ID=test');
      console.log('export AWS_SECRET_ACCESS_KEY=test');
      console.log(`export AWS_REGION=${config.env.LOCAL_REGION}`);
      console.log(`export AWS_DEFAULT_REGION=${config.env.LOCAL_REGION}`);
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
          ...(args.esm ? { esm: { mappings: esm ?? null } } : {}),
        };
        console.log(JSON.stringify(body, null, 2));
      } else {
        console.log(table(parts));
        if (args.esm) console.log(esm ? `\n${esmTable(esm)}` : '\nesm-poller is not healthy');
      }
      return healthy ? 0 : 1;
    }
  }
});
