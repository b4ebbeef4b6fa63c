import { createHash } from 'node:crypto';
import type { ObjectStore } from './object-store.ts';

/**
 * oracle-sync: copies an engine world (a directory or an S3 prefix) into the oracle store under its engine run
 * root, several objects at a time; an object already there with the same size and sha256 is skipped, so an
 * interrupted sync resumes where it stopped.
 */

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
  source: ObjectStore,
  target: ObjectStore,
  options: { concurrency?: number; onProgress?: (p: SyncProgress) => void } = {},
): Promise<SyncResult> {
  const objects = (await source.list('')).filter(
    (o) => !o.key.startsWith('stream_view/') && !o.key.startsWith('_'),
  );
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
