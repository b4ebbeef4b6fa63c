/**
 * The run report page's own script (browser JavaScript, kept as text: the page is one file). It reads the report
 * from `#report-data` and draws three uPlot charts into their `data-chart` containers: the phase timeline
 * (horizontal bars from each phase's start to its end), events/s per plane over time, and the share of flows
 * flagged per truth label (recall for FRAUD and ABUSE). Each container gets `data-chart-state="drawn"` and
 * `data-series-colors` (what a test looks for in the canvas) once uPlot has drawn it; when every chart has drawn,
 * `body[data-rendered="true"]` (or `"error"` and `data-render-error`). Containers the server marked
 * `data-chart-state="empty"` are left as they are.
 */
export const RUN_REPORT_PAGE_SCRIPT = `
(function () {
  'use strict';
  var body = document.body;
  var PLANE_COLORS = { ingress: '#0969da', projectors: '#8250df', decisions: '#1a7f37', cases: '#bc4c00' };
  var STATUS_COLORS = { PASS: '#2da44e', FAIL: '#cf222e', RUNNING: '#0969da', NOT_REACHED: '#8c959f' };
  var RECALL_COLOR = '#8250df';
  var LEGIT_COLOR = '#8c959f';
  var AXIS = { stroke: '#59636e', grid: { stroke: 'rgba(31,35,40,0.08)', width: 1 }, ticks: { stroke: 'rgba(31,35,40,0.2)', width: 1 } };
  var charts = [];
  var pending = 0;
  var mounting = true;

  function fail(error) {
    body.dataset.rendered = 'error';
    body.dataset.renderError = String(error && error.message ? error.message : error);
    console.error('run report: a chart failed to render', error);
  }
  function settle() {
    if (!mounting && pending === 0 && body.dataset.rendered !== 'error') body.dataset.rendered = 'true';
  }
  function box(name) {
    var el = document.querySelector('[data-chart="' + name + '"]');
    return el && el.getAttribute('data-chart-state') !== 'empty' ? el : null;
  }
  function widthOf(el) {
    return Math.max(280, Math.floor(el.clientWidth || 600));
  }
  function axis(extra) {
    var a = { stroke: AXIS.stroke, grid: AXIS.grid, ticks: AXIS.ticks };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  function unique(values) {
    return values.filter(function (v, i) { return values.indexOf(v) === i; });
  }
  function mount(el, opts, data, colors) {
    pending++;
    var drawn = false;
    opts.width = widthOf(el);
    opts.hooks = {
      draw: [function () {
        if (drawn) return;
        drawn = true;
        el.setAttribute('data-chart-state', 'drawn');
        pending--;
        settle();
      }],
    };
    el.setAttribute('data-series-colors', unique(colors).join(','));
    charts.push({ el: el, u: new uPlot(opts, data, el) });
  }
  var SECOND_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  function clock(v, span) {
    if (span < 120) return (Math.round(v * 10) / 10) + ' s';
    var m = Math.floor(v / 60), s = Math.round(v - m * 60);
    return m + ':' + (s < 10 ? '0' : '') + s;
  }
  var hhmmss = uPlot.fmtDate('{HH}:{mm}:{ss}');
  function utc(ts) {
    return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
  }

  function drawPhases(report) {
    var el = box('phases');
    if (!el) return;
    var phases = report.phases;
    var startMs = phases.map(function (p) { return p.started_at_utc ? Date.parse(p.started_at_utc) : NaN; });
    var known = startMs.filter(function (t) { return !isNaN(t); });
    var t0 = Math.min.apply(null, known);
    var generated = Date.parse(report.generated_at_utc);
    var starts = [], ends = [], fills = [], xs = [], colors = [];
    phases.forEach(function (p, i) {
      xs.push(i);
      var s = startMs[i];
      var e = p.ended_at_utc ? Date.parse(p.ended_at_utc) : p.status === 'RUNNING' ? generated : NaN;
      if (isNaN(s)) { starts.push(null); ends.push(null); }
      else { starts.push((s - t0) / 1000); ends.push(Math.max((isNaN(e) ? s : e) - t0, s - t0) / 1000); }
      fills.push(STATUS_COLORS[p.status] || '#8c959f');
    });
    var span = Math.max(1, Math.max.apply(null, ends.filter(function (v) { return v !== null; })));
    ends = ends.map(function (e, i) {
      return e === null ? null : Math.max(e, starts[i] + span * 0.006);
    });
    phases.forEach(function (p, i) { if (ends[i] !== null) colors.push(fills[i]); });
    var opts = {
      height: Math.max(180, 30 * phases.length + 60),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: false, ori: 1, dir: -1, range: [-0.6, phases.length - 0.4] },
        y: { ori: 0, dir: 1, range: [0, span * 1.03] },
      },
      axes: [
        axis({ scale: 'x', side: 3, size: 48, gap: 6, grid: { show: false },
          splits: function () { return xs; },
          values: function (u, splits) { return splits.map(function (i) { return phases[i] ? phases[i].phase : ''; }); } }),
        axis({ scale: 'y', side: 2, incrs: SECOND_STEPS, space: 48, labelSize: 24,
          label: span < 120 ? 'seconds from the first phase start' : 'minutes:seconds from the first phase start',
          values: function (u, splits) { return splits.map(function (v) { return clock(v, span); }); } }),
      ],
      series: [
        { label: 'phase' },
        { label: 'phase span', width: 0, fill: STATUS_COLORS.PASS, points: { show: false },
          paths: uPlot.paths.bars({ size: [0.7, 22], radius: 0.2, disp: {
            y0: { unit: 1, values: function () { return starts; } },
            y1: { unit: 1, values: function () { return ends; } },
            fill: { unit: 3, values: function () { return fills; } },
          } }) },
      ],
    };
    mount(el, opts, [xs, ends], colors);
  }

  function drawRates(report) {
    var el = box('rates');
    if (!el) return;
    var series = report.rates.series.filter(function (s) { return s.points.length > 0; });
    var xs = unique([].concat.apply([], series.map(function (s) { return s.points.map(function (p) { return p[0]; }); })))
      .sort(function (a, b) { return a - b; });
    var base = report.rates.started_at_utc ? Date.parse(report.rates.started_at_utc) / 1000 : NaN;
    var timed = !isNaN(base);
    var data = [xs.map(function (t) { return timed ? base + t : t; })];
    var colors = [];
    var uSeries = [{ label: timed ? 'time (UTC)' : 'seconds',
      value: function (u, v) { return v === null || v === undefined ? '—' : timed ? hhmmss(utc(v)) : v + ' s'; } }];
    var dense = xs.length > 30;
    series.forEach(function (s) {
      var at = {};
      s.points.forEach(function (p) { at[p[0]] = p[1]; });
      data.push(xs.map(function (t) { return Object.prototype.hasOwnProperty.call(at, t) ? at[t] : null; }));
      var color = PLANE_COLORS[s.plane] || '#57606a';
      colors.push(color);
      uSeries.push({ label: s.plane, stroke: color, width: 2, spanGaps: false, points: { show: !dense, size: 5 },
        value: function (u, v) { return v === null || v === undefined ? '—' : v.toFixed(1) + ' ev/s'; } });
    });
    var opts = {
      height: 300,
      series: uSeries,
      scales: { x: { time: timed } },
      axes: [
        axis(timed ? { space: 72, values: function (u, splits) { return splits.map(function (v) { return hhmmss(utc(v)); }); } } : { space: 60 }),
        axis({ label: 'events / s', labelSize: 24, size: 56 }),
      ],
      tzDate: utc,
    };
    mount(el, opts, data, colors);
  }

  function drawLabelRecall(report) {
    var el = box('label-recall');
    if (!el || !report.decision_quality) return;
    var byLabel = report.decision_quality.by_label;
    var names = Object.keys(byLabel);
    var xs = names.map(function (n, i) { return i; });
    var recalls = names.map(function (n) { return byLabel[n].recall; });
    var fills = names.map(function (n) { return n === 'LEGIT' ? LEGIT_COLOR : RECALL_COLOR; });
    var opts = {
      height: 240,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.6, names.length - 0.4] }, y: { range: [0, 1] } },
      axes: [
        axis({ grid: { show: false }, splits: function () { return xs; },
          values: function (u, splits) { return splits.map(function (i) { return names[i] || ''; }); } }),
        axis({ size: 50, values: function (u, splits) { return splits.map(function (v) { return Math.round(v * 100) + '%'; }); } }),
      ],
      series: [
        { label: 'truth label' },
        { label: 'flagged share', width: 0, fill: RECALL_COLOR, points: { show: false },
          paths: uPlot.paths.bars({ size: [0.6, 90], radius: 0.1, disp: {
            fill: { unit: 3, values: function () { return fills; } },
          } }) },
      ],
    };
    mount(el, opts, [xs, recalls], fills.filter(function (f, i) { return recalls[i] !== null && recalls[i] > 0; }));
  }

  function resize() {
    charts.forEach(function (c) { c.u.setSize({ width: widthOf(c.el), height: c.u.height }); });
  }

  try {
    var report = JSON.parse(document.getElementById('report-data').textContent);
    drawPhases(report);
    drawRates(report);
    drawLabelRecall(report);
    mounting = false;
    settle();
    var queued = false;
    window.addEventListener('resize', function () {
      if (queued) return;
      queued = true;
      requestAnimationFrame(function () { queued = false; resize(); });
    });
    window.addEventListener('beforeprint', resize);
  } catch (error) {
    fail(error);
  }
})();
`;
