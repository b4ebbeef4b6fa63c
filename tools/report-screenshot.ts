import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { runCli, UsageError } from '../local/cli-support.ts';

/**
 * `npm run report:screenshot -- <platform_run_report.html> <out.png> [--width N]`: a full-page screenshot of a run report
 * page in headless Chromium (Debian's `chromium`, or CHROMIUM_PATH), taken once the page says it has drawn its charts.
 * docs/images/run-report.png is made this way from a default `npm run parity` run.
 */

runCli('report-screenshot', async () => {
  const [page, out, ...rest] = process.argv.slice(2);
  const width = rest[0] === '--width' ? Number(rest[1]) : 1280;
  if (!page || !out || !fs.existsSync(page) || !Number.isInteger(width) || width < 320)
    throw new UsageError(
      'usage: npm run report:screenshot -- <platform_run_report.html> <out.png> [--width N]',
    );
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath))
    throw new UsageError(
      `no Chromium at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const tab = await browser.newPage({ viewport: { width, height: 900 } });
    await tab.goto(`file://${path.resolve(page)}`);
    await tab.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await tab.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
  return 0;
});
