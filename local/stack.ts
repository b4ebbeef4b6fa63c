import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootstrap } from './bootstrap.ts';
import { probe } from './health.ts';
import { isAlive, portInUse, readPid, spawnPart, stopPart, tail } from './processes.ts';
import { describeService, printService, type ServiceDefinition } from './service-definition.ts';
import {
  type Endpoints,
  endpoints,
  PART_NAMES,
  type PartName,
  paths,
  type StackConfig,
} from './stack-config.ts';
import {
  childEnv,
  databaseUrls,
  endpointOf,
  PART_PORT_KEYS,
  probeTargets,
  STOP_ORDER,
  spawnSpec,
  TIER_COMPUTE,
  TIER_SUBSTRATE,
} from './stack-parts.ts';

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
    for (const key of PART_PORT_KEYS[part]) {
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

/**
 * serverless-esbuild never cleans its build folder (stale bundles of another format would shadow new ones), and
 * what the bundles leave external as on AWS (`@aws-sdk/client-*`, which the nodejs22.x runtime provides, and
 * `@duckdb/*`, which the DuckDB layer provides on NODE_PATH) must resolve here: through `node_modules/<scope>`
 * beside the build folder, linked to the service's own install.
 */
const RUNTIME_PROVIDED_SCOPES = ['@aws-sdk', '@duckdb'];

function prepareBundleFolder(c: StackConfig): void {
  const folder = paths(c).esbuild;
  fs.rmSync(folder, { recursive: true, force: true });
  fs.mkdirSync(path.join(folder, 'node_modules'), { recursive: true });
  for (const scope of RUNTIME_PROVIDED_SCOPES) {
    const installed = path.join(c.serviceDir, 'node_modules', scope);
    if (fs.existsSync(installed)) fs.symlinkSync(installed, path.join(folder, 'node_modules', scope), 'dir');
  }
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
      if (part === 'lambda') prepareBundleFolder(c);
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
