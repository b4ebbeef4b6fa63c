import type { DecisionQualityBlock, PlatformRunReport } from '../contracts/run-report.ts';
import { chartContainer } from './html-sections.ts';
import { countElement, countPath, escapeHtml, evidenceHref, formatInstant } from './html-text.ts';

/**
 * The run report page's sections about what the run produced: decision quality (P9), the top cases with their
 * timelines, and the evidence and artifacts the report rests on, linked relative to `<run>/obs/`.
 */

const Q = 'decision_quality';

function figure(title: string, valueHtml: string): string {
  return `<div class="figure"><div class="label">${escapeHtml(title)}</div><div class="value">${valueHtml}</div></div>`;
}

/** True when the quality block has per-label rows: the recall chart has a bar to draw. */
export function qualityHasLabels(report: PlatformRunReport): boolean {
  return report.decision_quality !== null && Object.keys(report.decision_quality.by_label).length > 0;
}

function confusionTable(q: DecisionQualityBlock): string {
  const cell = (key: keyof DecisionQualityBlock['confusion'], cls: string) =>
    countElement(q.confusion[key], countPath(Q, 'confusion', key), 'count', 'td', cls);
  return `<table class="confusion" aria-label="Confusion matrix">
<thead><tr><th></th><th>Flagged</th><th>Not flagged</th></tr></thead>
<tbody>
<tr><th scope="row">Fraud</th>${cell('true_positive', 'num tp')}${cell('false_negative', 'num fn')}</tr>
<tr><th scope="row">Legitimate</th>${cell('false_positive', 'num fp')}${cell('true_negative', 'num tn')}</tr>
</tbody></table>`;
}

function actionsTable(q: DecisionQualityBlock): string {
  const rows = Object.entries(q.decisions_by_action)
    .map(
      ([action, n]) =>
        `<tr><td><code>${escapeHtml(action)}</code></td>${countElement(n, countPath(Q, 'decisions_by_action', action), 'count', 'td', 'num')}</tr>`,
    )
    .join('');
  return `<table class="actions"><thead><tr><th>Action</th><th class="num">Decisions</th></tr></thead>
<tbody>${rows || '<tr><td colspan="2" class="note">No decision recorded.</td></tr>'}</tbody></table>`;
}

function labelsTable(q: DecisionQualityBlock): string {
  const rows = Object.entries(q.by_label)
    .map(([name, l]) => {
      const at = (key: string) => countPath(Q, 'by_label', name, key);
      return `<tr data-label="${escapeHtml(name)}"><td><code>${escapeHtml(name)}</code></td>
${countElement(l.flows, at('flows'), 'count', 'td', 'num')}${countElement(l.flagged, at('flagged'), 'count', 'td', 'num')}${countElement(l.recall, at('recall'), 'percent', 'td', 'num')}</tr>`;
    })
    .join('\n');
  return `<table class="labels"><thead><tr><th>Truth label</th><th class="num">Flows</th><th class="num">Flagged</th><th class="num">Flagged share</th></tr></thead>
<tbody>${rows || '<tr><td colspan="4" class="note">No decided flow of the truth.</td></tr>'}</tbody></table>`;
}

export function qualitySection(report: PlatformRunReport): string {
  const q = report.decision_quality;
  const head = `<section class="card" id="quality" aria-labelledby="quality-title">
<h2 id="quality-title">Decision quality</h2>`;
  if (q === null)
    return `${head}
<p class="empty" data-quality="absent">No decision quality block: the run has not committed its decision chain (P9).</p>
</section>`;
  const at = (...keys: string[]) => countPath(Q, ...keys);
  return `${head}
<div class="headline">
${figure('Precision', countElement(q.precision, at('precision'), 'percent'))}
${figure('Fraud recall', countElement(q.recall_fraud, at('recall_fraud'), 'percent'))}
${figure('Flows', countElement(q.flows, at('flows')))}
${figure('Decisions', countElement(q.decisions, at('decisions')))}
${figure('Flows flagged', countElement(q.flows_flagged, at('flows_flagged')))}
${figure('Flows decided', countElement(q.flows_decided, at('flows_decided')))}
${figure('Flows undecided', countElement(q.flows_undecided, at('flows_undecided')))}
</div>
<div class="two-col">
<div><h3>Confusion matrix (flows)</h3>${confusionTable(q)}
<h3>Decision latency (ms)</h3>
<table class="latency"><thead><tr><th class="num">p50</th><th class="num">p99</th><th class="num">max</th><th class="num">measured</th></tr></thead>
<tbody><tr>${countElement(q.latency_ms.p50, at('latency_ms', 'p50'), 'decimal', 'td', 'num')}${countElement(q.latency_ms.p99, at('latency_ms', 'p99'), 'decimal', 'td', 'num')}${countElement(q.latency_ms.max, at('latency_ms', 'max'), 'decimal', 'td', 'num')}${countElement(q.latency_ms.measured, at('latency_ms', 'measured'), 'count', 'td', 'num')}</tr></tbody></table>
</div>
<div><h3>Decisions by action</h3>${actionsTable(q)}</div>
</div>
<h3>Recall per truth label</h3>
<p class="note">Flagged flows over the decided flows of each label of the world's truth (the campaign types): recall for FRAUD and ABUSE, the false-positive rate for LEGIT.</p>
${chartContainer('label-recall', 'Share of flows flagged per truth label', qualityHasLabels(report), 'No decided flow of the truth in this run.')}
<div class="table-wrap">${labelsTable(q)}</div>
</section>`;
}

/** A ref as a relative link when it lives in the run's folder, as text otherwise; the full ref is always shown. */
function refCell(ref: string, platformRunId: string): string {
  const href = evidenceHref(ref, platformRunId);
  const text = `<code class="ref">${escapeHtml(ref)}</code>`;
  return href === undefined ? text : `<a href="${escapeHtml(href)}" data-evidence-link>${text}</a>`;
}

export function casesSection(report: PlatformRunReport): string {
  const cases = report.top_cases
    .map((c, i) => {
      const entries = c.timeline
        .map(
          (
            t,
          ) => `<li><span class="when">${escapeHtml(formatInstant(t.at_utc))}</span><span class="type">${escapeHtml(t.type)}</span>
<code class="ref">${escapeHtml(t.source_ref_id)}</code></li>`,
        )
        .join('\n');
      return `<article class="case" data-case-id="${escapeHtml(c.case_id)}">
<h3><code>${escapeHtml(c.case_id)}</code></h3>
<div class="meta"><span>opened ${escapeHtml(formatInstant(c.opened_at_utc))}</span>
<span>triggers ${countElement(c.trigger_count, countPath('top_cases', i, 'trigger_count'))}</span>
<span>label ${c.label_status === null ? '—' : `<code>${escapeHtml(c.label_status)}</code>`}</span></div>
<div class="meta">subject <code class="ref">${escapeHtml(c.subject_event_id)}</code></div>
${entries ? `<ol class="timeline">${entries}</ol>` : '<p class="note">No timeline entry.</p>'}
</article>`;
    })
    .join('\n');
  return `<section class="card" id="cases" aria-labelledby="cases-title">
<h2 id="cases-title">Top cases</h2>
${cases ? `<div class="cases">${cases}</div>` : '<p class="empty">No case was opened in this run.</p>'}
</section>`;
}

export function evidenceSection(report: PlatformRunReport): string {
  const run = report.platform_run_id;
  const evidence = report.evidence_refs
    .map(
      (e) =>
        `<tr data-evidence="${escapeHtml(e.name)}"><td>${escapeHtml(e.name)}</td><td>${refCell(e.ref, run)}</td></tr>`,
    )
    .join('\n');
  const artifacts = Object.entries(report.artifact_refs)
    .map(
      ([name, ref]) =>
        `<tr data-artifact="${escapeHtml(name)}"><td>${escapeHtml(name)}</td><td>${refCell(ref, run)}</td></tr>`,
    )
    .join('\n');
  const p = report.basis.provenance;
  const provenance = Object.entries(p)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(
      ([k, v]) =>
        `<tr><td>${escapeHtml(k.replace(/_/g, ' '))}</td><td><code class="ref">${escapeHtml(v)}</code></td></tr>`,
    )
    .join('');
  return `<section class="card" id="evidence" aria-labelledby="evidence-title">
<h2 id="evidence-title">Evidence</h2>
<p class="note">Links open the objects next to this report (relative to <code>${escapeHtml(run)}/obs/</code>); refs outside the run are shown in full.</p>
<div class="table-wrap"><table class="evidence"><thead><tr><th>Evidence</th><th>Ref</th></tr></thead>
<tbody>${evidence || '<tr><td colspan="2" class="note">No evidence ref.</td></tr>'}</tbody></table></div>
<h3>Artifacts</h3>
<div class="table-wrap"><table class="artifacts"><thead><tr><th>Artifact</th><th>Ref</th></tr></thead>
<tbody>${artifacts || '<tr><td colspan="2" class="note">No artifact ref.</td></tr>'}</tbody></table></div>
<h3>Provenance</h3>
<div class="table-wrap"><table class="provenance"><tbody>${provenance}</tbody></table></div>
</section>`;
}

export function pageHeader(report: PlatformRunReport): string {
  const scenarios = report.scenario_run_ids.map((id) => `<code>${escapeHtml(id)}</code>`).join(', ') || '—';
  return `<header class="page">
<h1>Platform run report</h1>
<div class="sub"><span>run <code data-run-id>${escapeHtml(report.platform_run_id)}</code></span>
<span>generated ${escapeHtml(formatInstant(report.generated_at_utc))}</span>
<span>environment <code>${escapeHtml(report.basis.provenance.environment)}</code></span>
<span>scenario runs ${scenarios}</span></div>
</header>`;
}
