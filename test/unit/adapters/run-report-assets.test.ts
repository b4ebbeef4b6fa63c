import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRunReportAssets, RUN_REPORT_ASSET_FILES } from '../../../lib/adapters/run-report-assets.ts';

/**
 * The run report's chart library (lib/adapters/run-report-assets.ts) from the source tree, and from a Lambda bundle
 * built as serverless.yml's `custom.esbuild` builds one (CJS, minified, where `import.meta` is empty), laid out as the
 * function's zip holds it: the bundle under functions/…, the two files shipped by `package.patterns` under
 * node_modules/uplot/dist/.
 */

const ROOT = path.resolve('.');
const moduleFile = (file: string) => path.join(ROOT, 'node_modules', file);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'run-report-assets-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** The esbuild options serverless-esbuild gets from serverless.yml that decide what the bundle does at run time. */
function serverlessEsbuildOptions() {
  const service = parse(fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as {
    custom: { esbuild: Record<string, unknown> };
  };
  const { bundle, minify, keepNames, target, platform, format } = service.custom.esbuild;
  return { bundle, minify, keepNames, target, platform, format } as {
    bundle: boolean;
    minify: boolean;
    keepNames: boolean;
    target: string;
    platform: 'node';
    format: 'cjs';
  };
}

/** A zip's layout: `functions/run-reporter/report.cjs` and, when `shipped`, node_modules/uplot/dist/ beside it. */
async function lambdaTaskRoot(name: string, shipped: boolean): Promise<string> {
  const root = path.join(work, name);
  const entry = path.join(work, `${name}-entry.ts`);
  fs.writeFileSync(
    entry,
    `import { createHash } from 'node:crypto';
import { loadRunReportAssets } from ${JSON.stringify(path.join(ROOT, 'lib/adapters/run-report-assets.ts'))};
const digest = (s: string) => createHash('sha256').update(s).digest('hex');
try {
  const assets = loadRunReportAssets();
  console.log(JSON.stringify({ chartJs: digest(assets.chartJs), chartCss: digest(assets.chartCss) }));
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message, code: (error as { code?: string }).code }));
}
`,
  );
  const options = serverlessEsbuildOptions();
  expect(options).toMatchObject({ bundle: true, format: 'cjs', platform: 'node' });
  await build({
    ...options,
    entryPoints: [entry],
    outfile: path.join(root, 'functions/run-reporter/report.cjs'),
    logLevel: 'silent',
  });
  if (shipped)
    for (const file of Object.values(RUN_REPORT_ASSET_FILES)) {
      fs.mkdirSync(path.dirname(path.join(root, 'node_modules', file)), { recursive: true });
      fs.copyFileSync(moduleFile(file), path.join(root, 'node_modules', file));
    }
  return root;
}

/** Runs the bundle from a directory outside the task root (resolution must not depend on the working directory). */
async function runBundle(root: string): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(root, 'functions/run-reporter/report.cjs')],
    {
      cwd: os.tmpdir(),
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout) as Record<string, string>;
}

const sha256 = async (text: string) =>
  (await import('node:crypto')).createHash('sha256').update(text).digest('hex');

describe('loadRunReportAssets', () => {
  it('reads uPlot’s browser build and stylesheet from the source tree', () => {
    const assets = loadRunReportAssets();
    expect(assets.chartJs).toBe(fs.readFileSync(moduleFile(RUN_REPORT_ASSET_FILES.chartJs), 'utf8'));
    expect(assets.chartCss).toBe(fs.readFileSync(moduleFile(RUN_REPORT_ASSET_FILES.chartCss), 'utf8'));
    expect(assets.chartJs).toMatch(
      /^\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.\d+\) \*\/\s*var uPlot=/,
    );
    expect(assets.chartCss).toContain('.uplot');
    expect(loadRunReportAssets()).toBe(assets);
  });

  it('reads them from a CJS Lambda bundle whose zip ships them under node_modules/uplot/dist', async () => {
    const root = await lambdaTaskRoot('shipped', true);
    const bundle = fs.readFileSync(path.join(root, 'functions/run-reporter/report.cjs'), 'utf8');
    expect(bundle).not.toContain('leeoniya');
    expect(await runBundle(root)).toEqual({
      chartJs: await sha256(fs.readFileSync(moduleFile(RUN_REPORT_ASSET_FILES.chartJs), 'utf8')),
      chartCss: await sha256(fs.readFileSync(moduleFile(RUN_REPORT_ASSET_FILES.chartCss), 'utf8')),
    });
  }, 60_000);

  it('says what the function must ship when its zip lacks them', async () => {
    const root = await lambdaTaskRoot('not-shipped', false);
    const answer = await runBundle(root);
    expect(answer.code).toBe('CONFIG_INVALID');
    expect(answer.error).toContain('node_modules/uplot/dist/uPlot.iife.min.js');
    expect(answer.error).toContain('package.patterns');
  }, 60_000);
});
