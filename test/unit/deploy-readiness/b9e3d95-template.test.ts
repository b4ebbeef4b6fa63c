import fs from 'node:fs';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CfnTemplate,
  DEFAULT_LIMITS,
  defaultPseudo,
  type ReadinessInput,
} from '../../../tools/deploy-readiness/model.ts';
import { cyclesRule } from '../../../tools/deploy-readiness/rules/cycles.ts';
import { getAttRule } from '../../../tools/deploy-readiness/rules/getatt.ts';
import { propertiesRule } from '../../../tools/deploy-readiness/rules/properties.ts';
import { loadResourceSpec } from '../../../tools/deploy-readiness/spec.ts';

/** The dev template packaged at b9e3d95: valid CloudFormation apart from the StreamRun cycle. */
const template = CfnTemplate.parse(
  JSON.parse(fs.readFileSync('test/fixtures/deploy-readiness/b9e3d95-dev-template.json', 'utf8')),
);
const input: ReadinessInput = {
  template,
  functions: [],
  layers: [],
  stage: 'dev',
  limits: DEFAULT_LIMITS,
  pseudo: defaultPseudo('dev', 'fraud-platform'),
};

let spec: SpecDatabase;
beforeAll(async () => {
  spec = await loadResourceSpec();
});

describe('the b9e3d95 dev template', () => {
  it('has the StreamRunStateMachine <-> world-streamer function cycle, and no other', () => {
    const messages = cyclesRule(input).map((f) => f.message);
    expect(messages).toContain(
      'dependency cycle: StreamRunStateMachine -> WorldDashstreamerDashstreamDashfinishLambdaFunction -> StreamRunStateMachine',
    );
    for (const message of messages) {
      expect(message).toMatch(/^dependency cycle: StreamRunStateMachine -> .* -> StreamRunStateMachine$/);
      expect(message).toMatch(/WorldDashstreamerDashstream(Dashprepare|Dashchunk|Dashfinish)LambdaFunction/);
    }
    expect(messages).toHaveLength(6);
  });

  it('is valid against the resource specification: no property or attribute findings', () => {
    expect(propertiesRule(input, spec)).toEqual([]);
    expect(getAttRule(input, spec)).toEqual([]);
  });
});
