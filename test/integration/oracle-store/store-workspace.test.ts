import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileObjectStore } from '../../../lib/adapters/file-object-store.ts';
import { storeWorkspace } from '../../../lib/adapters/store-workspace.ts';
import type { ObjectStore } from '../../../lib/oracle-store/object-store.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-workspace-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A store without localPath, so staging copies bytes (as from S3). */
const copyingStore = (root: string): ObjectStore => {
  const inner = fileObjectStore(root);
  return { ...inner, localPath: undefined };
};

describe('sort workspace', () => {
  it('stages same-named parts of different outputs as different files, in ordinal order', async () => {
    const store = copyingStore(path.join(dir, 'store'));
    await store.put('a/part-00000.parquet', 'output a');
    await store.put('b/part-00000.parquet', 'output b');
    const ws = storeWorkspace(store, path.join(dir, 'ws'));
    const [a] = await ws.stage([{ key: 'a/part-00000.parquet', ordinal: 0 }]);
    const [b] = await ws.stage([{ key: 'b/part-00000.parquet', ordinal: 0 }]);
    expect(a).not.toBe(b);
    expect(fs.readFileSync(a ?? '', 'utf8')).toBe('output a');
    expect(fs.readFileSync(b ?? '', 'utf8')).toBe('output b');
    const both = await ws.stage([
      { key: 'b/part-00000.parquet', ordinal: 1 },
      { key: 'a/part-00000.parquet', ordinal: 0 },
    ]);
    expect([...both].sort()).toEqual([both[1], both[0]]);
  });

  it('concurrent stagings of one key and concurrent scratch outputs do not collide', async () => {
    const store = fileObjectStore(path.join(dir, 'linked'));
    await store.put('x/part-00000.parquet', 'x');
    const ws = storeWorkspace(store, path.join(dir, 'ws2'));
    const staged = await Promise.all(
      Array.from({ length: 8 }, () => ws.stage([{ key: 'x/part-00000.parquet', ordinal: 0 }])),
    );
    for (const [p] of staged) expect(fs.readFileSync(p ?? '', 'utf8')).toBe('x');
    const outs = [ws.scratchPath('part-000000.parquet'), ws.scratchPath('part-000000.parquet')];
    expect(outs[0]).not.toBe(outs[1]);
    fs.writeFileSync(outs[0] ?? '', 'view');
    await ws.upload(outs[0] ?? '', 'view/part-000000.parquet');
    expect(fs.existsSync(outs[0] ?? '')).toBe(false);
    expect(Buffer.from((await store.get('view/part-000000.parquet')) ?? []).toString()).toBe('view');
  });
});
