/**
 * Text, numbers and links of the run report page (html.ts). Everything the report holds came from the bus or from
 * S3 keys, so every string put into the page goes through `escapeHtml`, the embedded JSON through `jsonForScript`.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text or an attribute value (always double-quoted by the page) with no character that could start markup. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * The report as the text of `<script type="application/json">`: `<` (so neither `</script` nor `<!--` can appear),
 * `>`, `&` and the two JSON-legal line separators become `\u` escapes, which JSON.parse reads back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A library's code inside `<script>`: a literal `</script` in it would end the element early. */
export function scriptText(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

/** A stylesheet inside `<style>`: `<\/style` is the same CSS token sequence but cannot close the element. */
export function styleText(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}

/**
 * A `data-count` path: the keys from the report's root joined by `.`, array positions as numbers. A key holding `~`
 * or `.` is written `~0` / `~1` (as in a JSON Pointer) so every path names exactly one value.
 */
export function countPath(...segments: readonly (string | number)[]): string {
  return segments.map((s) => String(s).replace(/~/g, '~0').replace(/\./g, '~1')).join('.');
}

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DECIMAL = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 3 });
const PERCENT = new Intl.NumberFormat('en-US', {
  style: 'percent',
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/** How a number is shown: `count` 12,345 · `decimal` 12.5 · `percent` 93.4% (the JSON holds 0.934). */
export type NumberFormat = 'count' | 'decimal' | 'percent';

export function formatNumber(value: number | null, format: NumberFormat): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (format === 'percent') return PERCENT.format(value);
  if (format === 'count' && Number.isInteger(value)) return INTEGER.format(value);
  return DECIMAL.format(value);
}

/** A number from the report as an element a test can hold against the JSON: `data-count` names where it came from. */
export function countElement(
  value: number | null,
  path: string,
  format: NumberFormat = 'count',
  tag: 'span' | 'td' = 'span',
  className = '',
): string {
  const cls = className ? ` class="${escapeHtml(className)}"` : '';
  return `<${tag}${cls} data-count="${escapeHtml(path)}" data-format="${format}">${escapeHtml(formatNumber(value, format))}</${tag}>`;
}

/** `s3://bucket/key#bytes=a-b` or a bare key → the key (undefined when the ref is not an object of a bucket). */
function objectKeyOf(ref: string): string | undefined {
  const uri = /^s3:\/\/[^/]+\/([^#]+)(?:#.*)?$/.exec(ref);
  if (uri) return uri[1];
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('/')) return undefined;
  return ref.split('#')[0];
}

/**
 * The link from the page (`<run>/obs/platform_run_report.html`) to an object of the same run: `<run>/lifecycle/P9.json`
 * → `../lifecycle/P9.json`, each segment percent-encoded. Undefined for anything outside the run's folder (another
 * run, another bucket, a path climbing out with `..`): the page shows those refs as text only.
 */
export function evidenceHref(ref: string, platformRunId: string): string | undefined {
  const key = objectKeyOf(ref);
  if (key === undefined || !key.startsWith(`${platformRunId}/`)) return undefined;
  const segments = key.slice(platformRunId.length + 1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  if (segments[0] === 'obs' && segments.length > 1)
    return segments.slice(1).map(encodeURIComponent).join('/');
  return `../${segments.map(encodeURIComponent).join('/')}`;
}

/** An instant as `2026-12-07 10:15:30Z` (the report's times are UTC ISO strings); the raw text when it does not parse. */
export function formatInstant(value: string | null): string {
  if (value === null) return '—';
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}
