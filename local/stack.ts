import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bootstrap } from './bootstrap.ts';
import { type ProbeTargets, probe } from './health.ts';
import { reachableByOthers, sharedRuntimeDir } from './parts/postgres-binaries.ts';
import { isAlive, portInUse, readPid, type SpawnSpec, spawnPart, stopPart, tail } from './processes.ts';
import { describeService, printService, type ServiceDefinition } from './service-definition.ts';
import {
  type Endpoints,
  endpoints,
  PART_NAMES,
  type PartName,
  partPort,
  paths,
  type StackConfig,
} from './stack-config.ts';

/** The local cloud's lifecycle: up (idempotent), status, down (by PID files only). */

export type Reporter = (line: string) => void;

export interface PartStatus {
  name: PartName;
  endpoint: string;
  healthy: boolean;
  pid: number | undefined;
  detail: string;
}

export interface StackState {
  dataDir: string;
  serviceDir: string;
  service: string;
  stage: string;
  region: string;
  accountId: string;
  endpoints: Endpoints;
  databaseUrl: string;
  stateMachines: Array<{ name: string; arn: string }>;
  functions: string[];
  startedAt: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIER_SUBSTRATE: PartName[] = ['postgres', 'kinesis', 's3'];
const TIER_COMPUTE: PartName[] = ['lambda', 'step-functions', 'esm-poller'];
/** Consumers stop first, so the ESM poller can finish its in-flight batches and checkpoint them. */
const STOP_ORDER: PartName[] = ['esm-poller', 'step-functions', 'lambda', 'kinesis', 's3', 'postgres'];
const PORT_KEYS: Record<PartName, string[]> = {
  postgres: ['LOCAL_POSTGRES_PORT'],
  kinesis: ['LOCAL_KINESIS_PORT'],
  s3: ['LOCAL_S3_PORT'],
  lambda: ['LOCAL_LAMBDA_PORT', 'LOCAL_HTTP_PORT', 'LOCAL_WEBSOCKET_PORT'],
  'step-functions': ['LOCAL_SFN_PORT'],
  'esm-poller': ['LOCAL_ESM_PORT'],
};

function postgresPassword(c: StackConfig): string {
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
function postgresDataDir(c: StackConfig): string {
  const own = paths(c).postgres;
  if (process.getuid?.() !== 0 || reachableByOthers(c.dataDir)) return own;
  const key = createHash('sha256').update(c.dataDir).digest('hex').slice(0, 16);
  return path.join(sharedRuntimeDir(), `data-${key}`);
}

function databaseUrls(c: StackConfig) {
  const pw = encodeURIComponent(postgresPassword(c));
  const base = `postgres://postgres:${pw}@127.0.0.1:${c.env.LOCAL_POSTGRES_PORT}`;
  return { admin: `${base}/postgres`, app: `${base}/fraud_platform`, localCloud: `${base}/local_cloud` };
}

function probeTargets(c: StackConfig): ProbeTargets {
  const e = endpoints(c);
  return {
    region: c.env.LOCAL_REGION,
    postgresAdminUrl: databaseUrls(c).admin,
    kinesis: e.kinesis,
    s3: e.s3,
    lambda: e.lambda,
    sfn: e.sfn,
    esm: e.esm,
  };
}

function endpointOf(c: StackConfig, part: PartName): string {
  const e = endpoints(c);
  const byPart: Record<PartName, string> = {
    postgres: `127.0.0.1:${c.env.LOCAL_POSTGRES_PORT}`,
    kinesis: e.kinesis,
    s3: e.s3,
    lambda: `${e.lambda} (http ${e.http})`,
    'step-functions': e.sfn,
    'esm-poller': e.esm,
  };
  return byPart[part];
}

/** Environment for the serverless CLI and the parts: where everything is, no real credentials. */
function childEnv(c: StackConfig): NodeJS.ProcessEnv {
  const e = endpoints(c);
  return {
    ...process.env,
    LOCAL_S3_ENDPOINT: e.s3,
    LOCAL_KINESIS_ENDPOINT: e.kinesis,
    LOCAL_SFN_ENDPOINT: e.sfn,
    LOCAL_LAMBDA_ENDPOINT: e.lambda,
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
function tsxImport(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  return pathToFileURL(path.join(path.dirname(manifest), 'dist', 'loader.mjs')).href;
}

function spawnSpec(c: StackConfig, part: PartName): SpawnSpec {
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
      return tsPart('step-functions.ts', { PART_LAMBDA_ENDPOINT: e.lambda });
    case 'esm-poller':
      return tsPart('esm-poller.ts', {
        PART_LAMBDA_ENDPOINT: e.lambda,
        PART_KINESIS_ENDPOINT: e.kinesis,
        PART_S3_ENDPOINT: e.s3,
        PART_DATABASE_URL: databaseUrls(c).localCloud,
        PART_FAILURE_DIR: path.join(c.dataDir, 'esm-failures'),
        PART_IDLE_MAX_MS: String(c.env.LOCAL_ESM_IDLE_MAX_MS),
      });
    case 'lambda': {
      const cli = createRequire(import.meta.url).resolve('osls/bin/serverless.js');
      return {
        ...base,
        cwd: c.serviceDir,
        command: process.execPath,
        args: [cli, 'offline', 'start', '--stage', c.stage],
        env,
      };
    }
  }
}

export async function stackStatus(c: StackConfig): Promise<PartStatus[]> {
  const targets = probeTargets(c);
  const p = paths(c);
  return Promise.all(
    PART_NAMES.map(async (name): Promise<PartStatus> => {
      const rec = readPid(p.pids, name);
      const endpoint = endpointOf(c, name);
      const log = path.join(p.logs, `${name}.log`);
      if (rec && !isAlive(rec.pid)) {
        const last = tail(log, 1);
        return {
          name,
          endpoint,
          healthy: false,
          pid: rec.pid,
          detail: `crashed: pid ${rec.pid} exited${last ? ` (last log: ${last.slice(0, 160)})` : ''}`,
        };
      }
      const answer = await probe(name, targets);
      if (!rec)
        return {
          name,
          endpoint,
          healthy: false,
          pid: undefined,
          detail: answer === true ? 'answering, but not started by this stack' : 'stopped',
        };
      return answer === true
        ? { name, endpoint, healthy: true, pid: rec.pid, detail: 'healthy' }
        : { name, endpoint, healthy: false, pid: rec.pid, detail: `running, not answering: ${answer}` };
    }),
  );
}

/** Fingerprint of everything `sls print` reads, to tell when a running stack serves a stale definition. */
function definitionFingerprint(c: StackConfig): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ya?ml|cjs|json)$/.test(entry.name)) h.update(full).update(fs.readFileSync(full));
    }
  };
  h.update(fs.readFileSync(path.join(c.serviceDir, 'serverless.yml')));
  for (const d of ['config', 'statemachines', 'functions']) walk(path.join(c.serviceDir, d));
  return h.digest('hex');
}

async function loadService(c: StackConfig): Promise<ServiceDefinition & { fingerprint: string }> {
  const fingerprint = definitionFingerprint(c);
  const printed = await printService(c.serviceDir, c.stage, childEnv(c));
  const service = { ...describeService(printed, c.env.LOCAL_ACCOUNT_ID, c.env.LOCAL_REGION), fingerprint };
  fs.writeFileSync(paths(c).service, JSON.stringify(service, null, 2));
  return service;
}

async function waitHealthy(c: StackConfig, part: PartName, pid: number): Promise<void> {
  const deadline = Date.now() + c.env.LOCAL_STARTUP_TIMEOUT_SECONDS * 1000;
  const log = path.join(paths(c).logs, `${part}.log`);
  let last: true | string = 'not probed';
  while (Date.now() < deadline) {
    if (!isAlive(pid))
      throw new Error(
        `${part} exited during start: ${tail(log, 3).replace(/\n/g, ' | ').slice(-400)} (log: ${log})`,
      );
    last = await probe(part, probeTargets(c));
    if (last === true) return;
    await sleep(100);
  }
  throw new Error(
    `${part} did not become healthy within ${c.env.LOCAL_STARTUP_TIMEOUT_SECONDS} s (${last}); log: ${log}`,
  );
}

/** Which parts must be started; fails before starting anything when a port it needs is taken. */
async function planStarts(c: StackConfig, parts: PartName[], report: Reporter): Promise<PartName[]> {
  const p = paths(c);
  const toStart: PartName[] = [];
  for (const part of parts) {
    const rec = readPid(p.pids, part);
    if (rec && isAlive(rec.pid)) continue;
    if (rec) {
      const last = tail(path.join(p.logs, `${part}.log`), 1);
      report(
        `  ! ${part} had crashed (pid ${rec.pid} exited${last ? `: ${last.slice(0, 160)}` : ''}); restarting it`,
      );
      await stopPart(p.pids, part, 1000);
    }
    for (const key of PORT_KEYS[part]) {
      const port = Number(c.env[key as keyof StackConfig['env']]);
      if (await portInUse(port)) {
        throw new Error(
          `port ${port} (${key}, for ${part}) is in use by another process; stop it or set ${key} to a free port`,
        );
      }
    }
    toStart.push(part);
  }
  return toStart;
}

async function ensureParts(c: StackConfig, parts: PartName[], report: Reporter): Promise<void> {
  const p = paths(c);
  await Promise.all(
    parts.map(async (part) => {
      const existing = readPid(p.pids, part);
      const started = Date.now();
      if (existing && isAlive(existing.pid)) {
        await waitHealthy(c, part, existing.pid);
        return;
      }
      report(`  … ${part.padEnd(15)} starting on ${endpointOf(c, part)}`);
      // serverless-esbuild never cleans its build folder; stale bundles of another format would shadow new ones.
      if (part === 'lambda') fs.rmSync(paths(c).esbuild, { recursive: true, force: true });
      const rec = spawnPart(spawnSpec(c, part));
      await waitHealthy(c, part, rec.pid);
      report(
        `  ✓ ${part.padEnd(15)} healthy in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${rec.pid})`,
      );
    }),
  );
}

export function readStackState(dataDir: string): StackState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.json'), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export async function stackUp(c: StackConfig, report: Reporter): Promise<StackState> {
  const t0 = Date.now();
  const p = paths(c);
  for (const dir of [c.dataDir, p.pids, p.logs]) fs.mkdirSync(dir, { recursive: true });
  // Postgres runs as the `postgres` user when we are root, and must be able to enter the data directory.
  fs.chmodSync(c.dataDir, 0o755);
  if (!fs.existsSync(path.join(c.serviceDir, 'serverless.yml')))
    throw new Error(`no serverless.yml in ${c.serviceDir} (LOCAL_SERVICE_DIR)`);

  const before = await stackStatus(c);
  const state = readStackState(c.dataDir);
  if (before.every((s) => s.healthy) && state) {
    if (readServiceFingerprint(c) !== definitionFingerprint(c)) {
      report(
        '  ! serverless.yml or its files changed since the stack started: run npm run stack:down, then stack:up, to load them',
      );
    }
    report(`local cloud already up (${before.length} parts healthy); nothing to do`);
    return state;
  }

  report(
    `local cloud: starting in ${path.relative(process.cwd(), c.dataDir) || '.'} for ${c.serviceDir} (stage ${c.stage})`,
  );
  const starts = await planStarts(c, [...TIER_SUBSTRATE, ...TIER_COMPUTE], report);
  report(`  … resolving serverless.yml (sls print) while the substrate starts`);
  const servicePromise = loadService(c);
  servicePromise.catch(() => undefined);
  await ensureParts(c, TIER_SUBSTRATE, report);
  const service = await servicePromise;
  report(
    `  ✓ serverless.yml: ${service.functions.length} functions, ${service.stateMachines.length} state machines, ` +
      `${service.buckets.length} buckets, ${service.streams.length} streams, ${service.functions.reduce((n, f) => n + f.streamEvents.length, 0)} stream mappings`,
  );
  const urls = databaseUrls(c);
  const e = endpoints(c);
  const boot = await bootstrap(service, {
    region: c.env.LOCAL_REGION,
    s3: e.s3,
    kinesis: e.kinesis,
    postgresAdminUrl: urls.admin,
    databaseUrl: urls.app,
    localCloudDatabaseUrl: urls.localCloud,
  });
  report(
    `  ✓ bootstrap: database fraud_platform${boot.databaseCreated ? ' created' : ' present'}, migrations applied: ${boot.migrationsApplied.length}, ` +
      `buckets created: ${boot.bucketsCreated.length}/${service.buckets.length}, streams created: ${boot.streamsCreated.length}/${service.streams.length}`,
  );
  await ensureParts(c, TIER_COMPUTE, report);
  void starts;

  const next: StackState = {
    dataDir: c.dataDir,
    serviceDir: c.serviceDir,
    service: service.service,
    stage: service.stage,
    region: service.region,
    accountId: service.accountId,
    endpoints: e,
    databaseUrl: urls.app,
    stateMachines: service.stateMachines.map((m) => ({ name: m.name, arn: m.arn })),
    functions: service.functions.map((f) => f.name),
    startedAt: new Date().toISOString(),
  };
  fs.writeFileSync(p.state, JSON.stringify(next, null, 2), { mode: 0o600 });
  report(`local cloud up in ${((Date.now() - t0) / 1000).toFixed(1)} s; logs in ${p.logs}`);
  return next;
}

function readServiceFingerprint(c: StackConfig): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(paths(c).service, 'utf8')) as { fingerprint?: string }).fingerprint;
  } catch {
    return undefined;
  }
}

/** Stops the given parts (default all, compute first) by their PID files; returns the ones that were running. */
export async function stackDown(
  c: StackConfig,
  report: Reporter,
  parts: PartName[] = [...STOP_ORDER],
): Promise<PartName[]> {
  const p = paths(c);
  const stopped: PartName[] = [];
  for (const part of parts) {
    const rec = readPid(p.pids, part);
    if (!rec) continue;
    const wasRunning = await stopPart(p.pids, part);
    report(`  ${wasRunning ? '✓ stopped' : '- was not running'} ${part} (pid ${rec.pid})`);
    if (wasRunning) stopped.push(part);
  }
  if (parts.length === PART_NAMES.length) fs.rmSync(p.state, { force: true });
  return stopped;
}
