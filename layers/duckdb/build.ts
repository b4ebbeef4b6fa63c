import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Builds the DuckDB Lambda layer: `build/<arch>/nodejs/node_modules/@duckdb/...` for linux x64 and arm64 (glibc,
 * Amazon Linux 2023), at the version the project depends on. serverless.yml packages `build/x64` (the functions'
 * architecture); the arm64 tree is there for a Graviton deploy. A no-op when the version is already built.
 */

export function buildDuckdbLayer(say: (line: string) => void = console.log): void {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const version = (
    JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    }
  ).dependencies['@duckdb/node-api'];
  if (!version) throw new Error('package.json has no @duckdb/node-api dependency');

  for (const cpu of ['x64', 'arm64']) {
    const dir = path.join(import.meta.dirname, 'build', cpu, 'nodejs');
    const stamp = path.join(dir, '.built');
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === version) {
      say(`duckdb layer ${cpu}: @duckdb/node-api@${version} already built`);
      continue;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    execFileSync(
      'npm',
      [
        'install',
        '--no-save',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--os=linux',
        `--cpu=${cpu}`,
        '--libc=glibc',
        `@duckdb/node-api@${version}`,
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    fs.rmSync(path.join(dir, 'package-lock.json'), { force: true });
    fs.writeFileSync(stamp, version);
    say(`duckdb layer ${cpu}: built @duckdb/node-api@${version} in ${path.relative(root, dir)}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename))
  buildDuckdbLayer();
