import fs from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCliArguments } from '../../../tools/deploy-readiness/cli-arguments.ts';
import { runScript } from '../../support/cli.ts';
import { writePackage } from './package-fixture.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('check:deploy arguments', () => {
  it('reads the directory, the stage and the zip goal', () => {
    expect(parseCliArguments(['.package/dev', '--stage', 'dev', '--zip-goal-bytes', '2000000'])).toEqual({
      dir: '.package/dev',
      stage: 'dev',
      zipGoalBytes: 2_000_000,
    });
    expect(parseCliArguments(['.package/dev', '--stage=prod'])).toEqual({
      dir: '.package/dev',
      stage: 'prod',
    });
  });

  it.each([
    [['.package/dev'], '--stage is required'],
    [['--stage', 'dev'], 'a package directory is required'],
    [['a', 'b', '--stage', 'dev'], 'one package directory, not 2'],
    [['a', '--stage', 'dev', '--zip-goal-bytes', '1.5'], '--zip-goal-bytes must be a whole number of bytes'],
    [['a', '--stage', 'dev', '--nope'], "Unknown option '--nope'"],
  ])('%j → a usage error: %s', (argv, reason) => {
    expect(() => parseCliArguments(argv)).toThrow(reason);
  });
});

// Each case starts tsx in a child process: seconds on a loaded machine.
describe('check:deploy', { timeout: 60_000 }, () => {
  it('prints the report and every finding, and exits 1 when there are findings', async () => {
    const dir = await writePackage('per-function');
    dirs.push(dir);
    const r = await runScript('tools/deploy-readiness/cli.ts', [dir, '--stage', 'dev']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^function +zip +zipped/m);
    expect(r.stdout).toContain(
      '[iam] IngestionDashgateDashapiLambdaFunction: ingestion-gate-api sends PutRecordsCommand: role grants no kinesis:PutRecords',
    );
    expect(r.stdout).toMatch(/^deploy readiness: \d+ findings$/m);
  });

  it('refuses a missing directory in one line, exit 2', async () => {
    const r = await runScript('tools/deploy-readiness/cli.ts', ['/nonexistent/package', '--stage', 'dev']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['check:deploy: /nonexistent/package is not a directory']);
  });
});
