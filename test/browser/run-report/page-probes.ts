/**
 * What the run report page test reads inside the page, as browser expressions (the project's TypeScript has no DOM
 * types, and these run in Chromium, not in Node).
 */

/**
 * Each `[data-chart]`: its state, text, canvas size, how many pixels are painted and, per colour the page says its
 * series use (`data-series-colors`), how many opaque pixels are within a small distance of it.
 */
export const CHART_PROBE = `(() => [...document.querySelectorAll('[data-chart]')].map((el) => {
  const canvases = el.querySelectorAll('canvas');
  const canvas = canvases[0];
  const colors = (el.getAttribute('data-series-colors') || '').split(',').filter(Boolean);
  const rgb = colors.map((c) => [1, 3, 5].map((at) => parseInt(c.slice(at, at + 2), 16)));
  const matches = colors.map(() => 0);
  let painted = 0;
  if (canvas) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      painted++;
      if (data[i + 3] < 200) continue;
      rgb.forEach((c, k) => {
        if (Math.abs(data[i] - c[0]) + Math.abs(data[i + 1] - c[1]) + Math.abs(data[i + 2] - c[2]) <= 24) matches[k]++;
      });
    }
  }
  return {
    name: el.getAttribute('data-chart'),
    state: el.getAttribute('data-chart-state') || '',
    text: (el.textContent || '').trim(),
    canvases: canvases.length,
    width: canvas ? canvas.width : 0,
    height: canvas ? canvas.height : 0,
    painted,
    colors,
    matches,
  };
}))()`;

/** Every figure the page shows from the report: its path, format and text. */
export const COUNT_PROBE = `[...document.querySelectorAll('[data-count]')].map((el) => ({
  path: el.getAttribute('data-count'),
  format: el.getAttribute('data-format'),
  text: el.textContent,
}))`;

/** The phase rows, the case blocks with their timeline entries, and every evidence link as the browser resolves it. */
export const STRUCTURE_PROBE = `({
  phases: [...document.querySelectorAll('tr[data-phase]')].map((tr) => tr.getAttribute('data-phase')),
  cases: [...document.querySelectorAll('article.case')].map((a) => ({
    id: a.getAttribute('data-case-id'),
    entries: a.querySelectorAll('ol.timeline > li').length,
  })),
  links: [...document.querySelectorAll('a[data-evidence-link]')].map((a) => a.href),
})`;

/** True once every drawn chart fits its container and the page does not scroll sideways. */
export const LAYOUT_PROBE = `(() => {
  const fits = [...document.querySelectorAll('[data-chart-state="drawn"]')].every((el) => {
    const canvas = el.querySelector('canvas');
    return canvas && canvas.getBoundingClientRect().width <= el.getBoundingClientRect().width + 1;
  });
  return fits && document.documentElement.scrollWidth <= window.innerWidth;
})()`;
