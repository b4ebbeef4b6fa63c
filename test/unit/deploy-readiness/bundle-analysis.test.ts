import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { analyzeBundle } from '../../../tools/deploy-readiness/bundle-analysis.ts';

/** Real esbuild output, as serverless-esbuild writes it: cjs for node22, SDK clients external or bundled. */
async function bundle(source: string, options: { minify: boolean; externalSdk: boolean }): Promise<string> {
  const result = await build({
    stdin: {
      contents: source,
      resolveDir: process.cwd(),
      loader: 'ts',
      sourcefile: 'lib/adapters/handler.ts',
    },
    bundle: true,
    write: false,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: options.minify,
    keepNames: options.minify,
    external: options.externalSdk ? ['@aws-sdk/client-*', '@duckdb/*'] : ['@duckdb/*'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

const HANDLER = `
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DuckDBInstance } from '@duckdb/node-api';
const kinesis = new KinesisClient({});
export const handler = async () => {
  await DuckDBInstance.create(':memory:');
  let native;
  try { native = require('pg-native'); } catch { native = undefined; }
  return kinesis.send(new PutRecordsCommand({ StreamName: 's', Records: [] }));
};
`;

const names = (commands: Array<{ client: string; command: string }>) =>
  commands.map((c) => `${c.client} ${c.command}`);

describe('bundle analysis', { timeout: 30_000 }, () => {
  it('per-function layout (minified, SDK clients external): requires and the command sent', async () => {
    const analysis = analyzeBundle(await bundle(HANDLER, { minify: true, externalSdk: true }));
    expect(analysis.requires).toEqual(
      expect.arrayContaining(['@aws-sdk/client-kinesis', '@duckdb/node-api', 'pg-native']),
    );
    expect(analysis.optionalRequires).toEqual(['pg-native']);
    expect(names(analysis.commands)).toEqual(['@aws-sdk/client-kinesis PutRecordsCommand']);
  });

  it("shared layout (SDK bundled, not minified): the command sent, not the SDK's own (waiters' DescribeStream)", async () => {
    const text = await bundle(HANDLER, { minify: false, externalSdk: false });
    expect(text).toMatch(/new DescribeStreamCommand\(/);
    const analysis = analyzeBundle(text);
    expect(analysis.requires).not.toContain('@aws-sdk/client-kinesis');
    expect(names(analysis.commands)).toEqual(['@aws-sdk/client-kinesis PutRecordsCommand']);
  });

  it("reads lib-storage's Upload and paginators, minified or not", async () => {
    const source = `
      import { S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
      import { Upload } from '@aws-sdk/lib-storage';
      export const handler = async () => {
        const client = new S3Client({});
        for await (const page of paginateListObjectsV2({ client }, { Bucket: 'b' })) void page;
        await new Upload({ client, params: { Bucket: 'b', Key: 'k', Body: 'x' } }).done();
      };
    `;
    for (const minify of [true, false]) {
      const analysis = analyzeBundle(await bundle(source, { minify, externalSdk: true }));
      expect(names(analysis.commands).sort()).toEqual([
        '@aws-sdk/client-s3 ListObjectsV2Command',
        '@aws-sdk/lib-storage Upload',
      ]);
    }
  });

  it('finds nothing in a bundle that sends nothing', () => {
    expect(analyzeBundle('"use strict";\nvar x = require("node:fs");\nmodule.exports = {};\n')).toEqual({
      requires: ['node:fs'],
      optionalRequires: [],
      commands: [],
    });
  });
});
