import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareAsciiLex,
  GateFileMissingError,
  type GateFileSource,
  gateDigest,
  indexedPaths,
  parsePassedFlag,
} from '../../../lib/world/gates.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** An in-memory bundle: `bundle` files relative to the bundle root, `root` files relative to the run root. */
function memory(bundle: Record<string, string>, root: Record<string, string> = {}): GateFileSource {
  return {
    listBundleFiles: async () => Object.keys(bundle),
    read: async (path, base) => {
      const text = (base === 'run_root' ? root : bundle)[path];
      return text === undefined ? undefined : Buffer.from(text);
    },
  };
}

const law = { digestField: 'sha256_hex', excludeFilenames: ['_passed.flag'] } as const;

describe('parsePassedFlag', () => {
  it('reads a text flag, a JSON flag, and refuses the rest', () => {
    const hex = 'a'.repeat(64);
    expect(parsePassedFlag(`sha256_hex = ${hex}\n`, 'sha256_hex')).toBe(hex);
    expect(parsePassedFlag(`  sha256_hex=${hex}  `, 'sha256_hex')).toBe(hex);
    expect(
      parsePassedFlag(
        `{"manifest_fingerprint":"x","bundle_digest_sha256":"${hex}"}\n`,
        'bundle_digest_sha256',
      ),
    ).toBe(hex);
    expect(parsePassedFlag(`other = ${hex}`, 'sha256_hex')).toBeUndefined();
    expect(parsePassedFlag(hex, 'sha256_hex')).toBeUndefined();
    expect(parsePassedFlag('{not json', 'sha256_hex')).toBeUndefined();
    expect(parsePassedFlag('', 'sha256_hex')).toBeUndefined();
  });
});

describe('sha256_index_json_ascii_lex_raw_bytes', () => {
  const files = { 'b.json': 'B', 'a.json': 'A', 'sub/c.json': 'C', '_passed.flag': 'F', 'index.json': 'I' };

  it('hashes the listed files in ascii-lex order, dropping excluded names by path or basename', async () => {
    const index = {
      items: [{ path: 'sub/c.json' }, { path: 'b.json' }, { path: 'a.json' }, { path: 'x/_passed.flag' }],
    };
    const digest = await gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
      ...law,
      ordering: 'ascii_lex',
      index,
      source: memory(files),
    });
    expect(digest).toBe(sha('ABC'));
  });

  it('keeps index order for index_order (6A) and reads from the run root for path_base run_root (2B)', async () => {
    const index = { items: [{ path: 'b.json' }, { path: 'a.json' }] };
    expect(
      await gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
        ...law,
        ordering: 'index_order',
        index,
        source: memory(files),
      }),
    ).toBe(sha('BA'));
    const rooted = { items: [{ path: 'data/x/a.json' }] };
    const source = memory({}, { 'data/x/a.json': 'R' });
    expect(
      await gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
        ...law,
        ordering: 'ascii_lex',
        pathBase: 'run_root',
        index: rooted,
        source,
      }),
    ).toBe(sha('R'));
  });

  it('accepts items | members | entries | files or a top-level array', async () => {
    for (const index of [
      { members: [{ path: 'a.json' }] },
      { entries: [{ path: 'a.json' }] },
      { files: [{ path: 'a.json' }] },
      [{ path: 'a.json' }],
      { items: [], files: [{ path: 'a.json' }] },
    ]) {
      expect(
        await gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
          ...law,
          ordering: 'ascii_lex',
          index,
          source: memory(files),
        }),
      ).toBe(sha('A'));
    }
  });

  it('reports listed files that are absent', async () => {
    const index = { entries: [{ path: 'a.json' }, { path: 'gone.json' }] };
    const run = gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
      ...law,
      ordering: 'ascii_lex',
      index,
      source: memory(files),
    });
    await expect(run).rejects.toBeInstanceOf(GateFileMissingError);
    await expect(run).rejects.toMatchObject({ paths: ['gone.json'] });
  });

  it('does not depend on the order of index items under ascii_lex (property)', async () => {
    const names = fc.uniqueArray(fc.stringMatching(/^[a-zA-Z0-9_.-]{1,12}$/), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(names, fc.infiniteStream(fc.nat()), async (list, noise) => {
        const bundle = Object.fromEntries(list.map((n) => [n, `<${n}>`]));
        const shuffled = [...list].sort(() => (noise.next().value % 3) - 1);
        const input = {
          digestField: 'sha256_hex',
          excludeFilenames: [],
          ordering: 'ascii_lex' as const,
          source: memory(bundle),
        };
        const a = await gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
          ...input,
          index: { items: list.map((path) => ({ path })) },
        });
        const b = await gateDigest('sha256_index_json_ascii_lex_raw_bytes', {
          ...input,
          index: { items: shuffled.map((path) => ({ path })) },
        });
        expect(b).toBe(a);
        expect(a).toBe(
          sha(
            [...list]
              .sort(compareAsciiLex)
              .map((n) => `<${n}>`)
              .join(''),
          ),
        );
      }),
    );
  });
});

describe('sha256_member_digest_concat (3A)', () => {
  it('hashes the concatenated member digests in array order', async () => {
    const index = {
      members: [
        { path: 'b', sha256_hex: 'bb' },
        { path: 'a', sha256_hex: 'aa' },
      ],
    };
    const digest = await gateDigest('sha256_member_digest_concat', {
      ...law,
      ordering: 'members_array_order',
      index,
      source: memory({}),
    });
    expect(digest).toBe(sha('bbaa'));
  });
});

describe('sha256_bundle_digest (1A/1B)', () => {
  it('hashes every bundle file but the excluded ones, sorted by relative path', async () => {
    const bundle = { 'index.json': 'I', 'MANIFEST.json': 'M', 'a/z.json': 'Z', '_passed.flag': 'F' };
    const digest = await gateDigest('sha256_bundle_digest', {
      ...law,
      ordering: 'ascii_lex',
      source: memory(bundle),
    });
    expect(digest).toBe(sha('MZI'));
  });
});

describe('indexedPaths', () => {
  it('orders by code point like Python sorted()', () => {
    expect(
      indexedPaths(
        { items: [{ path: 'b' }, { path: 'B' }, { path: 'a/_x' }, { path: 'a.json' }] },
        'ascii_lex',
        [],
      ),
    ).toEqual(['B', 'a.json', 'a/_x', 'b']);
  });
});
