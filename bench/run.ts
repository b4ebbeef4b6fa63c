import { runCli } from '../local/cli-support.ts';
import { type BenchName, parseBenchArgs, USAGE } from './args.ts';
import { coldStartBench } from './cold-start.ts';
import { decisionBench } from './decision.ts';
import { esmBench } from './esm.ts';
import { ingestBench } from './ingest.ts';
import { localCloudBench } from './local-cloud.ts';
import { type Bench, secondsSince, table, writeResult } from './report.ts';
import { rtdlBench } from './rtdl.ts';
import { sortBench } from './sort.ts';

/**
 * `npm run bench -- [name ...] [--smoke]`: benchmarks on this machine, each writing bench/results/<name>.json
 * (`<name>.smoke.json` with --smoke) with its figures and their ratio to a ceiling measured in the same run, and
 * printing a table. Numbers only: nothing here asserts a speed. `--smoke` without a name runs every bench at tiny
 * sizes (CI does, so none rots); no name and no --smoke lists the benches and runs local-cloud.
 */

const BENCHES: Record<BenchName, Bench> = {
  'local-cloud': localCloudBench,
  esm: esmBench,
  ingest: ingestBench,
  sort: sortBench,
  'cold-start': coldStartBench,
  rtdl: rtdlBench,
  decision: decisionBench,
};

/** Wall time on the 2-core development machine (full size / --smoke), for the listing. */
const TIMES: Record<BenchName, string> = {
  'local-cloud': '20 s / 25 s',
  esm: '1 min / 20 s',
  ingest: '45 s / 25 s',
  sort: '70 s / 2 s',
  'cold-start': '25 s / 7 s (+15 s when it packages)',
  rtdl: '8 min / 45 s (the 200k-event online-features history is 6 min of it; 16 min / 2.5 min at load ≈ 22)',
  decision: '3–3.5 min / 2 min at load ≈ 20–25 (the fabric drains its 4,000 decisions in 26–29 s of it)',
};

const list = () =>
  table(
    Object.values(BENCHES).map((b) => ({
      name: b.name,
      measures: b.summary,
      'full / smoke': TIMES[b.name as BenchName],
    })),
    ['name', 'measures', 'full / smoke'],
  );

const HELP = `${USAGE}

Each bench runs on this machine (loopback only; throwaway local clouds on free ports, stopped at the end) and
writes bench/results/<name>.json: its rows (name, value, unit, note), the ratios to the ceiling it measured in the
same run, the machine and the sizes.
  <name> ...   the benches to run, in that order
  --smoke      tiny sizes, seconds each (results in bench/results/<name>.smoke.json); without a name: every bench
  (nothing)    list the benches and run local-cloud

${list().join('\n')}`;

runCli('bench', async () => {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const say = (line: string) => console.log(line);
  if (args.defaulted) {
    say(`bench: no bench named, running local-cloud (${USAGE})`);
    for (const line of list()) say(`  ${line}`);
    say('');
  }
  const started = performance.now();
  const done: Array<{ bench: string; status: string; seconds: number; result: string }> = [];
  for (const name of args.names) {
    const bench = BENCHES[name];
    const t0 = performance.now();
    try {
      const outcome = await bench.run({ smoke: args.smoke, say });
      const file = writeResult(bench, args.smoke, outcome, secondsSince(t0), say);
      done.push({ bench: name, status: 'ok', seconds: Math.round(secondsSince(t0)), result: file });
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      console.error(`bench ${name}: FAILED: ${message}`);
      done.push({
        bench: name,
        status: 'FAILED',
        seconds: Math.round(secondsSince(t0)),
        result: message ?? '',
      });
    }
    say('');
  }
  if (args.names.length > 1) {
    for (const line of table(done, ['bench', 'status', 'seconds', 'result'])) say(line);
    say(
      `bench: ${args.names.length} benches in ${Math.round(secondsSince(started))} s${args.smoke ? ' (smoke)' : ''}`,
    );
  }
  const failed = done.filter((d) => d.status !== 'ok').map((d) => d.bench);
  if (failed.length > 0)
    throw new Error(
      `${failed.length} of ${args.names.length} failed: ${failed.join(', ')} (the logs of their last stacks: $TMPDIR/fraud-platform-last-logs/)`,
    );
  return 0;
});
