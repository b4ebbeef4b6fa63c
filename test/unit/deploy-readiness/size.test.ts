import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../tools/deploy-readiness/model.ts';
import { sizeRule } from '../../../tools/deploy-readiness/rules/size.ts';
import { functionFacts, inputOf, layerFacts } from './factories.ts';

describe('size rule', () => {
  it('passes a small zip whose function and layers fit unzipped', () => {
    const input = inputOf(
      {},
      { functions: [functionFacts({ layerIds: ['DuckdbLambdaLayer'] })], layers: [layerFacts()] },
    );
    expect(sizeRule(input)).toEqual([]);
  });

  it('reports a zip over the goal (1.5 MB by default, or as given)', () => {
    const big = functionFacts({ zippedBytes: 36_169_722 });
    expect(sizeRule(inputOf({}, { functions: [big] })).map((f) => f.message)).toEqual([
      'api: api.zip is 36169722 bytes zipped, over the goal of 1572864',
    ]);
    const limits = { ...DEFAULT_LIMITS, zipGoalBytes: 100_000_000 };
    expect(sizeRule(inputOf({}, { functions: [big], limits }))).toEqual([]);
  });

  it('reports a function over 250 MB unzipped once its layers are added', () => {
    const input = inputOf(
      {},
      {
        functions: [functionFacts({ unzippedBytes: 190_000_000, layerIds: ['DuckdbLambdaLayer'] })],
        layers: [layerFacts({ unzippedBytes: 72_144_001 })],
      },
    );
    expect(sizeRule(input).map((f) => f.message)).toEqual([
      "api: 262144001 bytes unzipped with its layers, over Lambda's limit of 262144000",
    ]);
  });
});
