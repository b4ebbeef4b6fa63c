import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { layoutOf, type PackagedFunction, packagedFunctions } from './package-layout.ts';
import { type Bench, median, type Ratio, type Row, row } from './report.ts';

/**
 * `npm run bench -- cold-start`: how long each Lambda bundle of `npm run package -- --stage dev` takes to load
 * in a fresh `node` process on this machine: `require(<bundle>)` timed inside the process (performance.now()
 * around it, printed as JSON), median over fresh processes (5, smoke 1), handlers interleaved round by round.
 *
 * Each process sees what the nodejs22.x runtime gives it: the unzipped function as its working directory,
 * NODE_PATH = the layer's `nodejs/node_modules` (functions with the DuckDB layer) then a directory providing
 * `@aws-sdk/*` (and its `@smithy/*`, `@aws-crypto/*`) — links into this repository's node_modules, standing in for
 * the runtime's own SDK — and the function's environment from the template. The baseline is the same kind of
 * process requiring an empty module: ratio = handler process / baseline process (wall time, spawn to exit);
 * an empty `require` itself takes a fraction of a millisecond, so its ratio would say nothing.
 */

const PACKAGE_DIR = path.join('.package', 'dev');
const TARGET_MS = 250;
/** What `npm run package` bundles: a package older than any of these is packaged again. */
const SOURCES = [
  'functions',
  'lib',
  'layers/duckdb/build.ts',
  'config',
  'plugins',
  'serverless.yml',
  'package-lock.json',
];
/** The scopes the nodejs22.x runtime's SDK install provides. */
const RUNTIME_SCOPES = ['@aws-sdk', '@smithy', '@aws-crypto'];

const PROBE = `
const t0 = performance.now();
const m = require(process.argv[1]);
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, exported: process.argv[2] ? typeof m[process.argv[2]] : 'n/a' }));
process.exit(0);
`;

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'build' || e.name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(p, e.name)));
  }
  return newest;
}

/** Packages the service for dev when `.package/dev` is missing or older than the sources. */
function ensurePackage(say: (line: string) => void): { packaged: boolean; reason: string } {
  const template = path.join(PACKAGE_DIR, 'cloudformation-template-update-stack.json');
  const packagedAt = fs.existsSync(template) ? fs.statSync(template).mtimeMs : 0;
  const sourcesAt = Math.max(...SOURCES.map(newestMtime));
  if (packagedAt > sourcesAt) return { packaged: false, reason: `${PACKAGE_DIR} is newer than the sources` };
  const reason = packagedAt === 0 ? `no ${PACKAGE_DIR}` : `${PACKAGE_DIR} is older than the sources`;
  say(`bench cold-start: ${reason}; npm run package -- --stage dev`);
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  execFileSync(process.execPath, [tsx, 'local/package-service.ts', '--stage', 'dev'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 300_000,
  });
  return { packaged: true, reason };
}

async function unzip(zipFile: string, into: string): Promise<void> {
  const zip = await JSZip.loadAsync(fs.readFileSync(zipFile));
  for (const entry of Object.values(zip.files)) {
    const target = path.join(into, entry.name);
    if (!target.startsWith(into + path.sep))
      throw new Error(`${zipFile}: entry ${entry.name} leaves the directory`);
    if (entry.dir) fs.mkdirSync(target, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, await entry.async('nodebuffer'));
    }
  }
}

function bundleIn(root: string, module: string): string {
  for (const ext of ['.cjs', '.js', '.mjs'])
    if (fs.existsSync(path.join(root, module + ext))) return module + ext;
  throw new Error(`no ${module}.{cjs,js,mjs} in the unzipped code`);
}

/** The message of an uncaught error in a child's stderr: the line before the first stack frame. */
function errorLine(error: unknown): string {
  const e = error as { stderr?: string; message: string };
  const lines = (e.stderr ?? '').split('\n');
  const frame = lines.findIndex((l) => l.startsWith('    at '));
  const line =
    frame > 0
      ? lines
          .slice(0, frame)
          .filter((l) => l.trim() !== '')
          .at(-1)
      : undefined;
  return (line ?? e.message.split('\n')[0] ?? '').trim().slice(0, 300);
}

interface Sample {
  requireMs: number;
  processMs: number;
  exported: string;
}

function sample(cwd: string, modulePath: string, exportName: string, env: Record<string, string>): Sample {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, ['-e', PROBE, modulePath, exportName], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const processMs = performance.now() - t0;
  const r = JSON.parse(out) as { ms: number; exported: string };
  return { requireMs: r.ms, processMs, exported: r.exported };
}

export const coldStartBench: Bench = {
  name: 'cold-start',
  summary:
    'require() time of every Lambda bundle of npm run package in fresh node processes, beside node startup',
  async run({ smoke, say }) {
    const runs = smoke ? 1 : 5;
    const pkg = ensurePackage(say);
    const template = JSON.parse(
      fs.readFileSync(path.join(PACKAGE_DIR, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as unknown;
    const state = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'serverless-state.json'), 'utf8')) as {
      service?: { service?: string; provider?: { stage?: string } };
    };
    const functions = packagedFunctions(template, state.service?.service, state.service?.provider?.stage);
    if (functions.length === 0) throw new Error(`${PACKAGE_DIR} holds no Lambda function`);
    const layout = layoutOf(functions);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-start-'));
    try {
      // The runtime's SDK: links to this repository's install of the scopes the nodejs22.x runtime ships.
      const runtimeModules = path.join(work, 'runtime', 'node_modules');
      fs.mkdirSync(runtimeModules, { recursive: true });
      for (const scope of RUNTIME_SCOPES) {
        const real = path.resolve('node_modules', scope);
        if (fs.existsSync(real)) fs.symlinkSync(real, path.join(runtimeModules, scope), 'dir');
      }
      const zips = [...new Set(functions.flatMap((f) => [f.zip, ...f.layerZips]))];
      for (const z of zips) await unzip(path.join(PACKAGE_DIR, z), path.join(work, z));
      say(
        `bench cold-start: ${functions.length} functions (${layout} zips), ${runs} fresh process(es) each, node ${process.version}`,
      );

      const envOf = (f: PackagedFunction | undefined, cwd: string): Record<string, string> => ({
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        LAMBDA_TASK_ROOT: cwd,
        ...(f ? { AWS_LAMBDA_FUNCTION_NAME: f.functionName, ...f.environment } : {}),
        NODE_PATH: [
          ...(f?.layerZips ?? []).map((z) => path.join(work, z, 'nodejs', 'node_modules')),
          runtimeModules,
        ].join(path.delimiter),
      });
      const emptyDir = path.join(work, 'empty');
      fs.mkdirSync(emptyDir);
      fs.writeFileSync(path.join(emptyDir, 'empty.cjs'), '');
      const baselineEnv = envOf(undefined, emptyDir);
      sample(emptyDir, './empty.cjs', '', baselineEnv); // the node binary into the page cache; not counted

      const targets = functions.map((f) => {
        const cwd = path.join(work, f.zip);
        const bundle = bundleIn(cwd, f.module);
        return { f, cwd, bundle, env: envOf(f, cwd), samples: [] as Sample[] };
      });
      const baseline: Sample[] = [];
      for (let round = 0; round < runs; round++) {
        baseline.push(sample(emptyDir, './empty.cjs', '', baselineEnv));
        for (const t of targets) {
          try {
            t.samples.push(sample(t.cwd, `./${t.bundle}`, t.f.exportName, t.env));
          } catch (error) {
            throw new Error(`${t.f.key}: require(${t.bundle}) failed: ${errorLine(error)}`);
          }
        }
      }

      const rows: Row[] = [];
      const ratios: Ratio[] = [];
      const baseRequire = row(
        'baseline: empty module require',
        median(baseline.map((s) => s.requireMs)),
        'ms',
        'inside a fresh process',
      );
      const baseProcess = row(
        'baseline: node process (empty module)',
        median(baseline.map((s) => s.processMs)),
        'ms',
        'spawn to exit: node startup (the ceiling)',
      );
      rows.push(baseRequire, baseProcess);
      const perHandler: Record<string, unknown> = {};
      const missingExport: string[] = [];
      for (const t of targets) {
        const requireMs = median(t.samples.map((s) => s.requireMs));
        const processMs = median(t.samples.map((s) => s.processMs));
        const zipKb = fs.statSync(path.join(PACKAGE_DIR, t.f.zip)).size / 1024;
        const bundleKb = fs.statSync(path.join(t.cwd, t.bundle)).size / 1024;
        const exported = t.samples[0]?.exported ?? '?';
        if (exported !== 'function') missingExport.push(`${t.f.key} (${t.f.exportName}: ${exported})`);
        const layers = t.f.layerZips.length > 0 ? `, layer ${t.f.layerZips.join(' ')}` : '';
        const r = row(
          t.f.key,
          requireMs,
          'ms',
          `zip ${Math.round(zipKb)} KB${layout === 'per-function' ? '' : ' (shared)'}, bundle ${Math.round(bundleKb)} KB${layers}; process ${Math.round(processMs)} ms; ${requireMs <= TARGET_MS ? 'within' : 'OVER'} the ${TARGET_MS} ms target`,
        );
        rows.push(r);
        ratios.push({
          measure: t.f.key,
          ceiling: baseProcess.name,
          ratio: Math.round((processMs / baseProcess.value) * 100) / 100,
          meaning: 'process wall time: loading the handler / loading an empty module',
        });
        perHandler[t.f.key] = {
          handler: t.f.handler,
          zip: t.f.zip,
          zipKb: Math.round(zipKb),
          bundleKb: Math.round(bundleKb),
          layers: t.f.layerZips,
          externalLayers: t.f.externalLayers,
          requireMsMedian: Math.round(requireMs * 10) / 10,
          processMsMedian: Math.round(processMs * 10) / 10,
          requireMsSamples: t.samples.map((s) => Math.round(s.requireMs * 10) / 10),
          withinTarget: requireMs <= TARGET_MS,
        };
      }
      if (missingExport.length > 0)
        throw new Error(`handlers that do not export their function: ${missingExport.join(', ')}`);
      const over = targets
        .filter((t) => median(t.samples.map((s) => s.requireMs)) > TARGET_MS)
        .map((t) => t.f.key);
      return {
        rows,
        ratios,
        notes: {
          target: `≤ ${TARGET_MS} ms median require() per handler`,
          overTarget: over,
          samplesPerHandler: runs,
          layout,
          package: { dir: PACKAGE_DIR, ...pkg },
          nodePath:
            "the layer's nodejs/node_modules (functions that have it), then a directory linking @aws-sdk, @smithy and @aws-crypto from this repository's node_modules, standing in for the nodejs22.x runtime's SDK",
          runtime: `node ${process.version} on this machine (Lambda runs nodejs22.x)`,
          ceiling:
            'the baseline process: the same kind of fresh node process (same NODE_PATH) requiring an empty module; ratio = handler process / baseline process, wall time from spawn to exit',
        },
        detail: { perHandler, baselineSamples: baseline },
      };
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
};
