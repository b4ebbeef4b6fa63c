import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigInvalid } from '../errors/platform-error.ts';
import type { RunReportAssets } from '../run-reporter/html.ts';

/**
 * The chart library the run report page inlines (uPlot's browser build and stylesheet), read from its package.
 *
 * From the source tree (tsx, vitest) the files resolve in node_modules. In a Lambda the handler is one esbuild bundle
 * (CJS) and nothing of `uplot` is bundled, because nothing imports it: the function must ship the two files in its
 * zip, at the same paths, with `package.patterns` (serverless-esbuild copies them in):
 *
 *     package:
 *       patterns:
 *         - node_modules/uplot/dist/uPlot.iife.min.js
 *         - node_modules/uplot/dist/uPlot.min.css
 *
 * and they resolve from the bundle (`/var/task/functions/…/x.cjs` → `/var/task/node_modules/uplot/dist/…`).
 */

export const RUN_REPORT_ASSET_FILES = {
  chartJs: 'uplot/dist/uPlot.iife.min.js',
  chartCss: 'uplot/dist/uPlot.min.css',
} as const;

/**
 * Where this code runs from: in the CJS bundle `__filename` is the bundle (and `import.meta` is empty there); as an
 * ES module (tsx, vitest) `__filename` does not exist and `import.meta.url` names this file.
 */
function moduleLocation(): string {
  return typeof __filename === 'string' && __filename !== '' ? __filename : import.meta.url;
}

let loaded: RunReportAssets | undefined;

/** The assets, read once per process; `from` (a file path or URL) overrides where the package is resolved from. */
export function loadRunReportAssets(from?: string): RunReportAssets {
  if (from === undefined && loaded) return loaded;
  // From the bundle's own place, then (the local cloud runs bundles from its work folder, outside the service) from
  // the working directory, which is the service's there.
  const bases = from === undefined ? [moduleLocation(), `${process.cwd()}/package.json`] : [from];
  const resolve = (file: string) => {
    for (const base of bases) {
      try {
        return createRequire(base).resolve(file);
      } catch {
        // the next base
      }
    }
    return undefined;
  };
  const read = (file: string) => {
    const path = resolve(file);
    if (path === undefined) {
      throw new ConfigInvalid(
        `run report asset ${file} not found from ${from ?? moduleLocation()}: a function that renders the run report ` +
          `must ship node_modules/${file} (package.patterns in its functions.yml)`,
      );
    }
    return readFileSync(path, 'utf8');
  };
  const assets = {
    chartJs: read(RUN_REPORT_ASSET_FILES.chartJs),
    chartCss: read(RUN_REPORT_ASSET_FILES.chartCss),
  };
  if (from === undefined) loaded = assets;
  return assets;
}
