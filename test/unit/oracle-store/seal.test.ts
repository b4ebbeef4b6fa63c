import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileObjectStore } from '../../../lib/adapters/file-object-store.ts';
import { CATALOGUE_DIGEST, GATE_MAP_DIGEST } from '../../../lib/oracle-store/interface-pack.ts';
import { pythonUtcIsoformat } from '../../../lib/oracle-store/pack-contracts.ts';
import { SealError, sealPack } from '../../../lib/oracle-store/seal.ts';
import { memoryObjectStore } from './memory-object-store.ts';
import { buildWorld, MF, PH, RUN_ID, SCENARIO, SEED, sha } from './world-builder.ts';

const T0 = new Date('2026-01-02T10:19:59.123Z');
const T1 = new Date('2026-01-03T00:00:00.000Z');

const expectedPackId = (scenario = SCENARIO, release = 'engine-local-v0', seed: number | bigint = SEED) =>
  sha(`${MF}|${PH}|${scenario}|${seed}|${release}|${CATALOGUE_DIGEST}|${GATE_MAP_DIGEST}`);

async function sealError(promise: Promise<unknown>): Promise<SealError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof SealError)) throw new Error(`expected a SealError, got ${String(error)}`);
  return error;
}

describe('sealPack (§2.1)', () => {
  it('writes the manifest, then the seal, as CJ + "\\n", with the oracle_pack_id recipe', async () => {
    const store = memoryObjectStore();
    await buildWorld(store);
    const sealed = await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T0 });
    const id = expectedPackId();
    expect(sealed).toMatchObject({ oracle_pack_id: id, created: true });
    expect(store.text('_oracle_pack_manifest.json')).toBe(
      `{"catalogue_digest":"${CATALOGUE_DIGEST}","created_at_utc":"2026-01-02T10:19:59.123000+00:00","engine_release":"engine-local-v0","gate_map_digest":"${GATE_MAP_DIGEST}","oracle_pack_id":"${id}","version":"v0","world_key":{"manifest_fingerprint":"${MF}","parameter_hash":"${PH}","scenario_id":"${SCENARIO}","seed":42}}\n`,
    );
    expect(store.text('_SEALED.json')).toBe(
      `{"oracle_pack_id":"${id}","seal_status":"SEALED_OK","sealed_at_utc":"2026-01-02T10:19:59.123000+00:00","version":"v0"}\n`,
    );
    expect(sealed.manifest.world_key.seed).toBe(42n);
  });

  it('an identical re-seal is a no-op returning the first ids and timestamps', async () => {
    const store = memoryObjectStore();
    await buildWorld(store);
    const first = await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T0 });
    const bytes = [store.text('_oracle_pack_manifest.json'), store.text('_SEALED.json')];
    const again = await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T1 });
    expect(again.created).toBe(false);
    expect(again.oracle_pack_id).toBe(first.oracle_pack_id);
    expect(again.manifest.created_at_utc).toBe(first.manifest.created_at_utc);
    expect(again.seal.sealed_at_utc).toBe(first.seal.sealed_at_utc);
    expect([store.text('_oracle_pack_manifest.json'), store.text('_SEALED.json')]).toEqual(bytes);
  });

  it('a re-seal for another scenario or release fails MANIFEST_MISMATCH and changes nothing', async () => {
    const store = memoryObjectStore();
    await buildWorld(store);
    await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T0 });
    const before = store.text('_oracle_pack_manifest.json');
    const other = await sealError(
      sealPack(store, { scenarioId: 'other', engineRelease: 'engine-local-v0', now: T1 }),
    );
    expect(other.name).toBe('MANIFEST_MISMATCH');
    expect(other.message).toContain(expectedPackId());
    const release = await sealError(sealPack(store, { scenarioId: SCENARIO, engineRelease: 'v2', now: T1 }));
    expect(release.name).toBe('MANIFEST_MISMATCH');
    expect(store.text('_oracle_pack_manifest.json')).toBe(before);
  });

  it('a differing seal fails SEAL_MISMATCH (same manifest, another seal status or pack)', async () => {
    const store = memoryObjectStore();
    await buildWorld(store);
    await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T0 });
    const status = await sealError(
      sealPack(store, {
        scenarioId: SCENARIO,
        engineRelease: 'engine-local-v0',
        now: T1,
        sealStatus: 'SEALED_FAILED',
      }),
    );
    expect(status.name).toBe('SEAL_MISMATCH');

    await store.put(
      '_SEALED.json',
      `{"oracle_pack_id":"${sha('another pack')}","seal_status":"SEALED_OK","sealed_at_utc":"x","version":"v0"}\n`,
    );
    const pack = await sealError(
      sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T1 }),
    );
    expect(pack.name).toBe('SEAL_MISMATCH');
  });

  it('a crash between the two writes is healed: the manifest stays, the seal is written', async () => {
    const store = memoryObjectStore();
    await buildWorld(store);
    await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T0 });
    await store.delete('_SEALED.json');
    const healed = await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T1 });
    expect(healed.created).toBe(true);
    expect(healed.manifest.created_at_utc).toBe(pythonUtcIsoformat(T0));
    expect(healed.seal.sealed_at_utc).toBe(pythonUtcIsoformat(T1));
  });

  it('refusals: SCENARIO_ID_MISSING, PACK_ROOT_NOT_FOUND, WORLD_KEY_MISSING, RUN_RECEIPT_UNREADABLE', async () => {
    const store = memoryObjectStore();
    expect((await sealError(sealPack(store, { scenarioId: '', engineRelease: 'r', now: T0 }))).name).toBe(
      'SCENARIO_ID_MISSING',
    );
    expect(
      (await sealError(sealPack(store, { scenarioId: 'x'.repeat(257), engineRelease: 'r', now: T0 }))).name,
    ).toBe('SCENARIO_ID_INVALID');
    expect(
      (await sealError(sealPack(store, { scenarioId: SCENARIO, engineRelease: 'r', now: T0 }))).name,
    ).toBe('PACK_ROOT_NOT_FOUND');
    await store.put(
      'run_receipt.json',
      JSON.stringify({ run_id: RUN_ID, manifest_fingerprint: MF, seed: 1 }),
    );
    const missing = await sealError(sealPack(store, { scenarioId: SCENARIO, engineRelease: 'r', now: T0 }));
    expect(missing.name).toBe('WORLD_KEY_MISSING');
    expect(missing.message).toContain('parameter_hash');
    await store.put('run_receipt.json', '{"run_id": ');
    expect(
      (await sealError(sealPack(store, { scenarioId: SCENARIO, engineRelease: 'r', now: T0 }))).name,
    ).toBe('RUN_RECEIPT_UNREADABLE');
    expect(store.keys()).toEqual(['run_receipt.json']);
  });

  it('a uint64 seed beyond 2^53 is kept exact in the id and the manifest', async () => {
    const store = memoryObjectStore();
    const seed = 2n ** 64n - 1n;
    await buildWorld(store, { seed });
    const sealed = await sealPack(store, { scenarioId: SCENARIO, engineRelease: 'engine-local-v0', now: T0 });
    expect(sealed.oracle_pack_id).toBe(expectedPackId(SCENARIO, 'engine-local-v0', seed));
    expect(store.text('_oracle_pack_manifest.json')).toContain('"seed":18446744073709551615}');
  });

  describe('on a directory (fileObjectStore)', () => {
    let dir: string | undefined;
    afterEach(() => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });
    it('seals once, then re-seals as a no-op', async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oracle-seal-'));
      const store = fileObjectStore(dir);
      await buildWorld(store);
      const first = await sealPack(store, {
        scenarioId: SCENARIO,
        engineRelease: 'engine-local-v0',
        now: T0,
      });
      const again = await sealPack(store, {
        scenarioId: SCENARIO,
        engineRelease: 'engine-local-v0',
        now: T1,
      });
      expect([first.created, again.created]).toEqual([true, false]);
      expect(fs.readFileSync(path.join(dir, '_SEALED.json'), 'utf8')).toContain(first.oracle_pack_id);
    });
  });
});

describe('pythonUtcIsoformat', () => {
  it('matches datetime.isoformat(): microseconds only when non-zero', () => {
    expect(pythonUtcIsoformat(new Date('2026-01-01T00:00:00.000Z'))).toBe('2026-01-01T00:00:00+00:00');
    expect(pythonUtcIsoformat(new Date('2026-01-01T00:00:00.007Z'))).toBe('2026-01-01T00:00:00.007000+00:00');
  });
});
