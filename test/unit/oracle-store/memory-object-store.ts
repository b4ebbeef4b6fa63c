import { createHash } from 'node:crypto';
import type { DeletableObjectStore, StoredObject } from '../../../lib/oracle-store/object-store.ts';

export interface MemoryObjectStore extends DeletableObjectStore {
  /** Every key, sorted. */
  keys(): string[];
  /** The object as UTF-8 text, or undefined. */
  text(key: string): string | undefined;
}

/** An in-memory ObjectStore with S3's write-once semantics, for unit tests. */
export function memoryObjectStore(root = 'memory://engine-run'): MemoryObjectStore {
  const objects = new Map<string, Uint8Array>();
  const bytesOf = (body: Uint8Array | string) =>
    typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
  const sortedKeys = () => [...objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    root,
    async list(prefix) {
      const out: StoredObject[] = [];
      for (const key of sortedKeys()) {
        const body = objects.get(key);
        if (!key.startsWith(prefix) || body === undefined) continue;
        out.push({ key, size: body.length, etag: createHash('md5').update(body).digest('hex') });
      }
      return out;
    },
    async get(key) {
      const body = objects.get(key);
      return body === undefined ? undefined : new Uint8Array(body);
    },
    async putIfAbsent(key, body) {
      if (objects.has(key)) return false;
      objects.set(key, bytesOf(body));
      return true;
    },
    async put(key, body) {
      objects.set(key, bytesOf(body));
    },
    async head(key) {
      const body = objects.get(key);
      return body === undefined
        ? undefined
        : { size: body.length, sha256: createHash('sha256').update(body).digest('hex') };
    },
    async delete(key) {
      objects.delete(key);
    },
    keys: sortedKeys,
    text(key) {
      const body = objects.get(key);
      return body === undefined ? undefined : new TextDecoder().decode(body);
    },
  };
}
