import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const tsx = createRequire(import.meta.url).resolve('tsx/cli');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's TS command-line entry points as a newcomer would (through tsx). */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [tsx, path.resolve(script), ...args],
      { env: { ...process.env, ...env }, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
