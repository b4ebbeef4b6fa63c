import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import { lambdaFunction, roleWith } from './factories.ts';

/**
 * A small `sls package` output: three functions (the IG API sending PutRecords under a role that grants only
 * PutRecord; oracle sync requiring DuckDB without a layer; stream chunk with the DuckDB layer), per-function
 * zips or one shared zip, and the layer's zip.
 */

const BUNDLES: Record<string, string> = {
  'functions/ingestion-gate/api.cjs':
    '"use strict";var a=require("@aws-sdk/client-kinesis");exports.handler=async()=>new a.PutRecordsCommand({});',
  'functions/oracle-store/sync.cjs':
    '"use strict";var d=require("@duckdb/node-api");exports.handler=async()=>d;',
  'functions/world-streamer/stream-chunk.cjs':
    '"use strict";var d=require("@duckdb/node-api"),p=require("pg");exports.handler=async()=>[d,p];',
};

const FUNCTIONS = [
  { key: 'ingestion-gate-api', id: 'IngestionDashgateDashapi', handler: 'functions/ingestion-gate/api' },
  { key: 'oracle-sync', id: 'OracleDashsync', handler: 'functions/oracle-store/sync' },
  {
    key: 'world-streamer-stream-chunk',
    id: 'WorldDashstreamerDashstreamDashchunk',
    handler: 'functions/world-streamer/stream-chunk',
  },
];

async function writeZip(file: string, entries: Record<string, string>): Promise<void> {
  const zip = new JSZip();
  for (const [name, text] of Object.entries(entries)) zip.file(name, text);
  await fs.writeFile(file, await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' }));
}

export async function writePackage(layout: 'per-function' | 'shared'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deploy-readiness-'));
  const resources: Record<string, unknown> = {
    DuckdbLambdaLayer: {
      Type: 'AWS::Lambda::LayerVersion',
      Properties: {
        Content: { S3Bucket: 'b', S3Key: 'serverless/svc/dev/1/duckdb.zip' },
        LayerName: 'svc-dev-duckdb',
      },
    },
  };
  for (const f of FUNCTIONS) {
    const zip = layout === 'shared' ? 'svc.zip' : `${f.key}.zip`;
    resources[`${f.id}LambdaFunction`] = lambdaFunction(
      {
        FunctionName: `svc-dev-${f.key}`,
        Handler: `${f.handler}.handler`,
        Code: { S3Bucket: 'b', S3Key: `serverless/svc/dev/1/${zip}` },
        ...(f.key === 'world-streamer-stream-chunk' ? { Layers: [{ Ref: 'DuckdbLambdaLayer' }] } : {}),
      },
      `${f.id}IamRoleLambdaExecution`,
    );
    resources[`${f.id}IamRoleLambdaExecution`] = roleWith([
      { Effect: 'Allow', Action: ['kinesis:PutRecord'], Resource: '*' },
    ]);
    const file = `${f.handler}.cjs`;
    if (layout === 'per-function')
      await writeZip(path.join(dir, zip), {
        [file]: BUNDLES[file] ?? '',
        ...(f.key === 'world-streamer-stream-chunk' ? { 'node_modules/pg/package.json': '{}' } : {}),
      });
  }
  if (layout === 'shared')
    await writeZip(path.join(dir, 'svc.zip'), { ...BUNDLES, 'node_modules/pg/package.json': '{}' });
  await writeZip(path.join(dir, 'duckdb.zip'), { 'nodejs/node_modules/@duckdb/node-api/package.json': '{}' });
  const template = { AWSTemplateFormatVersion: '2010-09-09', Resources: resources };
  await fs.writeFile(path.join(dir, 'cloudformation-template-update-stack.json'), JSON.stringify(template));
  const functions = Object.fromEntries(FUNCTIONS.map((f) => [f.key, { name: `svc-dev-${f.key}` }]));
  const state = { service: { service: 'svc', provider: { region: 'eu-west-2' }, functions } };
  await fs.writeFile(path.join(dir, 'serverless-state.json'), JSON.stringify(state));
  return dir;
}
