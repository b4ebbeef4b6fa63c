import { execFile } from 'node:child_process';
import type { z } from 'zod';

/**
 * The real AWS CLI (`aws` on PATH) pointed at a local cloud the way a person points it: `AWS_ENDPOINT_URL` and
 * `test`/`test`, nothing else from the caller's AWS settings (profiles, config files, a pager). Run with execFile (no
 * shell) and a timeout. A missing `aws` is an error naming what to install, never a skip.
 */

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface AwsCli {
  /** `aws --version`, e.g. `aws-cli/1.45.11 Python/3.11.7 … botocore/1.43.11`. */
  version: string;
  /** Runs `aws <args>`; answers whatever the CLI answered (exit code, stdout, stderr). */
  run(args: readonly string[]): Promise<CliRun>;
  /** Runs `aws <args>`, which must succeed, and returns its stdout. */
  text(args: readonly string[]): Promise<string>;
  /** Runs `aws <args> --output json`, which must succeed, and parses stdout with `schema`. */
  json<T extends z.ZodType>(schema: T, args: readonly string[]): Promise<z.infer<T>>;
}

const TIMEOUT_MS = 60_000;

function exec(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'aws',
      [...args],
      { env, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(
            new Error(
              'the AWS CLI (`aws`) is not on PATH: this tier drives the real CLI against the local cloud. Install it ' +
                '(Debian: `apt-get install awscli`, which .ci/run does when it is missing) and run again.',
            ),
          );
          return;
        }
        if (error?.killed) {
          reject(new Error(`aws ${args.join(' ')}: no answer within ${TIMEOUT_MS} ms`));
          return;
        }
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/**
 * AWS_ENDPOINT_URL is read by aws-cli v1 from 1.29 and v2 from 2.13 (botocore 1.31). An older CLI (Debian bookworm
 * ships 2.9) would send every call to AWS itself, so it is also given `--endpoint-url`, and says so.
 */
export function readsEndpointUrlVariable(version: string): boolean {
  const m = /^aws-cli\/(\d+)\.(\d+)\./.exec(version);
  if (!m) throw new Error(`unrecognised \`aws --version\`: ${version}`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major === 1 ? minor >= 29 : major === 2 ? minor >= 13 : major > 2;
}

export async function awsCli(options: { endpoint: string; region: string }): Promise<AwsCli> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('AWS_') && value !== undefined) env[key] = value;
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: options.region,
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  const probe = await exec(['--version'], env);
  const version = `${probe.stdout}${probe.stderr}`.trim();
  if (probe.code !== 0) throw new Error(`aws --version failed (${probe.code}): ${version}`);
  const extra = readsEndpointUrlVariable(version) ? [] : ['--endpoint-url', options.endpoint];
  if (extra.length > 0)
    console.warn(`${version} does not read AWS_ENDPOINT_URL: --endpoint-url ${options.endpoint} is added`);
  const run = (args: readonly string[]) => exec([...args, ...extra], env);
  const text = async (args: readonly string[]) => {
    const out = await run(args);
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr.trim()}`);
    return out.stdout;
  };
  return {
    version,
    run,
    text,
    json: async (schema, args) => schema.parse(JSON.parse(await text([...args, '--output', 'json']))),
  };
}

/** `aws s3 ls` lines: `PRE <name>/` for a common prefix, `<date> <time> <size> <key>` for an object. */
export function s3Listing(stdout: string): {
  prefixes: string[];
  objects: Array<{ size: number; key: string }>;
} {
  const prefixes: string[] = [];
  const objects: Array<{ size: number; key: string }> = [];
  for (const line of stdout.split('\n')) {
    const pre = /^\s*PRE (.+)$/.exec(line);
    const obj = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\d+) (.+)$/.exec(line);
    if (pre?.[1]) prefixes.push(pre[1]);
    else if (obj?.[1] && obj[2]) objects.push({ size: Number(obj[1]), key: obj[2] });
    else if (line.trim() !== '') throw new Error(`not an \`aws s3 ls\` line: ${line}`);
  }
  return { prefixes, objects };
}

/**
 * A command line as it is typed: cmd`s3 ls s3://${bucket}/${run}/` → ['s3', 'ls', 's3://fraud-platform/<run>/'].
 * The literal text is split on whitespace; an interpolated value stays inside its word, spaces and all.
 */
export function cmd(strings: TemplateStringsArray, ...values: Array<string | number>): string[] {
  const words: string[] = [];
  let word = '';
  strings.forEach((literal, i) => {
    literal.split(/\s+/).forEach((part, j) => {
      if (j > 0 && word !== '') {
        words.push(word);
        word = '';
      }
      word += part;
    });
    if (i < values.length) word += String(values[i]);
  });
  if (word !== '') words.push(word);
  return words;
}
