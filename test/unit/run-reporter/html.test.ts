import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRunReportAssets } from '../../../lib/adapters/run-report-assets.ts';
import {
  type PlatformRunReport,
  PlatformRunReport as ReportSchema,
} from '../../../lib/contracts/run-report.ts';
import { renderRunReportHtml } from '../../../lib/run-reporter/html.ts';
import { fixtureReport, numericLeafPaths, parseShownNumber, valueAtCountPath } from './report-fixture.ts';

/**
 * The run report page as a string (lib/run-reporter/html.ts): the report embedded once and unchanged, nothing of the
 * report able to become markup, every figure tagged with its path in the JSON, nothing fetched. The page in a real
 * browser: test/browser/run-report/page.test.ts.
 */

const FAKE_ASSETS = { chartJs: 'var uPlot = function () {};', chartCss: '.uplot { display: block; }' };
const HOSTILE = '</script><img src=x onerror=alert(1)><!--';
/** Pieces of markup the property test mixes into ids (refs with `/` or `.` change which refs are links). */
const MARKUP_PIECES = [
  '<',
  '>',
  '&',
  '"',
  "'",
  '<b>',
  '<img src=x onerror=alert(1)>',
  '<!--',
  '-->',
  '<script>',
  '&amp;',
];
const CaseId = ReportSchema.shape.top_cases.element.shape.case_id;

const decodeAttribute = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Every element carrying `data-count`: its path, format and shown text (the elements hold text only). */
function countElements(html: string) {
  return [...html.matchAll(/<(\w+)[^>]*\sdata-count="([^"]*)" data-format="(\w+)">([^<]*)<\/\1>/g)].map(
    (m) => ({
      path: decodeAttribute(m[2] ?? ''),
      format: m[3] ?? '',
      text: decodeAttribute(m[4] ?? ''),
    }),
  );
}

/** The text of the embedded report element, up to the first `</script` (where a browser would end it). */
function embeddedJson(html: string): string {
  const open = '<script type="application/json" id="report-data">';
  const start = html.indexOf(open) + open.length;
  return html.slice(start, html.toLowerCase().indexOf('</script', start));
}

function tagNames(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][\w-]*)/g)].map((m) => (m[1] ?? '').toLowerCase());
}

function withHostileText(report: PlatformRunReport, text: string): PlatformRunReport {
  const r = structuredClone(report);
  const run = r.platform_run_id;
  r.scenario_run_ids = [text];
  r.top_cases[0] = {
    ...(r.top_cases[0] as PlatformRunReport['top_cases'][number]),
    case_id: text,
    subject_event_id: text,
    label_status: text,
    timeline: [{ type: text, at_utc: text, source_ref_id: text }],
  };
  r.components[0] = { component: text, health: 'RED', reasons: [text], counts: { [text]: 7 } };
  r.evidence_refs = [
    { name: text, ref: text },
    { name: 'in the run', ref: `${run}/lifecycle/${text}.json` },
    { name: 'in the run, s3', ref: `s3://fraud-platform/${run}/${text}` },
  ];
  r.artifact_refs = { [text]: `${run}/obs/${text}` };
  r.basis.provenance.service_release_id = text;
  if (r.decision_quality) {
    r.decision_quality.by_label = { [text]: { flows: 3, flagged: 1, recall: 0.3333 } };
    r.decision_quality.decisions_by_action = { [text]: 9 };
  }
  return r;
}

describe('renderRunReportHtml', () => {
  const report = fixtureReport();
  const html = renderRunReportHtml(report, FAKE_ASSETS);

  it('the fixture is a valid platform_run_report.v1 of a whole run', () => {
    expect(ReportSchema.safeParse(report).success).toBe(true);
    expect(report.phases.map((p) => p.phase)).toEqual(Array.from({ length: 13 }, (_, i) => `P${i}`));
    expect(report.rates.series.map((s) => s.points.length)).toEqual([60, 60, 60, 60]);
    expect(new Set(report.components.map((c) => c.health))).toEqual(
      new Set(['GREEN', 'AMBER', 'RED', 'UNKNOWN']),
    );
    expect(report.top_cases.map((c) => c.timeline.length).every((n) => n >= 3 && n <= 6)).toBe(true);
    expect(report.evidence_refs).toHaveLength(12);
  });

  it('embeds the report once, unchanged, and the library and page script as the only scripts', () => {
    expect(html.split('id="report-data"')).toHaveLength(2);
    expect(JSON.parse(embeddedJson(html))).toEqual(report);
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain(`<script>${FAKE_ASSETS.chartJs}</script>`);
    expect(html).toContain(FAKE_ASSETS.chartCss);
  });

  it('tags every number of the report with its path, and shows the value at that path', () => {
    const elements = countElements(html);
    const paths = new Set(elements.map((e) => e.path));
    expect(elements.length).toBeGreaterThan(100);
    for (const path of numericLeafPaths(report)) expect(paths, path).toContain(path);
    for (const e of elements) {
      const value = valueAtCountPath(report, e.path);
      expect(value === null || typeof value === 'number', `${e.path} names a number`).toBe(true);
      const shown = parseShownNumber(e.text, e.format);
      if (value === null) expect(shown.value, e.path).toBeNull();
      else
        expect(
          Math.abs((shown.value ?? Number.NaN) - (value as number)),
          `${e.path}: ${e.text}`,
        ).toBeLessThanOrEqual(shown.tolerance);
    }
    expect(elements.find((e) => e.path === 'ingress.admit')?.text).toBe(
      report.ingress.admit.toLocaleString('en-US'),
    );
  });

  it('renders one row per phase, one block per case with its timeline, and a chart container per chart', () => {
    expect([...html.matchAll(/<tr data-phase="(P\d+)">/g)].map((m) => m[1])).toEqual(
      report.phases.map((p) => p.phase),
    );
    expect([...html.matchAll(/<article class="case" data-case-id="([^"]*)">/g)].map((m) => m[1])).toEqual(
      report.top_cases.map((c) => c.case_id),
    );
    const timelines = [...html.matchAll(/<ol class="timeline">([\s\S]*?)<\/ol>/g)].map(
      (m) => (m[1] ?? '').split('<li>').length - 1,
    );
    expect(timelines).toEqual(report.top_cases.map((c) => c.timeline.length));
    expect(
      [...html.matchAll(/data-chart="([\w-]+)"(?! data-chart-state="empty")/g)].map((m) => m[1]),
    ).toEqual(['phases', 'rates', 'label-recall']);
    expect(html.match(/class="badge badge-RED"/g)?.length).toBeGreaterThanOrEqual(1);
  });

  it('links the run evidence relative to <run>/obs/ and shows every ref in full', () => {
    const links = [
      ...html.matchAll(/<a href="([^"]*)" data-evidence-link><code class="ref">([^<]*)<\/code><\/a>/g),
    ];
    const hrefOf = new Map(links.map((m) => [decodeAttribute(m[2] ?? ''), decodeAttribute(m[1] ?? '')]));
    const run = report.platform_run_id;
    expect(hrefOf.get(`${run}/lifecycle/P9_DECISION_CHAIN_COMMITTED.json`)).toBe(
      '../lifecycle/P9_DECISION_CHAIN_COMMITTED.json',
    );
    expect(hrefOf.get(`s3://fraud-platform/${run}/ingestion_gate/receipts/summary.json`)).toBe(
      '../ingestion_gate/receipts/summary.json',
    );
    expect(
      hrefOf.get(`s3://fraud-platform/${run}/archive/segments/traffic_fraud/000017.jsonl#bytes=20480-21311`),
    ).toBe('../archive/segments/traffic_fraud/000017.jsonl');
    expect(hrefOf.get(`${run}/obs/reconciliation.json`)).toBe('reconciliation.json');
    expect(hrefOf.get(`${run}/run_completed.json`)).toBe('../run_completed.json');
    const outside = 's3://oracle-store/engine_runs/er_41d7/oracle_pack/_SEALED.json';
    expect(hrefOf.has(outside)).toBe(false);
    expect(html).toContain(`<code class="ref">${outside}</code>`);
    for (const { ref } of report.evidence_refs) expect(html).toContain(`<code class="ref">${ref}</code>`);
  });

  it('no id or ref from the bus becomes markup, wherever the page puts it', () => {
    const hostile = renderRunReportHtml(withHostileText(report, HOSTILE), FAKE_ASSETS);
    expect(hostile).not.toMatch(/<img/i);
    expect(hostile).not.toContain('<!--');
    expect(hostile.match(/<script\b/g)).toHaveLength(3);
    expect(hostile.match(/<\/script>/gi)).toHaveLength(3);
    expect(JSON.parse(embeddedJson(hostile))).toEqual(withHostileText(report, HOSTILE));
    expect(hostile).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    // In a link the ref is percent-encoded (it stays inside the run's folder) and shown escaped.
    expect(hostile).toContain(
      `href="../lifecycle/${HOSTILE.split('/').map(encodeURIComponent).join('/')}.json"`,
    );
  });

  it('any text in the ids and refs leaves the page structure as it is', () => {
    const structure = tagNames(renderRunReportHtml(withHostileText(report, 'plain'), FAKE_ASSETS));
    fc.assert(
      fc.property(
        fc
          .array(fc.oneof(fc.constantFrom(...MARKUP_PIECES), fc.string({ unit: 'grapheme', maxLength: 6 })), {
            minLength: 1,
            maxLength: 8,
          })
          .map((parts) => parts.join(''))
          .filter((s) => CaseId.safeParse(s).success && !/[./]/.test(s)),
        (text) => {
          const page = renderRunReportHtml(withHostileText(report, text), FAKE_ASSETS);
          expect(tagNames(page)).toEqual(structure);
          expect(JSON.parse(embeddedJson(page))).toEqual(withHostileText(report, text));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is self-contained: nothing outside the inlined library names a remote address, and the CSP allows exactly its two scripts', () => {
    const assets = loadRunReportAssets();
    const page = renderRunReportHtml(report, assets);
    const outsideLibrary = page.replace(assets.chartJs, '').replace(assets.chartCss, '');
    expect(outsideLibrary).not.toMatch(/(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(outsideLibrary).not.toMatch(/<link\b|<iframe\b|<img\b|@import|url\(/i);
    expect(outsideLibrary).not.toMatch(/https?:\/\//i);
    const csp = decodeAttribute(
      /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page)?.[1] ?? '',
    );
    expect(csp).toContain("default-src 'none'");
    const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toBe(assets.chartJs);
    const hashes = [...csp.matchAll(/'sha256-([^']+)'/g)].map((m) => m[1]);
    expect(hashes).toEqual(scripts.map((s) => createHash('sha256').update(s, 'utf8').digest('base64')));
  });

  it('keeps a library containing "</script" inside its element', () => {
    const page = renderRunReportHtml(report, {
      chartJs: 'var s = "</script><b>";',
      chartCss: 'a::after { content: "</style>"; }',
    });
    expect(page).toContain('var s = "<\\/script><b>";');
    expect(page).toContain('content: "<\\/style>"');
    expect(page.match(/<\/script>/g)).toHaveLength(3);
  });

  it('renders a run without a quality block, rate samples, cases, evidence or started phases', () => {
    const bare: PlatformRunReport = {
      ...structuredClone(report),
      decision_quality: null,
      rates: { started_at_utc: null, bucket_seconds: 5, series: [] },
      top_cases: [],
      evidence_refs: [],
      artifact_refs: {},
      components: [],
      phases: report.phases.map((p) => ({
        ...p,
        started_at_utc: null,
        ended_at_utc: null,
        seconds: null,
        status: 'NOT_REACHED',
      })),
    };
    expect(ReportSchema.safeParse(bare).success).toBe(true);
    const page = renderRunReportHtml(bare, FAKE_ASSETS);
    expect(page).toContain('data-quality="absent"');
    expect(page).not.toContain('data-chart="label-recall"');
    for (const chart of ['phases', 'rates'])
      expect(page).toContain(`data-chart="${chart}" data-chart-state="empty"`);
    expect(page.match(/<tr data-phase=/g)).toHaveLength(13);
    expect(page.match(/class="badge badge-NOT_REACHED"/g)).toHaveLength(13);
    expect(page).toContain('No case was opened in this run.');
    for (const e of countElements(page)) expect(valueAtCountPath(bare, e.path), e.path).not.toBeUndefined();
    expect(
      countElements(page)
        .filter((e) => e.path.startsWith('phases.'))
        .map((e) => e.text),
    ).toEqual(Array(13).fill('—'));
  });
});
