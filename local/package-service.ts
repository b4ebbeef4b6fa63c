import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { z } from 'zod';
import { buildDuckdbLayer } from '../layers/duckdb/build.ts';
import { checkPackageDir } from '../tools/deploy-readiness/package-dir.ts';
import { findingLine } from '../tools/deploy-readiness/report.ts';
import { runCli, UsageError } from './cli-support.ts';

/**
 * `npm run package -- --stage local|localstack|dev|prod`: `sls package` with no cloud reachable, then the
 * deploy-readiness check on what it wrote (tools/deploy-readiness): the template holds every declared function,
 * mapping, state machine, role and stream; valid ASL; no dependency cycle; properties and GetAtt valid against the
 * CloudFormation specification; names; sizes per function (printed); layers; IAM against the SDK calls in each
 * bundle. Any finding fails it.
 */

const USAGE = 'usage: npm run package -- --stage local|localstack|dev|prod';
const Flags = z.object({
  stage: z.enum(['local', 'localstack', 'dev', 'prod'], {
    error: (i) => `unknown stage ${JSON.stringify(i.input)}; stages: local, localstack, dev, prod`,
  }),
});

runCli('package', async () => {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: { stage: { type: 'string', default: 'dev' } },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const parsed = Flags.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? USAGE);
  const { stage } = parsed.data;
  const root = process.cwd();
  const out = path.join('.package', stage);
  fs.rmSync(out, { recursive: true, force: true });
  buildDuckdbLayer((line) => console.log(`package: ${line}`));
  console.log(`package: sls package --stage ${stage} (offline: no AWS account or LocalStack is contacted)`);
  const started = Date.now();
  const cli = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
  try {
    await promisify(execFile)(process.execPath, [cli, 'package', '--stage', stage, '--package', out], {
      cwd: root,
      timeout: 300_000,
      maxBuffer: 32 * 1024 * 1024,
      env: {
        ...process.env,
        // Packaging needs credentials to exist, not to be valid; nothing is sent anywhere.
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'offline-package',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'offline-package',
        SLS_OFFLINE_PACKAGE: '1',
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
      },
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const text = `${e.stdout ?? ''}\n${e.stderr ?? ''}`;
    const line = text.split('\n').find((l) => /Error|error:|Cannot|not /.test(l)) ?? e.message;
    throw new Error(`sls package --stage ${stage} failed: ${line.trim()}`);
  }
  console.log(`package: packaged in ${((Date.now() - started) / 1000).toFixed(1)} s into ${out}`);
  const { findings, lines } = await checkPackageDir(out, { stage });
  for (const line of lines) console.log(`  ${line}`);
  for (const finding of findings) console.log(`  ${findingLine(finding)}`);
  if (findings.length > 0)
    throw new Error(`deploy readiness: ${findings.length} findings on the ${stage} package (listed above)`);
  console.log(
    `package: ${stage} is deploy-ready: no finding of the deploy-readiness check (tools/deploy-readiness)`,
  );
  return 0;
});
