import fs from 'node:fs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/cli.ts';

describe('npm run package', () => {
  it.each(['local', 'localstack', 'prod'])(
    'packages stage %s offline with every state machine valid ASL',
    async (stage) => {
      const r = await runScript('local/package-service.ts', ['--stage', stage]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/AWS::Lambda::Function: \d+/);
      expect(r.stdout).toMatch(/AWS::Kinesis::Stream: 10/);
      expect(r.stdout).toMatch(/ASL \w+: valid/);
      expect(r.stdout).toMatch(/layer DuckdbLambdaLayer: .*oracle-stream-sort-window/);
    },
    // Packaging bundles 22 functions (about 20 s here): room for a machine a few times slower.
    300_000,
  );

  it('zips each function alone: minified, no source maps, SDK clients external, DuckDB only where it sorts', async () => {
    const r = await runScript('local/package-service.ts', ['--stage', 'dev']);
    expect(r.code).toBe(0);
    const layer = await JSZip.loadAsync(fs.readFileSync('.package/dev/duckdb.zip'));
    const names = Object.keys(layer.files);
    expect(names).toContain('nodejs/node_modules/@duckdb/node-api/package.json');
    expect(names.some((n) => n.startsWith('nodejs/node_modules/@duckdb/node-bindings-linux-x64/'))).toBe(
      true,
    );
    const bundleOf = async (zip: string) => {
      const z = await JSZip.loadAsync(fs.readFileSync(`.package/dev/${zip}.zip`));
      const files = Object.keys(z.files).filter((n) => !n.endsWith('/'));
      expect(files.filter((n) => n.endsWith('.map') || n.includes('node_modules/'))).toEqual([]);
      expect(files).toHaveLength(1);
      return (await z.file(files[0] ?? '')?.async('string')) ?? '';
    };
    const sorter = await bundleOf('oracle-stream-sort-window');
    expect(sorter).toMatch(/require\("@duckdb\/node-api"\)/);
    expect(sorter).toMatch(/require\("@aws-sdk\/client-s3"\)/);
    for (const fn of ['oracle-sync', 'oracle-seal', 'oracle-check', 'ingestion-gate-api']) {
      const bundle = await bundleOf(fn);
      expect(bundle, fn).not.toMatch(/@duckdb\/node-api/);
      expect(bundle, fn).not.toMatch(/sourceMappingURL/);
    }
  }, 300_000);

  it('refuses an unknown stage with one line (exit 2)', async () => {
    const r = await runScript('local/package-service.ts', ['--stage', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('package: unknown stage "staging"; stages: local, localstack, dev, prod');
  });
});
