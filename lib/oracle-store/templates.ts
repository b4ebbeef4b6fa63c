import path from 'node:path';
import type { ObjectReader, StoredObject } from './object-store.ts';

/** Token values for `{name}` placeholders; bigint seeds render as exact decimals. */
export type TemplateTokens = Readonly<Record<string, string | number | bigint | undefined>>;

export interface RenderedTemplate {
  path: string;
  /** Placeholders with no token value, in order of appearance (the path keeps them as `{name}`). */
  missing: string[];
}

/** Substitutes `{name}` placeholders; the template is used verbatim otherwise (glob characters kept). */
export function renderTemplate(template: string, tokens: TemplateTokens): RenderedTemplate {
  const missing: string[] = [];
  const rendered = template.replace(/\{([^{}]+)\}/g, (whole, name: string) => {
    const value = tokens[name];
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return String(value);
  });
  return { path: rendered, missing };
}

/** The placeholder names a template uses. */
export function templateTokens(template: string): string[] {
  return [...new Set([...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1] ?? ''))];
}

/**
 * Resolves `relative` against `base` (both store keys) the way a POSIX path join would, or undefined
 * when the result is absolute or climbs out of the store root.
 */
export function joinKey(base: string, relative: string): string | undefined {
  if (relative.startsWith('/')) return undefined;
  const joined = path.posix.normalize(path.posix.join(base, relative));
  if (joined === '..' || joined.startsWith('../') || joined.startsWith('/') || joined === '.')
    return undefined;
  return joined;
}

const GLOB_CHARS = /[*?[]/;

function globSegmentToRegExp(pattern: string): string {
  let out = '';
  for (const c of pattern) {
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  return out;
}

/**
 * The objects a rendered catalogue path names: `*`/`?` match within one path segment; a path ending in
 * `/` names everything under that directory; a plain path names that object or, failing that, a directory.
 */
export async function globObjects(store: ObjectReader, pattern: string): Promise<StoredObject[]> {
  const key = pattern.replace(/^\.\//, '');
  if (key.endsWith('/')) return store.list(key);
  const firstGlob = key.search(GLOB_CHARS);
  if (firstGlob < 0) {
    const exact = (await store.list(key)).filter((o) => o.key === key);
    return exact.length > 0 ? exact : store.list(`${key}/`);
  }
  const prefix = key.slice(0, key.lastIndexOf('/', firstGlob) + 1);
  const matcher = new RegExp(`^${globSegmentToRegExp(key)}$`);
  return (await store.list(prefix)).filter((o) => matcher.test(o.key));
}
