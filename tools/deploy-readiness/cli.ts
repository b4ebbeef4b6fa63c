import fs from 'node:fs/promises';
import { runCli, UsageError } from '../../local/cli-support.ts';
import { parseCliArguments } from './cli-arguments.ts';
import { checkPackageDir } from './package-dir.ts';
import { findingLine } from './report.ts';

/** `npm run check:deploy -- .package/dev --stage dev`: the report, every finding, exit 1 when there are any. */
runCli('check:deploy', async () => {
  const args = parseCliArguments(process.argv.slice(2));
  const stat = await fs.stat(args.dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UsageError(`${args.dir} is not a directory`);
  const { findings, lines } = await checkPackageDir(args.dir, args);
  for (const line of lines) console.log(line);
  console.log('');
  for (const finding of findings) console.log(findingLine(finding));
  console.log(
    findings.length === 0 ? 'deploy readiness: no findings' : `deploy readiness: ${findings.length} findings`,
  );
  return findings.length === 0 ? 0 : 1;
});
