import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWorld, WorldExistsError } from '../../../tools/world/generate.ts';
import { fileDigests, makeWorld, type TestWorld } from './world-fixture.ts';

describe('generateWorld determinism', () => {
  let first: TestWorld;
  let again: TestWorld;
  let otherSeed: TestWorld;
  let otherScenario: TestWorld;

  beforeAll(async () => {
    first = await makeWorld({ seed: 11n });
    again = await makeWorld({ seed: 11n });
    otherSeed = await makeWorld({ seed: 12n });
    otherScenario = await makeWorld({ seed: 11n, scenarioId: 'stress_v2' });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([first, again, otherSeed, otherScenario].map((w) => w?.dispose()));
  });

  it('writes byte-identical files for the same seed and size', async () => {
    const a = await fileDigests(first.root);
    const b = await fileDigests(again.root);
    expect(a.size).toBeGreaterThan(40);
    expect([...b.entries()]).toEqual([...a.entries()]);
  });

  it('writes a different world for a different seed', async () => {
    expect(otherSeed.summary.manifestFingerprint).not.toBe(first.summary.manifestFingerprint);
    const a = first.summary.outputs.map((o) => o.contentDigest);
    const b = otherSeed.summary.outputs.map((o) => o.contentDigest);
    for (let i = 0; i < a.length; i++) expect(b[i]).not.toBe(a[i]);
  });

  it('keeps the world key across scenarios but not the scenario data', () => {
    expect(otherScenario.summary.manifestFingerprint).toBe(first.summary.manifestFingerprint);
    expect(otherScenario.summary.parameterHash).toBe(first.summary.parameterHash);
    expect(otherScenario.summary.runId).toBe(first.summary.runId);
    const stream = (w: TestWorld) =>
      w.summary.outputs.find((o) => o.outputId === 's3_event_stream_with_fraud_6B');
    expect(stream(otherScenario)?.directory).toContain('scenario_id=stress_v2');
    expect(stream(otherScenario)?.contentDigest).not.toBe(stream(first)?.contentDigest);
  });

  it('derives run_receipt.json from the seed, never the wall clock', async () => {
    const receipt = JSON.parse(await readFile(join(first.root, 'run_receipt.json'), 'utf8'));
    expect(receipt).toMatchObject({
      run_id: expect.stringMatching(/^[a-f0-9]{32}$/),
      manifest_fingerprint: expect.stringMatching(/^[a-f0-9]{64}$/),
      parameter_hash: expect.stringMatching(/^[a-f0-9]{64}$/),
      seed: 11,
      created_utc: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
    });
    expect(receipt.run_id).toBe(first.summary.runId);
  });

  it('refuses to write into a directory that already holds something', async () => {
    const occupied = join(first.parent, 'occupied');
    await mkdir(occupied);
    await writeFile(join(occupied, 'keep.txt'), 'x');
    await expect(generateWorld({ out: occupied, events: 2_000, seed: 1n })).rejects.toBeInstanceOf(
      WorldExistsError,
    );
    expect(await readFile(join(occupied, 'keep.txt'), 'utf8')).toBe('x');
  });

  it('fills an existing empty directory', async () => {
    const empty = join(first.parent, 'empty');
    await mkdir(empty);
    const summary = await generateWorld({ out: empty, events: 600, seed: 3n });
    expect(summary.runRoot).toBe(empty);
    expect((await fileDigests(empty)).has('run_receipt.json')).toBe(true);
  });
});
