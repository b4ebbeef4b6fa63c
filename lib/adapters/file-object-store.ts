import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PlatformError } from '../errors/platform-error.ts';
import type { DeletableObjectStore, StoredObject } from '../oracle-store/object-store.ts';

/** An ObjectStore over a directory (engine worlds on disk, tests). Write-once uses O_EXCL. */
export function fileObjectStore(directory: string): DeletableObjectStore {
  const root = path.resolve(directory);
  const full = (key: string) => {
    const p = path.resolve(root, key);
    if (p !== root && !p.startsWith(`${root}${path.sep}`))
      throw new PlatformError('KEY_OUTSIDE_STORE', `key escapes the store root: ${key}`);
    return p;
  };
  const walk = (dir: string, out: StoredObject[]) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p, out);
      else if (entry.isFile()) {
        const stat = fs.statSync(p);
        out.push({
          key: path.relative(root, p).split(path.sep).join('/'),
          size: stat.size,
          etag: `${stat.size}-${stat.mtimeMs}`,
        });
      }
    }
  };
  return {
    root,
    async list(prefix) {
      const out: StoredObject[] = [];
      const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      walk(base ? full(base) : root, out);
      return out
        .filter((o) => o.key.startsWith(prefix))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async get(key) {
      try {
        return new Uint8Array(fs.readFileSync(full(key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async putIfAbsent(key, body) {
      const p = full(key);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      try {
        fs.writeFileSync(p, body, { flag: 'wx' });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
    },
    async put(key, body) {
      const p = full(key);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      const tmp = `${p}.${process.pid}.${createHash('sha1').update(key).digest('hex').slice(0, 6)}.tmp`;
      fs.writeFileSync(tmp, body);
      fs.renameSync(tmp, p);
    },
    async head(key) {
      try {
        const bytes = fs.readFileSync(full(key));
        return { size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async delete(key) {
      fs.rmSync(full(key), { force: true });
    },
    localPath: (key) => full(key),
  };
}
