import { describe, expect, it } from 'vitest';
import { SyncError, syncWorld } from '../../../lib/oracle-store/sync.ts';
import { memoryObjectStore } from './memory-object-store.ts';

async function worldOf(files: Record<string, string>) {
  const store = memoryObjectStore('memory://world');
  for (const [k, v] of Object.entries(files)) await store.put(k, v);
  return store;
}

describe('oracle-sync', () => {
  it('copies every object, then skips them all on a rerun (same size and sha256)', async () => {
    const source = await worldOf({
      'run_receipt.json': '{}',
      'data/a/part-00000.parquet': 'aaa',
      'data/b/x.json': 'b',
    });
    const target = memoryObjectStore();
    const seen: number[] = [];
    const first = await syncWorld(source, target, { concurrency: 2, onProgress: (p) => seen.push(p.done) });
    expect(first).toMatchObject({ total: 3, copied: 3, skipped: 0, bytes: 6 });
    expect(seen).toEqual([1, 2, 3]);
    expect(target.keys()).toEqual(source.keys());
    const again = await syncWorld(source, target);
    expect(again).toMatchObject({ total: 3, copied: 0, skipped: 3, bytes: 0 });
  });

  it('resumes: only missing or different objects are copied', async () => {
    const source = await worldOf({ 'run_receipt.json': '{}', 'a.json': 'new', 'b.json': 'b' });
    const target = memoryObjectStore();
    await target.put('a.json', 'old');
    await target.put('b.json', 'b');
    const r = await syncWorld(source, target);
    expect(r).toMatchObject({ copied: 2, skipped: 1 });
    expect(target.text('a.json')).toBe('new');
  });

  it('never copies stream views or the pack files of a source', async () => {
    const source = await worldOf({
      'run_receipt.json': '{}',
      '_SEALED.json': '{}',
      'stream_view/ts_utc/output_id=x/part-000000.parquet': 'v',
    });
    const target = memoryObjectStore();
    await syncWorld(source, target);
    expect(target.keys()).toEqual(['run_receipt.json']);
  });

  it('refuses to change a sealed pack: SEALED_PACK_CHANGED, nothing written', async () => {
    const source = await worldOf({ 'run_receipt.json': '{}', 'a.json': 'a' });
    const target = memoryObjectStore();
    await syncWorld(source, target);
    await target.put('_SEALED.json', '{}');
    expect((await syncWorld(source, target)).skipped).toBe(2);
    await source.put('a.json', 'tampered');
    await expect(syncWorld(source, target)).rejects.toThrow(SyncError);
    await expect(syncWorld(source, target)).rejects.toThrow(/SEALED_PACK_CHANGED: .* a\.json differs/);
    await source.put('c.json', 'extra');
    await source.put('a.json', 'a');
    await expect(syncWorld(source, target)).rejects.toThrow(/c\.json is not in the sealed pack/);
    expect(target.text('a.json')).toBe('a');
    expect(target.keys()).not.toContain('c.json');
  });
});
