import fs from 'node:fs';
import path from 'node:path';
import type { ObjectStore } from '../oracle-store/object-store.ts';
import type { SortWorkspace } from '../oracle-store/stream-sort/engine.ts';

/**
 * Scratch space for the stream sort (Lambda /tmp): objects are staged as `NNNNNNN-<basename>` so that the
 * lexical order of the local names is the order of the source URIs. Objects of a store on the local disk are
 * linked, not copied; staged copies are reused while their size matches.
 */
export function storeWorkspace(store: ObjectStore, directory: string): SortWorkspace {
  fs.mkdirSync(directory, { recursive: true });
  return {
    async stage(files) {
      const out: string[] = [];
      for (const f of files) {
        const local = path.join(
          directory,
          `${String(f.ordinal).padStart(7, '0')}-${path.posix.basename(f.key)}`,
        );
        const own = store.localPath?.(f.key);
        if (own) {
          fs.rmSync(local, { force: true });
          fs.symlinkSync(own, local);
        } else if (!fs.existsSync(local)) {
          const bytes = await store.get(f.key);
          if (!bytes) throw new Error(`staging: ${store.root}/${f.key} does not exist`);
          fs.writeFileSync(`${local}.part`, bytes);
          fs.renameSync(`${local}.part`, local);
        }
        out.push(local);
      }
      return out;
    },
    scratchPath(name) {
      const p = path.join(directory, 'out', name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.rmSync(p, { force: true });
      return p;
    },
    async upload(localPath, key) {
      await store.put(key, fs.readFileSync(localPath));
    },
  };
}
