import { sha256Hex } from '../contracts/identity.ts';
import type { PlatformRunReport } from '../contracts/run-report.ts';
import { casesSection, evidenceSection, pageHeader, qualitySection } from './html-outcome-sections.ts';
import { RUN_REPORT_PAGE_SCRIPT } from './html-page-script.ts';
import { RUN_REPORT_PAGE_CSS } from './html-page-style.ts';
import { componentsSection, overviewSection, phasesSection, ratesSection } from './html-sections.ts';
import { escapeHtml, jsonForScript, scriptText, styleText } from './html-text.ts';

/**
 * The run report page (issue 15): `<run>/obs/platform_run_report.html`, one self-contained file rendered from the
 * report document alone. The tables are static HTML; the charts are drawn at view time by the chart library inlined
 * from `assets` (uPlot: lib/adapters/run-report-assets.ts loads it) and the page script (html-page-script.ts) from the
 * report embedded once as JSON. A Content-Security-Policy allows exactly the page's two scripts (by hash), inline
 * styles and nothing else, so the page can fetch nothing when it is opened.
 *
 * Every number taken from the report carries `data-count="<path>"` (html-text.ts `countPath`) and
 * `data-format="count|decimal|percent"`; every chart container `data-chart="phases|rates|label-recall"`.
 */

/** The chart library's built browser script and stylesheet, inlined as they are. */
export interface RunReportAssets {
  chartJs: string;
  chartCss: string;
}

/** A CSP source allowing exactly this inline script: `'sha256-<base64 of the digest of its UTF-8 text>'`. */
function cspHash(script: string): string {
  return `'sha256-${Buffer.from(sha256Hex(script), 'hex').toString('base64')}'`;
}

export function renderRunReportHtml(report: PlatformRunReport, assets: RunReportAssets): string {
  const library = scriptText(assets.chartJs);
  const page = scriptText(RUN_REPORT_PAGE_SCRIPT);
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(library)} ${cspHash(page)}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const title = `Run report · ${report.platform_run_id}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="generator" content="fraud-platform run-reporter (${escapeHtml(report.schema)})">
<title>${escapeHtml(title)}</title>
<style>${styleText(assets.chartCss)}</style>
<style>${styleText(RUN_REPORT_PAGE_CSS)}</style>
</head>
<body>
${pageHeader(report)}
<nav class="toc" aria-label="Sections">
<a href="#overview">Overview</a><a href="#phases">Phases</a><a href="#rates">Events/s</a><a href="#components">Components</a>
<a href="#quality">Decision quality</a><a href="#cases">Top cases</a><a href="#evidence">Evidence</a>
</nav>
<main>
${overviewSection(report)}
${phasesSection(report)}
${ratesSection(report)}
${componentsSection(report)}
${qualitySection(report)}
${casesSection(report)}
${evidenceSection(report)}
</main>
<footer class="page">Rendered from <code>platform_run_report.json</code> (${escapeHtml(report.schema)}), generated ${escapeHtml(report.generated_at_utc)}. Charts: uPlot.</footer>
<script type="application/json" id="report-data">${jsonForScript(report)}</script>
<script>${library}</script>
<script>${page}</script>
</body>
</html>
`;
}
