import { createHash } from 'node:crypto';
import type { ObjectReader, ObjectStore } from './object-store.ts';

/**
 * oracle-sync: copies an engine world (a directory or an S3 prefix) into the oracle store under its engine run
 * root, several objects at a time; an object already there with the same size and sha256 is skipped, so an
 * interrupted sync resumes where it stopped. A sealed pack is immutable: once `_SEALED.json` is at the target,
 * an object that would be added or changed fails the sync with SEALED_PACK_CHANGED before anything is written.
 */

export class SyncError extends Error {
  override readonly name: 'SEALED_PACK_CHANGED';
  constructor(code: 'SEALED_PACK_CHANGED', message: string) {
    super(`${code}: ${message}`);
    this.name = code;
  }
}

export interface SyncProgress {
  done: number;
  total: number;
  copied: number;
  skipped: number;
  bytes: number;
}

export interface SyncResult extends SyncProgress {
  target: string;
}

export async function syncWorld(
  source: ObjectReader,
  target: ObjectStore,
  options: { concurrency?: number; onProgress?: (p: SyncProgress) => void } = {},
): Promise<SyncResult> {
  const objects = (await source.list('')).filter(
    (o) => !o.key.startsWith('stream_view/') && !o.key.startsWith('_'),
  );
  const sealed = (await target.get('_SEALED.json')) !== undefined;
  const progress: SyncProgress = { done: 0, total: objects.length, copied: 0, skipped: 0, bytes: 0 };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const o = objects[next++];
      if (!o) return;
      const body = await source.get(o.key);
      if (!body) throw new Error(`sync: ${source.root}/${o.key} vanished during the sync`);
      const sha256 = createHash('sha256').update(body).digest('hex');
      const there = await target.head?.(o.key);
      if (there && there.size === body.byteLength && there.sha256 === sha256) progress.skipped++;
      else if (sealed)
        throw new SyncError(
          'SEALED_PACK_CHANGED',
          `${target.root} is sealed and ${o.key} ${there ? 'differs from' : 'is not in'} the sealed pack`,
        );
      else {
        await target.put(o.key, body, { sha256 });
        progress.copied++;
        progress.bytes += body.byteLength;
      }
      progress.done++;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return { ...progress, target: target.root };
}
