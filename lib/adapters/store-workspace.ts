import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvariantViolation, PlatformError } from '../errors/platform-error.ts';
import type { ObjectReader, ObjectStore } from '../oracle-store/object-store.ts';
import type { SortWorkspace } from '../oracle-store/stream-sort/engine.ts';

/**
 * Scratch space for the stream sort (Lambda /tmp): objects are staged as `NNNNNNN-<key digest>-<basename>` so
 * that the lexical order of the local names is the order of the source URIs and two keys never share a name
 * (every output has a part-00000.parquet). Objects of a store on the local disk are linked, not copied; staged
 * copies are reused. Every write goes to a unique temporary name first and is renamed into place, so invocations
 * sharing one /tmp (a warm container, or the local cloud's single process) never see each other's half-files.
 */
export function storeWorkspace(
  store: ObjectReader & Partial<Pick<ObjectStore, 'put'>>,
  directory: string,
): SortWorkspace {
  fs.mkdirSync(directory, { recursive: true });
  return {
    async stage(files, options) {
      const out: string[] = [];
      for (const f of files) {
        const local = path.join(
          directory,
          `${String(f.ordinal).padStart(7, '0')}-${keyDigest(store.root, f.key)}-${path.posix.basename(f.key)}`,
        );
        const temporary = `${local}.${randomUUID()}.tmp`;
        const own = store.localPath?.(f.key);
        if (own) {
          fs.symlinkSync(own, temporary);
          fs.renameSync(temporary, local);
        } else if (options?.fresh || !fs.existsSync(local)) {
          const bytes = await store.get(f.key);
          if (!bytes) throw new InvariantViolation(`staging: ${store.root}/${f.key} does not exist`);
          fs.writeFileSync(temporary, bytes);
          fs.renameSync(temporary, local);
        }
        out.push(local);
      }
      return out;
    },
    scratchPath(name) {
      const p = path.join(directory, 'out', randomUUID(), name);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.rmSync(p, { force: true });
      return p;
    },
    async upload(localPath, key) {
      if (!store.put)
        throw new PlatformError(
          'STORE_READ_ONLY',
          `workspace over ${store.root} is read-only: cannot upload ${key}`,
        );
      await store.put(key, fs.readFileSync(localPath));
      fs.rmSync(localPath, { force: true });
      const parent = path.dirname(localPath);
      if (path.dirname(parent) === path.join(directory, 'out'))
        fs.rmSync(parent, { recursive: true, force: true });
    },
  };
}

function keyDigest(root: string, key: string): string {
  return createHash('sha256').update(`${root}/${key}`).digest('hex').slice(0, 12);
}
