import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATE_MAP, type GateDefinition, requiredGateIds } from '../../../lib/world/gate-map.ts';
import {
  gateDigestFor,
  indexEntries,
  memberDigestMismatches,
  parsePassedFlag,
} from '../../../lib/world/gates.ts';
import { renderTemplate, WORLD_CATALOGUE, WORLD_OUTPUT_IDS } from '../../../lib/world/layout.ts';
import { directoryGateSource } from '../../../tools/world/gate-files.ts';
import { makeWorld, type TestWorld } from './world-fixture.ts';

describe('world gates', () => {
  let world: TestWorld;
  beforeAll(async () => {
    world = await makeWorld({ seed: 51n });
  }, 60_000);
  afterAll(async () => {
    await world?.dispose();
  });

  const paths = (gate: GateDefinition) => {
    const tokens = { manifest_fingerprint: world.summary.manifestFingerprint };
    return {
      bundle: renderTemplate(gate.bundle_root_template, tokens),
      index: renderTemplate(gate.index_path_template, tokens),
      flag: renderTemplate(gate.passed_flag_path_template, tokens),
    };
  };
  const readJson = async (path: string): Promise<unknown> =>
    JSON.parse(await readFile(join(world.root, path), 'utf8'));
  /** Expected (from the flag) and actual (recomputed by the law from the files) digests. */
  const digests = async (gate: GateDefinition) => {
    const p = paths(gate);
    const expected = parsePassedFlag(
      await readFile(join(world.root, p.flag), 'utf8'),
      gate.verification_method.digest_field,
    );
    const index = await readJson(p.index);
    const actual = await gateDigestFor(
      gate.verification_method,
      index,
      directoryGateSource(world.root, p.bundle),
    );
    return { expected, actual, index };
  };

  it('writes every gate the traffic outputs require: the 10-gate closure', () => {
    const traffic = ['s3_event_stream_with_fraud_6B', 's2_event_stream_baseline_6B'];
    const required = requiredGateIds(traffic, ['gate.layer3.6B.validation']);
    expect(required.map((g) => g.split('.')[2])).toEqual([
      '1A',
      '1B',
      '2A',
      '2B',
      '3A',
      '3B',
      '5A',
      '5B',
      '6A',
      '6B',
    ]);
    expect(world.summary.gates.map((g) => g.gateId).sort()).toEqual(required);
    const all = requiredGateIds(
      [...WORLD_OUTPUT_IDS],
      WORLD_OUTPUT_IDS.flatMap((o) => WORLD_CATALOGUE[o].read_requires_gates),
    );
    expect(all).toEqual(required);
  });

  it.each(GATE_MAP.map((g) => [g.gate_id, g] as const))(
    '%s: the flag digest equals the law recomputed from the files',
    async (_, gate) => {
      const { expected, actual } = await digests(gate);
      expect(expected).toMatch(/^[0-9a-f]{64}$/);
      expect(actual).toBe(expected);
    },
  );

  it('writes the flag formats of the interface pack', async () => {
    const flagOf = async (segment: string) => {
      const gate = GATE_MAP.find((g) => g.segment === segment);
      if (gate === undefined) throw new Error(segment);
      return readFile(join(world.root, paths(gate).flag), 'utf8');
    };
    expect(await flagOf('6B')).toMatch(/^sha256_hex = [0-9a-f]{64}\n$/);
    expect(await flagOf('6A')).toMatch(/^sha256_hex = [0-9a-f]{64}\n$/);
    expect(JSON.parse(await flagOf('5B'))).toEqual({
      manifest_fingerprint: world.summary.manifestFingerprint,
      bundle_digest_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const index5B = (await readJson(
      paths(GATE_MAP.find((g) => g.segment === '5B') as GateDefinition).index,
    )) as Record<string, unknown>;
    expect(Object.keys(index5B)).toEqual(['entries']);
    const index6A = await readJson(paths(GATE_MAP.find((g) => g.segment === '6A') as GateDefinition).index);
    const order6A = indexEntries(index6A).map((e) => (e as { path: string }).path);
    expect(order6A).not.toEqual([...order6A].sort()); // exercises 6A's index_order
    const index2B = await readJson(paths(GATE_MAP.find((g) => g.segment === '2B') as GateDefinition).index);
    for (const e of indexEntries(index2B))
      expect((e as { path: string }).path.startsWith('data/layer1/2B/')).toBe(true);
  });

  it.each(GATE_MAP.map((g) => [g.gate_id, g] as const))(
    '%s: tampering one bundle file is caught',
    async (_, gate) => {
      const p = paths(gate);
      const before = await digests(gate);
      const entries = indexEntries(before.index) as { path: string }[];
      const base =
        gate.verification_method.path_base === 'run_root' ? world.root : join(world.root, p.bundle);
      const victim = join(base, entries[0]?.path ?? '');
      const original = await readFile(victim);
      await appendFile(victim, ' ');
      try {
        const after = await digests(gate);
        if (gate.verification_method.kind === 'sha256_member_digest_concat') {
          // 3A hashes the declared member digests, so the bytes must be checked against them.
          expect(after.actual).toBe(before.actual);
          expect(
            await memberDigestMismatches(
              after.index,
              'sha256_hex',
              directoryGateSource(world.root, p.bundle),
            ),
          ).toEqual([entries[0]?.path]);
        } else {
          expect(after.actual).not.toBe(before.expected);
        }
      } finally {
        await writeFile(victim, original);
      }
      expect((await digests(gate)).actual).toBe(before.expected);
    },
  );

  it('3A: editing a declared member digest in the index changes the digest', async () => {
    const gate = GATE_MAP.find((g) => g.segment === '3A') as GateDefinition;
    const { index, expected } = await digests(gate);
    const edited = JSON.parse(JSON.stringify(index));
    edited.members[0].sha256_hex = '0'.repeat(64);
    const actual = await gateDigestFor(
      gate.verification_method,
      edited,
      directoryGateSource(world.root, paths(gate).bundle),
    );
    expect(actual).not.toBe(expected);
  });

  it('binds the 5B and 6B gates to the data: their reports hold each output content digest', async () => {
    for (const [segment, report] of [
      ['5B', 'validation_report_5B.json'],
      ['6B', 's5_validation_report_6B.json'],
    ] as const) {
      const gate = GATE_MAP.find((g) => g.segment === segment) as GateDefinition;
      const body = (await readJson(`${paths(gate).bundle}${report}`)) as {
        checks: { metrics: { output_id: string; path: string; content_digest: { hex: string } }[] }[];
      };
      const listed = body.checks[0]?.metrics ?? [];
      expect(listed.length).toBe(segment === '5B' ? 1 : 8);
      for (const o of listed) {
        const dir = join(world.root, o.path);
        const hash = createHash('sha256');
        for (const f of (await readdir(dir)).sort()) hash.update(await readFile(join(dir, f)));
        expect(hash.digest('hex')).toBe(o.content_digest.hex);
      }
    }
  });
});
