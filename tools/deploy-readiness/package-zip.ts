import fs from 'node:fs/promises';
import JSZip from 'jszip';
import { z } from 'zod';

/** One zip of a package directory, read once: its size, unzipped size and the modules it carries. */

export interface ZipContents {
  zippedBytes: number;
  unzippedBytes: number;
  names: string[];
  readText(name: string): Promise<string | undefined>;
}

// jszip keeps each entry's central-directory sizes in the private `_data`; read them without inflating.
const CompressedEntry = z.object({ _data: z.object({ uncompressedSize: z.number().nonnegative() }) });

async function unzippedSize(entry: JSZip.JSZipObject): Promise<number> {
  const parsed = CompressedEntry.safeParse(entry);
  return parsed.success ? parsed.data._data.uncompressedSize : (await entry.async('uint8array')).length;
}

export async function readZip(file: string): Promise<ZipContents | undefined> {
  const bytes = await fs.readFile(file).catch(() => undefined);
  if (!bytes) return undefined;
  const zip = await JSZip.loadAsync(bytes);
  const entries = Object.values(zip.files).filter((e) => !e.dir);
  const sizes = await Promise.all(entries.map(unzippedSize));
  return {
    zippedBytes: bytes.length,
    unzippedBytes: sizes.reduce((sum, n) => sum + n, 0),
    names: entries.map((e) => e.name),
    readText: async (name) => zip.file(name)?.async('string'),
  };
}

/** Module names (`pg`, `@duckdb/node-api`) directly under any of the given `…/node_modules/` prefixes. */
export function modulesUnder(names: string[], prefixes: string[]): string[] {
  const modules = new Set<string>();
  for (const name of names) {
    const prefix = prefixes.find((p) => name.startsWith(p));
    if (!prefix) continue;
    const parts = name.slice(prefix.length).split('/');
    const module = parts[0]?.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
    if (module && parts.length > (module.startsWith('@') ? 2 : 1) && !module.startsWith('.'))
      modules.add(module);
  }
  return [...modules].sort();
}
