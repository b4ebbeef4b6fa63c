import { createHash } from 'node:crypto';
import { InvariantViolation, PlatformError, RequestInvalid } from '../errors/platform-error.ts';
import type { ObjectReader, ObjectStore } from './object-store.ts';

/**
 * oracle-sync: copies an engine world (a directory or an S3 prefix) into the oracle store under its engine run
 * root, several objects at a time; an object already there with the same size and sha256 is skipped, so an
 * interrupted sync resumes where it stopped. A sealed pack is immutable: once `_SEALED.json` is at the target,
 * an object that would be added or changed fails the sync with SEALED_PACK_CHANGED before anything is written.
 */

export class SyncError extends PlatformError<'SEALED_PACK_CHANGED'> {
  constructor(code: 'SEALED_PACK_CHANGED', message: string) {
    super(code, `${code}: ${message}`);
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
      if (!body) throw new InvariantViolation(`sync: ${source.root}/${o.key} vanished during the sync`);
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

export interface EngineRunSyncRequest {
  /** Where the world is (its run_receipt.json names the engine run). */
  source: ObjectReader;
  /** The target prefix; default `engine-runs/<run_id>`. */
  engineRunPrefix?: string | undefined;
  /** The oracle store's writable view of a prefix. */
  targetOf(prefix: string): ObjectStore;
}

/**
 * oracle-sync of one engine run: its run_id from the world's run_receipt.json (no receipt: ORACLE_REQUEST_INVALID,
 * PACK_ROOT_NOT_FOUND), the target prefix, then the copy.
 */
export async function syncEngineRun(request: EngineRunSyncRequest, options: { concurrency?: number } = {}) {
  const { source } = request;
  const receipt = await source.get('run_receipt.json');
  if (!receipt)
    throw new RequestInvalid(
      'ORACLE_REQUEST_INVALID',
      `PACK_ROOT_NOT_FOUND: no run_receipt.json under ${source.root}`,
    );
  const runId = String(
    (JSON.parse(Buffer.from(receipt).toString('utf8')) as { run_id?: unknown }).run_id ?? '',
  );
  const prefix = request.engineRunPrefix ?? `engine-runs/${runId}`;
  const target = request.targetOf(prefix);
  const result = await syncWorld(source, target, options);
  return {
    engine_run_prefix: prefix,
    engine_run_root: target.root,
    run_id: runId,
    objects: result.total,
    copied: result.copied,
    skipped: result.skipped,
    bytes: result.bytes,
  };
}
