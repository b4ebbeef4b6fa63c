import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunReportAssets } from '../../../lib/adapters/run-report-assets.ts';
import {
  type PlatformRunReport,
  PlatformRunReport as ReportSchema,
} from '../../../lib/contracts/run-report.ts';
import { renderRunReportHtml } from '../../../lib/run-reporter/html.ts';
import {
  fixtureReport,
  numericLeafPaths,
  parseShownNumber,
  valueAtCountPath,
} from '../../unit/run-reporter/report-fixture.ts';
import { CHART_PROBE, COUNT_PROBE, LAYOUT_PROBE, STRUCTURE_PROBE } from './page-probes.ts';

/**
 * The run report page (lib/run-reporter/html.ts) in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core), opened from disk as `<run>/obs/platform_run_report.html` with the network refused: it loads with
 * no console or page error and no request, every chart is drawn (its canvas holds its series' colours), every figure
 * equals the JSON, the phases and cases are all there and every evidence link reaches its object next to the report.
 * The screenshots land in test-output/run-report/.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = path.resolve('test-output/run-report');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'run-report-page-'));
const assets = loadRunReportAssets();
let browser: Browser | undefined;
/** Why there is no browser: every test fails with it (a missing Chromium is a failure, never a skip). */
let noBrowser: Error | undefined;

beforeAll(async () => {
  fs.mkdirSync(OUTPUT, { recursive: true });
  if (!fs.existsSync(CHROMIUM)) {
    noBrowser = new Error(
      `Chromium not found at ${CHROMIUM}: the run report page test needs Debian's chromium, ` +
        'install it with `apt-get install -y chromium` (or point CHROMIUM_PATH at a Chromium binary)',
    );
    return;
  }
  // Chromium refuses to start as root with its sandbox (CI runs as root).
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
});

afterAll(async () => {
  await browser?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The object key of a ref in the run's folder (`s3://bucket/<run>/…#bytes=…` or `<run>/…`), else undefined. */
function runObjectKey(ref: string, run: string): string | undefined {
  const key = ref.replace(/^s3:\/\/[^/]+\//, '').replace(/#.*$/, '');
  return key.startsWith(`${run}/`) && !ref.startsWith('/') ? key : undefined;
}

interface OpenedPage {
  page: Page;
  /** Console errors, page errors and failed requests, as they happened. */
  problems: string[];
  /** Every request but the page's own document. */
  requests: string[];
  objects: Set<string>;
}

/**
 * Writes the page where the reporter puts it (`<dir>/<run>/obs/platform_run_report.html`) with a stub of every object
 * of the run it refers to, and opens it with every network request refused.
 */
async function openReport(report: PlatformRunReport, name: string): Promise<OpenedPage> {
  if (!browser) throw noBrowser ?? new Error('Chromium did not start');
  const root = path.join(work, name);
  const file = path.join(root, report.platform_run_id, 'obs', 'platform_run_report.html');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderRunReportHtml(report, assets));
  const objects = new Set<string>();
  const refs = [...report.evidence_refs.map((e) => e.ref), ...Object.values(report.artifact_refs)];
  for (const ref of refs) {
    const key = runObjectKey(ref, report.platform_run_id);
    if (key === undefined) continue;
    const objectFile = path.join(root, key);
    objects.add(objectFile);
    if (objectFile === file) continue; // the page itself (artifact_refs names it)
    fs.mkdirSync(path.dirname(objectFile), { recursive: true });
    fs.writeFileSync(objectFile, '{}\n');
  }
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await context.setOffline(true);
  await context.route(/^(https?|wss?|ftp):/, (route) => route.abort('blockedbyclient'));
  const page = await context.newPage();
  const pageUrl = pathToFileURL(file).href;
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) =>
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`),
  );
  page.on('request', (r) => {
    if (r.url() !== pageUrl) requests.push(r.url());
  });
  await page.goto(pageUrl, { waitUntil: 'load' });
  // The page's own signal: every chart has drawn (or a chart failed and said so).
  await page.waitForSelector('body[data-rendered]', { timeout: 20_000 }).catch((error: Error) => {
    throw new Error(
      `the page never signalled data-rendered (${error.message}); seen: ${problems.join(' | ')}`,
    );
  });
  const rendered = await page.evaluate<[string, string]>(
    '[document.body.dataset.rendered, document.body.dataset.renderError || ""]',
  );
  expect(rendered, `the page's charts (${rendered[1]})`).toEqual(['true', '']);
  return { page, problems, requests, objects };
}

interface ChartProbe {
  name: string;
  state: string;
  text: string;
  canvases: number;
  width: number;
  height: number;
  painted: number;
  colors: string[];
  matches: number[];
}

async function expectChartsDrawn(page: Page, expected: Record<string, 'drawn' | 'empty'>) {
  const charts = await page.evaluate<ChartProbe[]>(CHART_PROBE);
  expect(Object.fromEntries(charts.map((c) => [c.name, c.state]))).toEqual(expected);
  for (const chart of charts) {
    if (chart.state === 'empty') {
      expect(chart.canvases, chart.name).toBe(0);
      expect(chart.text.length, `${chart.name} says why it is empty`).toBeGreaterThan(10);
      continue;
    }
    expect(chart.canvases, chart.name).toBe(1);
    expect(chart.width * chart.height, `${chart.name} canvas size`).toBeGreaterThan(200 * 100);
    expect(chart.painted / (chart.width * chart.height), `${chart.name} is not blank`).toBeGreaterThan(0.02);
    expect(chart.colors.length, `${chart.name} names its series colours`).toBeGreaterThan(0);
    for (const [i, color] of chart.colors.entries())
      expect(chart.matches[i], `${chart.name}: pixels of series colour ${color}`).toBeGreaterThan(40);
  }
}

async function expectCountsEqualJson(page: Page, report: PlatformRunReport) {
  const shown = await page.evaluate<{ path: string; format: string; text: string }[]>(COUNT_PROBE);
  const paths = new Set(shown.map((s) => s.path));
  for (const leaf of numericLeafPaths(report)) expect(paths, `the page shows ${leaf}`).toContain(leaf);
  for (const s of shown) {
    const value = valueAtCountPath(report, s.path);
    const { value: parsed, tolerance } = parseShownNumber(s.text, s.format);
    if (value === null) expect(parsed, s.path).toBeNull();
    else {
      expect(typeof value, `${s.path} names a number of the report`).toBe('number');
      expect(
        Math.abs((parsed ?? Number.NaN) - (value as number)),
        `${s.path}: page ${s.text}, JSON ${value}`,
      ).toBeLessThanOrEqual(tolerance);
    }
  }
  return shown.length;
}

async function expectStructure(page: Page, report: PlatformRunReport, objects: Set<string>) {
  const structure = await page.evaluate<{
    phases: string[];
    cases: { id: string; entries: number }[];
    links: string[];
  }>(STRUCTURE_PROBE);
  expect(structure.phases).toEqual(report.phases.map((p) => p.phase));
  expect(structure.cases).toEqual(
    report.top_cases.map((c) => ({ id: c.case_id, entries: c.timeline.length })),
  );
  const targets = structure.links.map((href) => fileURLToPath(href));
  expect(new Set(targets)).toEqual(objects);
}

describe('the run report page in headless Chromium', () => {
  it('loads offline with no error, draws every chart and shows the JSON’s figures', async () => {
    const report = fixtureReport();
    const { page, problems, requests, objects } = await openReport(report, 'whole-run');
    await expectChartsDrawn(page, { phases: 'drawn', rates: 'drawn', 'label-recall': 'drawn' });
    expect(await expectCountsEqualJson(page, report)).toBeGreaterThanOrEqual(numericLeafPaths(report).length);
    expect(objects.size).toBe(17);
    await expectStructure(page, report, objects);
    await page.screenshot({ path: path.join(OUTPUT, 'run-report.png'), fullPage: true });
    expect(fs.statSync(path.join(OUTPUT, 'run-report.png')).size).toBeGreaterThan(50_000);

    // Narrow screen: the charts follow their containers and nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForFunction(LAYOUT_PROBE, undefined, { timeout: 10_000 });
    // Paper: no navigation bar.
    await page.emulateMedia({ media: 'print' });
    expect(await page.evaluate<string>('getComputedStyle(document.querySelector("nav.toc")).display')).toBe(
      'none',
    );
    await page.emulateMedia({ media: 'screen' });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('renders a run still in progress: P7 running, no quality block, planes without samples', async () => {
    const base = fixtureReport();
    const report = ReportSchema.parse({
      ...base,
      phases: base.phases.map((p, i) =>
        i < 7
          ? p
          : i === 7
            ? { ...p, ended_at_utc: null, seconds: null, status: 'RUNNING' }
            : { ...p, started_at_utc: null, ended_at_utc: null, seconds: null, status: 'NOT_REACHED' },
      ),
      rates: { ...base.rates, series: base.rates.series.map((s) => ({ ...s, points: [], total: 0 })) },
      decision_quality: null,
      top_cases: base.top_cases.slice(0, 1),
      evidence_refs: base.evidence_refs.slice(0, 4),
    });
    const { page, problems, requests, objects } = await openReport(report, 'in-progress');
    await expectChartsDrawn(page, { phases: 'drawn', rates: 'empty' });
    expect(await page.locator('[data-quality="absent"]').count()).toBe(1);
    await expectCountsEqualJson(page, report);
    await expectStructure(page, report, objects);
    await page.screenshot({ path: path.join(OUTPUT, 'run-report-in-progress.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('renders a run that has not started a phase, with nothing to chart', async () => {
    const base = fixtureReport();
    const report = ReportSchema.parse({
      ...base,
      phases: base.phases.map((p) => ({
        ...p,
        started_at_utc: null,
        ended_at_utc: null,
        seconds: null,
        status: 'NOT_REACHED',
      })),
      rates: { started_at_utc: null, bucket_seconds: 5, series: [] },
      components: [],
      decision_quality: null,
      top_cases: [],
      evidence_refs: [],
      artifact_refs: {},
    });
    const { page, problems, requests, objects } = await openReport(report, 'not-started');
    await expectChartsDrawn(page, { phases: 'empty', rates: 'empty' });
    await expectCountsEqualJson(page, report);
    await expectStructure(page, report, objects);
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
  });
});
