import fs from 'node:fs';
import path from 'node:path';
import { PlatformRunReport } from '../../../lib/contracts/run-report.ts';

/** The realistic run report of test/fixtures/run-report (13 phases, 4 planes, 13 components, 5 cases), parsed. */
export function fixtureReport(): PlatformRunReport {
  const file = path.resolve('test/fixtures/run-report/report.json');
  return PlatformRunReport.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/** The value at a page's `data-count` path (`~1` is `.`, `~0` is `~`); undefined when the path names nothing. */
export function valueAtCountPath(root: unknown, countPath: string): unknown {
  let node: unknown = root;
  for (const raw of countPath.split('.')) {
    const key = raw.replace(/~1/g, '.').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * Every number of the report a page must show with its path: all numeric leaves but the rate samples (those are
 * the events/s chart's data, not figures).
 */
export function numericLeafPaths(root: unknown, prefix: string[] = []): string[] {
  if (typeof root === 'number') return [prefix.join('.')];
  if (root === null || typeof root !== 'object') return [];
  if (prefix.length >= 3 && prefix[0] === 'rates' && prefix.at(-1) === 'points') return [];
  return Object.entries(root).flatMap(([key, value]) =>
    numericLeafPaths(value, [...prefix, key.replace(/~/g, '~0').replace(/\./g, '~1')]),
  );
}

/**
 * A number as the page shows it (`12,345`, `96.7%`, `38.2`, `—`) back to a value and how far it may be from the
 * JSON's (the page rounds percentages to 0.1 % and decimals to 3 places).
 */
export function parseShownNumber(text: string, format: string): { value: number | null; tolerance: number } {
  const t = text.trim();
  if (t === '—') return { value: null, tolerance: 0 };
  const plain = Number(t.replace(/,/g, '').replace(/%$/, ''));
  if (format === 'percent') return { value: plain / 100, tolerance: 0.0005 + 1e-9 };
  if (format === 'decimal') return { value: plain, tolerance: 0.0005 + 1e-9 };
  return { value: plain, tolerance: 0 };
}
