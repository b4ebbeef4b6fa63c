import type { HealthState, PlatformRunReport } from '../contracts/run-report.ts';
import { countElement, countPath, escapeHtml, formatInstant } from './html-text.ts';

/**
 * The run report page's sections about how the run went (overview, phase timeline, throughput, components), as
 * static HTML: every table is in the markup (it prints and reads without the script); the script only draws the
 * charts into the `data-chart` containers.
 */

export function badge(state: string): string {
  return `<span class="badge badge-${escapeHtml(state)}">${escapeHtml(state.replace(/_/g, ' '))}</span>`;
}

function label(key: string): string {
  return escapeHtml(key.replace(/_/g, ' '));
}

/** A `dl` of counts (one row per key) under a heading, each value tagged with its path in the report. */
function statGroup(
  title: string,
  counts: Readonly<Record<string, number>>,
  path: readonly string[],
  health: Readonly<Record<string, HealthState>> = {},
): string {
  const states = Object.entries(health)
    .map(([key, state]) => `<dt>${label(key)}</dt><dd>${badge(state)}</dd>`)
    .join('');
  const rows = Object.entries(counts)
    .map(([key, value]) => `<dt>${label(key)}</dt><dd>${countElement(value, countPath(...path, key))}</dd>`)
    .join('');
  const body = states || rows ? `<dl>${states}${rows}</dl>` : '<p class="note">none recorded</p>';
  return `<div class="stat-group"><h3>${escapeHtml(title)}</h3>${body}</div>`;
}

/** A chart container: the script draws into it, or it says why there is nothing to draw. */
export function chartContainer(
  name: string,
  description: string,
  hasData: boolean,
  emptyText: string,
): string {
  if (!hasData)
    return `<div class="chart empty" data-chart="${escapeHtml(name)}" data-chart-state="empty">${escapeHtml(emptyText)}</div>`;
  return `<div class="chart" data-chart="${escapeHtml(name)}" role="img" aria-label="${escapeHtml(description)}"></div>`;
}

export function overviewSection(report: PlatformRunReport): string {
  const tally = new Map<string, number>();
  for (const c of report.components) tally.set(c.health, (tally.get(c.health) ?? 0) + 1);
  const summary = ['GREEN', 'AMBER', 'RED', 'UNKNOWN']
    .filter((s) => tally.has(s))
    .map((s) => `${badge(s)} × ${tally.get(s)}`)
    .join(' &nbsp; ');
  return `<section class="card" id="overview" aria-labelledby="overview-title">
<h2 id="overview-title">Overview</h2>
<p class="note">Components: ${summary || 'none reported'}</p>
<div class="stat-groups">
${statGroup('Ingress', report.ingress, ['ingress'])}
${statGroup('Real-time decision loop', report.rtdl, ['rtdl'])}
${statGroup('Archive', report.archive.summary, ['archive', 'summary'], { health: report.archive.health_state })}
${statGroup('Archive reconciliation', report.archive.reconciliation_totals, ['archive', 'reconciliation_totals'])}
${statGroup('Cases and labels', report.case_labels.summary, ['case_labels', 'summary'], report.case_labels.health_states)}
${statGroup('Labels by source', report.case_labels.labels_by_source, ['case_labels', 'labels_by_source'])}
${statGroup('Evidence refs resolved', report.basis.evidence_ref_resolution, ['basis', 'evidence_ref_resolution'])}
</div>
</section>`;
}

/** True when at least one phase has started: the timeline chart has a bar to draw. */
export function phasesHaveTimes(report: PlatformRunReport): boolean {
  return report.phases.some((p) => p.started_at_utc !== null && !Number.isNaN(Date.parse(p.started_at_utc)));
}

export function phasesSection(report: PlatformRunReport): string {
  const rows = report.phases
    .map(
      (p, i) => `<tr data-phase="${escapeHtml(p.phase)}">
<td><code>${escapeHtml(p.phase)}</code></td><td>${escapeHtml(p.name)}</td><td>${badge(p.status)}</td>
<td class="mono">${escapeHtml(formatInstant(p.started_at_utc))}</td><td class="mono">${escapeHtml(formatInstant(p.ended_at_utc))}</td>
${countElement(p.seconds, countPath('phases', i, 'seconds'), 'decimal', 'td', 'num')}</tr>`,
    )
    .join('\n');
  return `<section class="card" id="phases" aria-labelledby="phases-title">
<h2 id="phases-title">Phase timeline</h2>
<p class="note">Each lifecycle phase from its first state entered to its last state left, in seconds from the first phase's start.</p>
${chartContainer('phases', 'Phase timeline: one bar per phase from its start to its end', phasesHaveTimes(report), 'No phase has started yet.')}
<div class="table-wrap"><table class="phases">
<thead><tr><th>Phase</th><th>Gate</th><th>Status</th><th>Started (UTC)</th><th>Ended (UTC)</th><th class="num">Seconds</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
</section>`;
}

/** True when some plane has at least one sample: the events/s chart has a line to draw. */
export function ratesHavePoints(report: PlatformRunReport): boolean {
  return report.rates.series.some((s) => s.points.length > 0);
}

export function ratesSection(report: PlatformRunReport): string {
  const rows = report.rates.series
    .map((s, i) => {
      const peak = s.points.reduce((m, [, rate]) => Math.max(m, rate), 0);
      return `<tr data-plane="${escapeHtml(s.plane)}"><td>${label(s.plane)}</td>
${countElement(s.total, countPath('rates', 'series', i, 'total'), 'count', 'td', 'num')}
<td class="num">${s.points.length}</td><td class="num">${escapeHtml(peak.toFixed(1))}</td></tr>`;
    })
    .join('\n');
  const { rates } = report;
  return `<section class="card" id="rates" aria-labelledby="rates-title">
<h2 id="rates-title">Events per second by plane</h2>
<p class="note">Buckets of ${countElement(rates.bucket_seconds, 'rates.bucket_seconds')} s from ${escapeHtml(formatInstant(rates.started_at_utc))}.</p>
${chartContainer('rates', 'Events per second over time, one line per plane', ratesHavePoints(report), 'No rate samples were recorded for this run.')}
<div class="table-wrap"><table class="planes">
<thead><tr><th>Plane</th><th class="num">Events</th><th class="num">Samples</th><th class="num">Peak events/s</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4" class="note">No plane reported.</td></tr>'}
</tbody></table></div>
</section>`;
}

export function componentsSection(report: PlatformRunReport): string {
  const rows = report.components
    .map((c, i) => {
      const chips = Object.entries(c.counts)
        .map(
          ([k, v]) =>
            `<span class="chip">${label(k)} <b>${countElement(v, countPath('components', i, 'counts', k))}</b></span>`,
        )
        .join('');
      const reasons = c.reasons.length
        ? `<ul class="reasons">${c.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`
        : '';
      return `<tr data-component="${escapeHtml(c.component)}"><td><code>${escapeHtml(c.component)}</code></td>
<td>${badge(c.health)}</td><td><div class="chips">${chips}</div></td><td>${reasons}</td></tr>`;
    })
    .join('\n');
  return `<section class="card" id="components" aria-labelledby="components-title">
<h2 id="components-title">Components</h2>
<div class="table-wrap"><table class="components">
<thead><tr><th>Component</th><th>Health</th><th>Counts</th><th>Reasons</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4" class="note">No component reported.</td></tr>'}
</tbody></table></div>
</section>`;
}
