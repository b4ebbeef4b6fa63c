import { describe, expect, it } from 'vitest';
import {
  countPath,
  escapeHtml,
  evidenceHref,
  formatInstant,
  formatNumber,
  jsonForScript,
} from '../../../lib/run-reporter/html-text.ts';
import { valueAtCountPath } from './report-fixture.ts';

const RUN = 'platform_20261207T101500Z';

describe('run report page text', () => {
  it('escapes every character that could start markup or end an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('writes JSON that cannot close its script element and parses back unchanged', () => {
    const value = { id: '</script><!-- & \u2028\u2029 >' };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('names one value per count path, even for keys holding dots or tildes', () => {
    const doc = { a: { 'x.y': 1, 'x~y': 2, x: { y: 3 } }, list: [{ n: 4 }] };
    expect(valueAtCountPath(doc, countPath('a', 'x.y'))).toBe(1);
    expect(valueAtCountPath(doc, countPath('a', 'x~y'))).toBe(2);
    expect(valueAtCountPath(doc, countPath('a', 'x', 'y'))).toBe(3);
    expect(valueAtCountPath(doc, countPath('list', 0, 'n'))).toBe(4);
    expect(valueAtCountPath(doc, 'a.missing')).toBeUndefined();
  });

  it('formats counts grouped, decimals to three places and ratios as percentages', () => {
    expect(formatNumber(12345, 'count')).toBe('12,345');
    expect(formatNumber(18.25, 'count')).toBe('18.25');
    expect(formatNumber(640, 'decimal')).toBe('640.0');
    expect(formatNumber(0.93333, 'percent')).toBe('93.3%');
    expect(formatNumber(null, 'percent')).toBe('—');
  });

  it('links objects of the run relative to <run>/obs/ and nothing else', () => {
    expect(evidenceHref(`${RUN}/lifecycle/P9_DECISION_CHAIN_COMMITTED.json`, RUN)).toBe(
      '../lifecycle/P9_DECISION_CHAIN_COMMITTED.json',
    );
    expect(evidenceHref(`s3://fraud-platform/${RUN}/archive/seg 1.jsonl#bytes=0-9`, RUN)).toBe(
      '../archive/seg%201.jsonl',
    );
    expect(evidenceHref(`${RUN}/obs/governance/events.jsonl`, RUN)).toBe('governance/events.jsonl');
    expect(evidenceHref('platform_20261207T090000Z/lifecycle/P9.json', RUN)).toBeUndefined();
    expect(evidenceHref(`${RUN}/../secrets.json`, RUN)).toBeUndefined();
    expect(evidenceHref(`javascript:alert(1)//${RUN}/x`, RUN)).toBeUndefined();
    expect(evidenceHref(`https://example.com/${RUN}/x`, RUN)).toBeUndefined();
    expect(evidenceHref(`/${RUN}/x`, RUN)).toBeUndefined();
  });

  it('shows instants in UTC to the second', () => {
    expect(formatInstant('2026-12-07T10:16:04.512Z')).toBe('2026-12-07 10:16:04Z');
    expect(formatInstant('2026-12-07T11:16:04+01:00')).toBe('2026-12-07 10:16:04Z');
    expect(formatInstant('not a time')).toBe('not a time');
    expect(formatInstant(null)).toBe('—');
  });
});
