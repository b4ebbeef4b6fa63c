import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProbeTargets } from './health.ts';
import { reachableByOthers, sharedRuntimeDir } from './parts/postgres-binaries.ts';
import type { SpawnSpec } from './processes.ts';
import { endpoints, type PartName, partPort, paths, type StackConfig } from './stack-config.ts';

/** How each part of the local cloud is started: its command, environment, data directory and ports. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TIER_SUBSTRATE: PartName[] = ['postgres', 'kinesis', 's3'];
export const TIER_COMPUTE: PartName[] = ['lambda', 'step-functions', 'esm-poller', 'edge'];
/** Consumers stop first, so the ESM poller can finish its in-flight batches and checkpoint them. */
export const STOP_ORDER: PartName[] = [
  'edge',
  'esm-poller',
  'step-functions',
  'lambda',
  'kinesis',
  's3',
  'postgres',
];
export const PART_PORT_KEYS: Record<PartName, string[]> = {
  postgres: ['LOCAL_POSTGRES_PORT'],
  kinesis: ['LOCAL_KINESIS_PORT'],
  s3: ['LOCAL_S3_PORT'],
  lambda: ['LOCAL_LAMBDA_PORT', 'LOCAL_HTTP_PORT', 'LOCAL_WEBSOCKET_PORT'],
  'step-functions': ['LOCAL_SFN_PORT'],
  'esm-poller': ['LOCAL_ESM_PORT'],
  edge: ['LOCAL_EDGE_PORT'],
};

export function postgresPassword(c: StackConfig): string {
  const file = paths(c).postgresPassword;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(c.dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * Postgres runs as the `postgres` user when we are root; if that user cannot reach the data directory (a
 * checkout under /root, say), the cluster lives in a shared runtime directory keyed by the data directory.
 */
export function postgresDataDir(c: StackConfig): string {
  const own = paths(c).postgres;
  if (process.getuid?.() !== 0 || reachableByOthers(c.dataDir)) return own;
  const key = createHash('sha256').update(c.dataDir).digest('hex').slice(0, 16);
  return path.join(sharedRuntimeDir(), `data-${key}`);
}

export function databaseUrls(c: StackConfig) {
  const pw = encodeURIComponent(postgresPassword(c));
  const base = `postgres://postgres:${pw}@127.0.0.1:${c.env.LOCAL_POSTGRES_PORT}`;
  return { admin: `${base}/postgres`, app: `${base}/fraud_platform`, localCloud: `${base}/local_cloud` };
}

function serviceFunctions(c: StackConfig): Array<{ key: string; httpRoutes?: number; role?: string }> {
  try {
    const service = JSON.parse(fs.readFileSync(paths(c).service, 'utf8')) as {
      functions?: Array<{ key: string; httpRoutes?: number; role?: string }>;
    };
    return service.functions ?? [];
  } catch {
    return [];
  }
}

function servesHttp(c: StackConfig): boolean {
  return serviceFunctions(c).some((f) => (f.httpRoutes ?? 0) > 0);
}

/**
 * Function key → the access key id it signs with locally: its role's name. plugins/offline-identities.cjs gives
 * it to the function as AWS_ACCESS_KEY_ID, as Lambda gives a function its role's credentials; the parts enforce
 * the role's statements on requests signed with it (local/parts/iam-enforcement.ts).
 */
function functionIdentities(c: StackConfig): Record<string, string> {
  return Object.fromEntries(serviceFunctions(c).flatMap((f) => (f.role ? [[f.key, f.role]] : [])));
}

export function probeTargets(c: StackConfig): ProbeTargets {
  const e = endpoints(c);
  return {
    region: c.env.LOCAL_REGION,
    postgresAdminUrl: databaseUrls(c).admin,
    kinesis: e.kinesis,
    s3: e.s3,
    lambda: e.lambda,
    // serverless-offline opens its HTTP port only for a service with HTTP routes.
    ...(servesHttp(c) ? { http: e.http } : {}),
    sfn: e.sfn,
    esm: e.esm,
    edge: e.edge,
  };
}

export function endpointOf(c: StackConfig, part: PartName): string {
  const e = endpoints(c);
  const byPart: Record<PartName, string> = {
    postgres: `127.0.0.1:${c.env.LOCAL_POSTGRES_PORT}`,
    kinesis: e.kinesis,
    s3: e.s3,
    lambda: `${e.lambda} (http ${e.http})`,
    'step-functions': e.sfn,
    'esm-poller': e.esm,
    edge: e.edge,
  };
  return byPart[part];
}

/** Environment for the serverless CLI and the parts: where everything is, no real credentials. */
export function childEnv(c: StackConfig): NodeJS.ProcessEnv {
  const e = endpoints(c);
  const viaEdge = c.env.LOCAL_AWS_CALLS === 'edge';
  return {
    ...process.env,
    LOCAL_S3_ENDPOINT: viaEdge ? e.edge : e.s3,
    LOCAL_KINESIS_ENDPOINT: viaEdge ? e.edge : e.kinesis,
    LOCAL_SFN_ENDPOINT: viaEdge ? e.edge : e.sfn,
    // The functions reach Lambda through the edge, which checks their roles (serverless-offline does not).
    LOCAL_LAMBDA_ENDPOINT: e.edge,
    LOCAL_ESM_ENDPOINT: e.esm,
    LOCAL_ACCOUNT_ID: c.env.LOCAL_ACCOUNT_ID,
    LOCAL_DATABASE_URL: databaseUrls(c).app,
    LOCAL_HTTP_PORT: String(c.env.LOCAL_HTTP_PORT),
    LOCAL_LAMBDA_PORT: String(c.env.LOCAL_LAMBDA_PORT),
    LOCAL_WEBSOCKET_PORT: String(c.env.LOCAL_WEBSOCKET_PORT),
    LOCAL_ESBUILD_WORK_FOLDER: path.relative(c.serviceDir, paths(c).esbuild),
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: c.env.LOCAL_REGION,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  };
}

/** tsx's ESM loader, as a file URL for `node --import` (what `--import tsx` resolves to, from any cwd). */
export function tsxImport(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(manifest), 'dist', 'loader.mjs')).href;
}

export function spawnSpec(c: StackConfig, part: PartName): SpawnSpec {
  const p = paths(c);
  const e = endpoints(c);
  const base = { part, pidDir: p.pids, logFile: path.join(p.logs, `${part}.log`), cwd: ROOT };
  const env = { ...childEnv(c), PART_PORT: String(partPort(c, part)), PART_SERVICE_FILE: p.service };
  const tsPart = (script: string, extraEnv: Record<string, string>, nodeFlags: string[] = []) => ({
    ...base,
    command: process.execPath,
    args: [...nodeFlags, '--import', tsxImport(), path.join(ROOT, 'local', 'parts', script)],
    env: { ...env, ...extraEnv },
  });
  switch (part) {
    case 'postgres':
      return tsPart('postgres.ts', {
        PART_DATA_DIR: postgresDataDir(c),
        PART_PASSWORD_FILE: p.postgresPassword,
      });
    case 'kinesis':
      return tsPart('kinesis.ts', { PART_DATA_DIR: p.kinesis });
    case 's3':
      return tsPart('s3.ts', { PART_DATA_DIR: p.s3 }, ['--openssl-legacy-provider']);
    case 'step-functions':
      return tsPart('step-functions.ts', {
        PART_LAMBDA_ENDPOINT: e.lambda,
        PART_MAX_HISTORY_EVENTS: String(c.env.LOCAL_SFN_MAX_HISTORY_EVENTS),
      });
    case 'esm-poller': {
      const viaEdge = c.env.LOCAL_AWS_CALLS === 'edge';
      return tsPart('esm-poller.ts', {
        PART_LAMBDA_ENDPOINT: viaEdge ? e.edge : e.lambda,
        PART_KINESIS_ENDPOINT: viaEdge ? e.edge : e.kinesis,
        PART_S3_ENDPOINT: viaEdge ? e.edge : e.s3,
        PART_DATABASE_URL: databaseUrls(c).localCloud,
        PART_FAILURE_DIR: path.join(c.dataDir, 'esm-failures'),
        PART_IDLE_MAX_MS: String(c.env.LOCAL_ESM_IDLE_MAX_MS),
        PART_CLOCK_OFFSET_MS: String(c.env.LOCAL_ESM_CLOCK_OFFSET_SECONDS * 1000),
      });
    }
    case 'edge':
      return tsPart('edge.ts', {
        PART_ROUTES: JSON.stringify({
          s3: e.s3,
          kinesis: e.kinesis,
          sfn: e.sfn,
          lambda: e.lambda,
          esm: e.esm,
        }),
      });
    case 'lambda': {
      const cli = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
      return {
        ...base,
        cwd: c.serviceDir,
        command: process.execPath,
        args: [cli, 'offline', 'start', '--stage', c.stage],
        // Local stack traces point at the sources (deployed bundles carry no maps unless asked for).
        env: {
          LAMBDA_SOURCE_MAPS: '1',
          ...env,
          LOCAL_FUNCTION_IDENTITIES: JSON.stringify(functionIdentities(c)),
        },
      };
    }
  }
}
