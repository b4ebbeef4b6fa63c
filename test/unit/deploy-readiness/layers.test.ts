import { describe, expect, it } from 'vitest';
import { layersRule, layerWarnings, moduleNameOf } from '../../../tools/deploy-readiness/rules/layers.ts';
import { functionFacts, inputOf, layerFacts } from './factories.ts';

const requiring = (requires: string[], overrides: Parameters<typeof functionFacts>[0] = {}) =>
  functionFacts({
    key: 'oracle-sync',
    bundle: { requires, optionalRequires: [], commands: [] },
    ...overrides,
  });

describe('layers rule', () => {
  it('names the package of a specifier, and nothing for builtins or relative paths', () => {
    expect(moduleNameOf('@duckdb/node-api/lib/x.js')).toBe('@duckdb/node-api');
    expect(moduleNameOf('pg/lib/native')).toBe('pg');
    expect(['node:fs', 'fs', 'util/types', './x.cjs'].map(moduleNameOf)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('passes modules from the runtime, the zip, or a layer of the function', () => {
    const fn = requiring(['@aws-sdk/client-s3', 'node:fs', 'events', 'pg', '@duckdb/node-api'], {
      modulesInZip: ['pg'],
      layerIds: ['DuckdbLambdaLayer'],
    });
    expect(layersRule(inputOf({}, { functions: [fn], layers: [layerFacts()] }))).toEqual([]);
  });

  it('reports a module no layer of the function provides', () => {
    const fn = requiring(['@duckdb/node-api'], { logicalId: 'OracleDashsyncLambdaFunction' });
    expect(layersRule(inputOf({}, { functions: [fn], layers: [layerFacts()] }))).toEqual([
      {
        rule: 'layers',
        resource: 'OracleDashsyncLambdaFunction',
        message: 'function oracle-sync requires @duckdb/node-api but has no layer providing it',
      },
    ]);
  });

  it('warns, without a finding, about @smithy/* required directly and optional requires inside try', () => {
    const fn = functionFacts({
      key: 'api',
      bundle: {
        requires: ['@smithy/node-http-handler', 'pg-native'],
        optionalRequires: ['pg-native'],
        commands: [],
      },
    });
    const input = inputOf({}, { functions: [fn] });
    expect(layersRule(input)).toEqual([]);
    expect(layerWarnings(input)).toEqual([
      'warning: @smithy/node-http-handler required directly but only present as a dependency of the runtime SDK: api',
      'warning: pg-native required inside a try block and not packaged (an optional peer): api',
    ]);
  });
});
