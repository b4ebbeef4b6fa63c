import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { GateFileSource, GatePathBase } from '../../lib/world/gates.ts';

/** A GateFileSource over a directory tree: the engine run root on local disk. */
export function directoryGateSource(runRoot: string, bundleRoot: string): GateFileSource {
  const bundleDir = join(runRoot, bundleRoot);
  return {
    async listBundleFiles() {
      const entries = await readdir(bundleDir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => relative(bundleDir, join(e.parentPath, e.name)).split(sep).join('/'));
    },
    async read(path: string, base: GatePathBase) {
      try {
        return await readFile(join(base === 'run_root' ? runRoot : bundleDir, path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}
