import path from 'node:path';
import { z } from 'zod';
import { ConfigError, parseConfig } from '../lib/runtime/config.ts';

/** The parts of the local cloud, in start order within their tier. */
export const PART_NAMES = [
  'postgres',
  'kinesis',
  's3',
  'lambda',
  'step-functions',
  'esm-poller',
  'edge',
] as const;
export type PartName = (typeof PART_NAMES)[number];

const Port = z.coerce
  .number()
  .int()
  .min(1024, 'must be a port in 1024-65535')
  .max(65535, 'must be a port in 1024-65535');

/** Every port setting of the local cloud; no two may be equal. */
export const PORT_KEYS = [
  'LOCAL_POSTGRES_PORT',
  'LOCAL_KINESIS_PORT',
  'LOCAL_S3_PORT',
  'LOCAL_HTTP_PORT',
  'LOCAL_LAMBDA_PORT',
  'LOCAL_WEBSOCKET_PORT',
  'LOCAL_SFN_PORT',
  'LOCAL_ESM_PORT',
  'LOCAL_EDGE_PORT',
] as const;

/** Everything the local cloud is configured by: environment variables only, parsed once with their names. */
export const StackEnvironment = z.object({
  LOCAL_CLOUD_DIR: z.string().min(1).default('.local'),
  LOCAL_SERVICE_DIR: z.string().min(1).default('.'),
  LOCAL_POSTGRES_PORT: Port.default(5433),
  LOCAL_KINESIS_PORT: Port.default(4569),
  LOCAL_S3_PORT: Port.default(4575),
  LOCAL_HTTP_PORT: Port.default(3000),
  LOCAL_LAMBDA_PORT: Port.default(3002),
  LOCAL_WEBSOCKET_PORT: Port.default(3001),
  LOCAL_SFN_PORT: Port.default(4584),
  LOCAL_ESM_PORT: Port.default(4590),
  /** One endpoint for every AWS service of the local cloud (LocalStack's edge port). */
  LOCAL_EDGE_PORT: Port.default(4566),
  LOCAL_REGION: z.string().min(1).default('us-east-1'),
  LOCAL_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/, 'must be 12 digits')
    .default('000000000000'),
  /** Longest pause between polls of an idle shard (AWS polls about once a second); busy shards are polled at once. */
  LOCAL_ESM_IDLE_MAX_MS: z.coerce.number().int().min(10).max(1000).default(250),
  /** Seconds the ESM poller's clock runs ahead (tests: records reach maximumRecordAgeInSeconds without waiting). */
  LOCAL_ESM_CLOCK_OFFSET_SECONDS: z.coerce.number().int().min(0).max(604_800).default(0),
  /** Events a Step Functions execution may have before it fails (AWS's hard quota is 25,000; lower it in tests). */
  /**
   * Where the functions and the ESM poller send their AWS calls: `direct` to each part's own port (default), `edge`
   * through the edge endpoint, as an SDK with AWS_ENDPOINT_URL would (the edge benchmarks compare the two).
   */
  LOCAL_AWS_CALLS: z.enum(['direct', 'edge']).default('direct'),
  LOCAL_SFN_MAX_HISTORY_EVENTS: z.coerce.number().int().min(20).max(25_000).default(25_000),
  LOCAL_STARTUP_TIMEOUT_SECONDS: z.coerce.number().positive().max(600).default(120),
});
export type StackEnvironment = z.infer<typeof StackEnvironment>;

export interface StackConfig {
  env: StackEnvironment;
  /** Absolute data directory (PID files, logs, emulator data). */
  dataDir: string;
  /** Absolute directory holding serverless.yml. */
  serviceDir: string;
  stage: 'local';
  host: '127.0.0.1';
}

export function stackConfig(source: Record<string, string | undefined> = process.env): StackConfig {
  const env = parseConfig(StackEnvironment, source, 'local cloud configuration');
  const seen = new Map<number, string>();
  for (const key of PORT_KEYS) {
    const port = env[key];
    const other = seen.get(port);
    if (other)
      throw new ConfigError(
        `invalid local cloud configuration: ${key}: port ${port} is also given to ${other}`,
      );
    seen.set(port, key);
  }
  return {
    env,
    dataDir: path.resolve(env.LOCAL_CLOUD_DIR),
    serviceDir: path.resolve(env.LOCAL_SERVICE_DIR),
    stage: 'local',
    host: '127.0.0.1',
  };
}

export const HOST = '127.0.0.1';

/** Endpoints of every part, as application code and the CLI reach them. */
export function endpoints(c: StackConfig) {
  const e = c.env;
  return {
    postgres: `postgres://postgres@${HOST}:${e.LOCAL_POSTGRES_PORT}/fraud_platform`,
    kinesis: `http://${HOST}:${e.LOCAL_KINESIS_PORT}`,
    s3: `http://${HOST}:${e.LOCAL_S3_PORT}`,
    http: `http://${HOST}:${e.LOCAL_HTTP_PORT}`,
    lambda: `http://${HOST}:${e.LOCAL_LAMBDA_PORT}`,
    sfn: `http://${HOST}:${e.LOCAL_SFN_PORT}`,
    esm: `http://${HOST}:${e.LOCAL_ESM_PORT}`,
    edge: `http://${HOST}:${e.LOCAL_EDGE_PORT}`,
  };
}
export type Endpoints = ReturnType<typeof endpoints>;

export function partPort(c: StackConfig, part: PartName): number {
  const e = c.env;
  const byPart: Record<PartName, number> = {
    postgres: e.LOCAL_POSTGRES_PORT,
    kinesis: e.LOCAL_KINESIS_PORT,
    s3: e.LOCAL_S3_PORT,
    lambda: e.LOCAL_LAMBDA_PORT,
    'step-functions': e.LOCAL_SFN_PORT,
    'esm-poller': e.LOCAL_ESM_PORT,
    edge: e.LOCAL_EDGE_PORT,
  };
  return byPart[part];
}

export const paths = (c: StackConfig) => ({
  pids: path.join(c.dataDir, 'pids'),
  logs: path.join(c.dataDir, 'logs'),
  postgres: path.join(c.dataDir, 'postgres'),
  postgresPassword: path.join(c.dataDir, 'postgres.password'),
  kinesis: path.join(c.dataDir, 'kinesis'),
  s3: path.join(c.dataDir, 's3'),
  service: path.join(c.dataDir, 'service.json'),
  esbuild: path.join(c.dataDir, 'esbuild'),
  state: path.join(c.dataDir, 'stack.json'),
});
