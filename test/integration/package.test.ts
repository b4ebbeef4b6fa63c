import fs from 'node:fs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/cli.ts';

describe('npm run package', () => {
  it.each(['local', 'prod'])(
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
  );

  it('ships DuckDB for Lambda only in the layer, and the functions keep it external', async () => {
    const r = await runScript('local/package-service.ts', ['--stage', 'dev']);
    expect(r.code).toBe(0);
    const layer = await JSZip.loadAsync(fs.readFileSync('.package/dev/duckdb.zip'));
    const names = Object.keys(layer.files);
    expect(names).toContain('nodejs/node_modules/@duckdb/node-api/package.json');
    expect(names.some((n) => n.startsWith('nodejs/node_modules/@duckdb/node-bindings-linux-x64/'))).toBe(
      true,
    );
    const service = await JSZip.loadAsync(fs.readFileSync('.package/dev/fraud-platform.zip'));
    const files = Object.keys(service.files);
    expect(files.some((n) => n.includes('@duckdb'))).toBe(false);
    const bundle = await service
      .file(files.find((n) => n.endsWith('stream-sort-window.cjs')) ?? '')
      ?.async('string');
    expect(bundle).toMatch(/require\("@duckdb\/node-api"\)/);
  });

  it('refuses an unknown stage with one line (exit 2)', async () => {
    const r = await runScript('local/package-service.ts', ['--stage', 'staging']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('package: unknown stage "staging"; stages: local, dev, prod');
  });
});
