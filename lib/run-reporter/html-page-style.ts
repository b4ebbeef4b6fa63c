/**
 * The run report page's stylesheet: system fonts only (nothing to fetch), a light layout that reads on a laptop, a
 * phone and on paper (`@media print` drops the navigation and keeps sections and cases whole).
 */
export const RUN_REPORT_PAGE_CSS = `
:root {
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --card: #ffffff; --page: #eef1f4;
  --accent: #0969da; --green: #1a7f37; --green-bg: #dafbe1; --amber: #9a6700; --amber-bg: #fff8c5;
  --red: #cf222e; --red-bg: #ffebe9; --grey: #59636e; --grey-bg: #eaeef2; --blue: #0969da; --blue-bg: #ddf4ff;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--page); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.page {
  background: #24292f; color: #fff; padding: 20px max(16px, calc((100vw - 1200px) / 2));
}
header.page h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; letter-spacing: .2px; }
header.page .sub { color: #d0d7de; display: flex; flex-wrap: wrap; gap: 6px 18px; }
header.page .sub code { color: #fff; }
nav.toc {
  position: sticky; top: 0; z-index: 5; background: rgba(255,255,255,.96); border-bottom: 1px solid var(--line);
  padding: 8px max(16px, calc((100vw - 1200px) / 2)); display: flex; flex-wrap: wrap; gap: 4px 16px;
}
nav.toc a { color: var(--muted); font-weight: 500; }
main { max-width: 1200px; margin: 0 auto; padding: 16px; display: grid; gap: 16px; }
section.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px;
  box-shadow: 0 1px 2px rgba(31,35,40,.06); min-width: 0; scroll-margin-top: 56px;
}
section.card > h2 { margin: 0 0 12px; font-size: 17px; font-weight: 600; }
h3 { margin: 16px 0 8px; font-size: 14px; font-weight: 600; }
.note { color: var(--muted); margin: 4px 0 10px; }
.empty { color: var(--muted); font-style: italic; padding: 24px; text-align: center; background: var(--soft); border-radius: 8px; }
.stat-groups { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); }
.stat-group { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: var(--soft); }
.stat-group h3 { margin: 0 0 6px; }
.stat-group dl { margin: 0; display: grid; grid-template-columns: 1fr auto; gap: 2px 12px; }
.stat-group dt { color: var(--muted); }
.stat-group dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; font-weight: 500; }
.headline { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); margin-bottom: 14px; }
.headline .figure { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.headline .figure .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
.headline .figure .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .3px; background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
.badge {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11.5px; font-weight: 600;
  letter-spacing: .3px; white-space: nowrap; border: 1px solid transparent;
}
.badge-GREEN, .badge-PASS { color: var(--green); background: var(--green-bg); border-color: #aceebb; }
.badge-AMBER { color: var(--amber); background: var(--amber-bg); border-color: #f5e0a0; }
.badge-RED, .badge-FAIL { color: var(--red); background: var(--red-bg); border-color: #ffcecb; }
.badge-RUNNING { color: var(--blue); background: var(--blue-bg); border-color: #b6e3ff; }
.badge-UNKNOWN, .badge-NOT_REACHED { color: var(--grey); background: var(--grey-bg); border-color: var(--line); }
.chips { display: flex; flex-wrap: wrap; gap: 4px 6px; }
.chip { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 0 6px; white-space: nowrap; font-size: 12.5px; }
.chip b { font-weight: 600; font-variant-numeric: tabular-nums; }
ul.reasons { margin: 0; padding-left: 16px; color: var(--muted); }
.chart { width: 100%; min-height: 60px; margin: 4px 0 12px; overflow: hidden; }
.chart .uplot { margin: 0 auto; }
.u-legend th, .u-legend td { border: 0; background: none; padding: 2px 6px; text-transform: none; letter-spacing: 0; font-size: 12.5px; }
.u-legend th { color: var(--ink); }
.two-col { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
table.confusion td, table.confusion th { text-align: center; }
table.confusion td.tp, table.confusion td.tn { background: #f0fbf3; }
table.confusion td.fp, table.confusion td.fn { background: #fff5f4; }
.cases { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
article.case { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
article.case h3 { margin: 0 0 4px; font-size: 13px; word-break: break-all; }
article.case .meta { color: var(--muted); display: flex; flex-wrap: wrap; gap: 2px 12px; margin-bottom: 8px; }
ol.timeline { list-style: none; margin: 0; padding: 0 0 0 14px; border-left: 2px solid var(--line); }
ol.timeline li { position: relative; padding: 2px 0 8px 6px; }
ol.timeline li::before {
  content: ""; position: absolute; left: -21px; top: 8px; width: 10px; height: 10px; border-radius: 50%;
  background: var(--card); border: 2px solid var(--accent);
}
ol.timeline .when { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
ol.timeline .type { font-weight: 600; margin: 0 6px; }
.ref { word-break: break-all; }
footer.page { max-width: 1200px; margin: 0 auto; padding: 8px 16px 24px; color: var(--muted); font-size: 12px; }
@media (max-width: 640px) {
  body { font-size: 13px; }
  main { padding: 8px; gap: 10px; }
  section.card { padding: 12px; }
  .cases { grid-template-columns: 1fr; }
}
@media print {
  @page { margin: 12mm; }
  body { background: #fff; font-size: 11px; }
  nav.toc { display: none; }
  header.page { background: #fff; color: var(--ink); border-bottom: 2px solid var(--ink); padding: 0 0 8px; }
  header.page .sub, header.page .sub code { color: var(--ink); }
  main { max-width: none; padding: 8px 0; }
  section.card { box-shadow: none; break-inside: avoid-page; border-color: #bbb; }
  article.case, tr, .stat-group { break-inside: avoid; }
  .chart canvas { max-width: 100%; height: auto !important; }
  a { color: var(--ink); }
  .badge { border-color: currentColor; }
}
`;
