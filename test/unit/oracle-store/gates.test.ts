import { describe, expect, it } from 'vitest';
import {
  bundleMemberKeys,
  indexListedPaths,
  memberDigestConcat,
  parsePassedFlag,
  requiredGateSet,
  verifyGate,
  verifyGates,
} from '../../../lib/oracle-store/gates.ts';
import {
  DEFAULT_CHECK_OUTPUT_IDS,
  ENGINE_GATE_MAP,
  type GateDefinition,
  SR_TRAFFIC_OUTPUT_IDS,
} from '../../../lib/oracle-store/interface-pack.ts';
import { memoryObjectStore } from './memory-object-store.ts';
import {
  bundleRoot,
  flagKey,
  gateFixture,
  gateId,
  MF,
  SEGMENTS,
  type Segment,
  sha,
  shaConcat,
  writeGate,
} from './world-builder.ts';

const TEN_GATES = SEGMENTS.map(gateId).sort();

function gate(segment: Segment): GateDefinition {
  const definition = ENGINE_GATE_MAP.byId.get(gateId(segment));
  if (!definition) throw new Error(`no gate ${segment} in the map`);
  return definition;
}

async function verified(segment: Segment) {
  const store = memoryObjectStore();
  const fixture = gateFixture(segment);
  await writeGate(store, fixture);
  return { store, fixture, result: await verifyGate(store, gate(segment), { manifest_fingerprint: MF }) };
}

describe('required gate set (§1.4)', () => {
  it('the two SR traffic outputs need exactly the ten gates 1A…6B', () => {
    expect(requiredGateSet(SR_TRAFFIC_OUTPUT_IDS)).toEqual(TEN_GATES);
    expect(TEN_GATES).toHaveLength(10);
  });

  it('the checker default outputs (context + traffic) need the same ten', () => {
    expect(requiredGateSet(DEFAULT_CHECK_OUTPUT_IDS)).toEqual(TEN_GATES);
  });

  it('closes over upstream dependencies only: 2B needs 1A, 1B, 2A, 2B', () => {
    expect(requiredGateSet(['s1_site_weights'])).toEqual([
      gateId('1A'),
      gateId('1B'),
      gateId('2A'),
      gateId('2B'),
    ]);
    expect(requiredGateSet(['outlet_catalogue'])).toEqual([gateId('1A')]);
  });

  it('adds read_requires_gates of outputs no gate authorizes, and nothing for unknown outputs', () => {
    expect(requiredGateSet(['no_such_output'])).toEqual([]);
    const fakeCatalogue = {
      outputs: [],
      byId: new Map([
        ['x', { output_id: 'x', partitions: [], primary_key: [], read_requires_gates: [gateId('3A')] }],
      ]),
    };
    expect(requiredGateSet(['x'], { catalogue: fakeCatalogue })).toEqual([
      gateId('1A'),
      gateId('1B'),
      gateId('2A'),
      gateId('3A'),
    ]);
  });
});

describe('passed flag parsing', () => {
  const hex = sha('x');
  it('JSON flag: reads [digest_field]', () => {
    expect(
      parsePassedFlag(`{"bundle_digest_sha256":"${hex}","manifest_fingerprint":"m"}`, 'bundle_digest_sha256'),
    ).toEqual({
      ok: true,
      digest: hex,
    });
  });
  it('text flag: splits once at "=", trims key and value', () => {
    expect(parsePassedFlag(`  sha256_hex = ${hex}\n`, 'sha256_hex')).toEqual({ ok: true, digest: hex });
    expect(parsePassedFlag('sha256_hex=a=b', 'sha256_hex')).toEqual({ ok: true, digest: 'a=b' });
  });
  it('unparseable: wrong key, no "=", empty, JSON without the field, bad JSON', () => {
    expect(parsePassedFlag(`digest = ${hex}`, 'sha256_hex').ok).toBe(false);
    expect(parsePassedFlag(hex, 'sha256_hex').ok).toBe(false);
    expect(parsePassedFlag('  \n', 'sha256_hex').ok).toBe(false);
    expect(parsePassedFlag(`{"sha256_hex":"${hex}"}`, 'bundle_digest_sha256').ok).toBe(false);
    expect(parsePassedFlag('{"sha256_hex":', 'sha256_hex').ok).toBe(false);
  });
});

describe('hash laws: golden digests (Python hashlib, and node:crypto over the order the law names)', () => {
  it('sha256_bundle_digest (1A): every file but the flag, sorted by relative path, index included', async () => {
    const { result, fixture } = await verified('1A');
    const f = fixture.files;
    const independent = shaConcat([
      f['B_upper.txt'] ?? '',
      f['index.json'] ?? '',
      f['report.json'] ?? '',
      f['sub/detail.json'] ?? '',
    ]);
    expect(result.actual).toBe('ebe3d5e53ced07155d2a6c7c907f60354ebee68becf9d8f1a99be29e679b81e2');
    expect(result.actual).toBe(independent);
    expect(result.status).toBe('PASS');
  });

  it('sha256_index_json_ascii_lex_raw_bytes (6B): items sorted, index.json excluded by name, text flag', async () => {
    const { result } = await verified('6B');
    expect(result.actual).toBe('9ea9b683aef1e4cdd4b05071862f7b17ac3bdc36ac0193287a859783c3a3ab8c');
    expect(result.actual).toBe(shaConcat(['PAR1 issues 6B PAR1', 'report 6B']));
    expect(result).toMatchObject({ gate_id: gateId('6B'), status: 'PASS', expected: result.actual });
  });

  it('sha256_index_json_ascii_lex_raw_bytes (5B): entries[], JSON flag with bundle_digest_sha256', async () => {
    const { result } = await verified('5B');
    expect(result.actual).toBe('659401ee7a4cd576d3185586c777b3e4954b7fd6537d0b6ca604147ed49bec4b');
    expect(result.actual).toBe(shaConcat(['{"summary":"5B"}', '{"report":"5B"}']));
    expect(result.status).toBe('PASS');
  });

  it('path_base run_root (2B): index paths resolve against the engine run root', async () => {
    const { result } = await verified('2B');
    expect(result.actual).toBe('8163d5ad34a08b3b4cd8d977ad14a9b4ccdc39e795ec20f60de06934c574180a');
    expect(result.status).toBe('PASS');
  });

  it('ordering index_order (6A): no sort', async () => {
    const { result } = await verified('6A');
    expect(result.actual).toBe('0ffa9b6a229b0add3f2ffd317cd477fb7b1c9a46349308e5038305f24bd6f5e9');
    expect(result.actual).not.toBe(shaConcat(['PAR1 issues 6A PAR1', 'report 6A']));
    expect(result.status).toBe('PASS');
  });

  it('sha256_member_digest_concat (3A): sha256 of the members’ digests joined in array order', async () => {
    const { result } = await verified('3A');
    expect(result.actual).toBe('1dd67831f33b75acbd4f41b370eee39f2a3dd2bc2720bdcc2ed4631607b37dc4');
    expect(result.actual).toBe(sha(sha('member two') + sha('member one')));
    expect(result.status).toBe('PASS');
  });

  it('every one of the ten gates passes on its hand-built bundle', async () => {
    const store = memoryObjectStore();
    for (const segment of SEGMENTS) await writeGate(store, gateFixture(segment));
    const results = await verifyGates(store, TEN_GATES, { manifest_fingerprint: MF });
    expect(results.map((r) => [r.gate_id, r.status])).toEqual(TEN_GATES.map((id) => [id, 'PASS']));
    for (const segment of SEGMENTS) {
      const r = results.find((x) => x.gate_id === gateId(segment));
      expect(r?.actual).toBe(gateFixture(segment).digest);
    }
  });
});

describe('hash laws: pure parts', () => {
  const method = { ordering: 'ascii_lex', exclude_filenames: ['_passed.flag', 'index.json'] };
  it('index items: first non-empty of items|members|entries|files, or a top-level array', () => {
    expect(indexListedPaths({ items: [], files: [{ path: 'b' }, { path: 'a' }] }, method)).toEqual([
      'a',
      'b',
    ]);
    expect(indexListedPaths([{ path: 'd/index.json' }, { path: 'c' }, { nopath: 1 }, 'x'], method)).toEqual([
      'c',
    ]);
    expect(
      indexListedPaths(
        { entries: [{ path: 'é' }, { path: 'z' }, { path: '😀' }, { path: '\uffff' }] },
        method,
      ),
    ).toEqual(['z', 'é', '\uffff', '😀']);
    expect(
      indexListedPaths({ items: [{ path: 'b' }, { path: 'a' }] }, { ...method, ordering: 'index_order' }),
    ).toEqual(['b', 'a']);
  });
  it('member concat skips members without a string digest', () => {
    expect(memberDigestConcat({ members: [{ d: 'ab' }, { d: 3 }, {}, { d: 'cd' }] }, 'd')).toBe(sha('abcd'));
    expect(memberDigestConcat({}, 'd')).toBe(sha(''));
  });
  it('bundle members exclude by basename in subdirectories too', () => {
    expect(bundleMemberKeys(['r/x/_passed.flag', 'r/b', 'r/a/c', 'r/_passed.flag'], 'r/', method)).toEqual([
      'r/a/c',
      'r/b',
    ]);
  });
});

describe('verification failures name the gate', () => {
  it('a tampered bundle file → FAIL with both digests', async () => {
    const store = memoryObjectStore();
    const fixture = gateFixture('6B');
    await writeGate(store, fixture);
    await store.put(`${bundleRoot('6B')}s5_validation_report_6B.json`, 'report 6B, edited');
    const result = await verifyGate(store, gate('6B'), { manifest_fingerprint: MF });
    expect(result.status).toBe('FAIL');
    expect(result.expected).toBe(fixture.digest);
    expect(result.actual).toBe(shaConcat(['PAR1 issues 6B PAR1', 'report 6B, edited']));
    expect(result.detail).toContain(gateId('6B'));
  });

  it('a file added to a 1A bundle changes its digest → FAIL', async () => {
    const store = memoryObjectStore();
    await writeGate(store, gateFixture('1A'));
    await store.put(`${bundleRoot('1A')}zz_extra.json`, '{}');
    expect((await verifyGate(store, gate('1A'), { manifest_fingerprint: MF })).status).toBe('FAIL');
  });

  it('a listed file absent → MISSING naming the key; absent index → MISSING; absent flag → MISSING', async () => {
    const store = memoryObjectStore();
    await writeGate(store, gateFixture('5B'));
    await store.delete(`${bundleRoot('5B')}arrival_summary.json`);
    const listed = await verifyGate(store, gate('5B'), { manifest_fingerprint: MF });
    expect(listed).toMatchObject({ status: 'MISSING', missing: [`${bundleRoot('5B')}arrival_summary.json`] });

    await store.delete(`${bundleRoot('5B')}index.json`);
    const index = await verifyGate(store, gate('5B'), { manifest_fingerprint: MF });
    expect(index).toMatchObject({ status: 'MISSING', missing: [`${bundleRoot('5B')}index.json`] });

    await store.delete(flagKey('5B'));
    const flag = await verifyGate(store, gate('5B'), { manifest_fingerprint: MF });
    expect(flag).toMatchObject({ status: 'MISSING', missing: [flagKey('5B')] });
    expect(flag.detail.startsWith(gateId('5B'))).toBe(true);
  });

  it('2B: a run-root file the index names is absent → MISSING', async () => {
    const store = memoryObjectStore();
    await writeGate(store, gateFixture('2B'));
    await store.delete('data/layer1/2B/s2_alias_blob/alias.bin');
    const result = await verifyGate(store, gate('2B'), { manifest_fingerprint: MF });
    expect(result).toMatchObject({ status: 'MISSING', missing: ['data/layer1/2B/s2_alias_blob/alias.bin'] });
  });

  it('an unparseable flag → CONFLICT', async () => {
    const store = memoryObjectStore();
    await writeGate(store, gateFixture('6B'));
    await store.put(flagKey('6B'), 'PASSED\n');
    expect((await verifyGate(store, gate('6B'), { manifest_fingerprint: MF })).status).toBe('CONFLICT');
  });

  it('a gate id not in the map → MISSING', async () => {
    const [result] = await verifyGates(memoryObjectStore(), ['gate.layer9.9Z.validation'], {
      manifest_fingerprint: MF,
    });
    expect(result).toMatchObject({ gate_id: 'gate.layer9.9Z.validation', status: 'MISSING' });
  });
});
