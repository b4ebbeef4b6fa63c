// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders, not JS templates
import { describe, expect, it } from 'vitest';
import { cyclesRule, dependencyGraph } from '../../../tools/deploy-readiness/rules/cycles.ts';
import { inputOf } from './factories.ts';

const topic = (properties: Record<string, unknown> = {}, dependsOn?: string | string[]) => ({
  Type: 'AWS::SNS::Topic',
  Properties: properties,
  ...(dependsOn ? { DependsOn: dependsOn } : {}),
});

const messages = (resources: Parameters<typeof inputOf>[0]) =>
  cyclesRule(inputOf(resources)).map((f) => f.message);

describe('cycles rule', () => {
  it('reports a two-resource cycle through Ref and Fn::GetAtt as a path', () => {
    expect(
      messages({
        A: topic({ DisplayName: { Ref: 'B' } }),
        B: topic({ DisplayName: { 'Fn::GetAtt': ['A', 'TopicName'] } }),
      }),
    ).toEqual(['dependency cycle: A -> B -> A']);
  });

  it('follows the "X.Attr" string form of Fn::GetAtt, Fn::Sub strings and DependsOn, deep in Properties', () => {
    expect(
      messages({
        A: topic({ Tags: [{ Key: 'k', Value: { 'Fn::GetAtt': 'B.TopicName' } }] }),
        B: topic({ DisplayName: { 'Fn::Sub': 'x-${C}' } }),
        C: topic({}, ['A']),
      }),
    ).toEqual(['dependency cycle: A -> B -> C -> A']);
  });

  it('follows `${X.Attr}` in a Fn::Sub and the variables of its map (serverless-step-functions definitions)', () => {
    const definition = {
      'Fn::Sub': [
        '{"Resource": "${abc123}", "Next": "${Fn.Arn}"}',
        { abc123: { 'Fn::GetAtt': ['Fn', 'Arn'] } },
      ],
    };
    expect(
      messages({
        Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: definition } },
        Fn: topic({ DisplayName: { Ref: 'Machine' } }),
      }),
    ).toEqual(['dependency cycle: Fn -> Machine -> Fn']);
  });

  it('ignores pseudo parameters, `${!Literal}` escapes and names defined by the Sub itself', () => {
    const graph = dependencyGraph(
      inputOf({
        A: topic({ DisplayName: { 'Fn::Sub': ['${AWS::Region}-${!B}-${B}', { B: 'literal' }] } }),
        B: topic({ DisplayName: { Ref: 'A' } }),
      }).template,
    );
    expect(graph.get('A')).toEqual([]);
    expect(graph.get('B')).toEqual(['A']);
  });

  it('reports each elementary cycle once, and none for a graph without cycles', () => {
    expect(
      messages({
        A: topic({ DisplayName: { Ref: 'B' } }, 'C'),
        B: topic({ DisplayName: { Ref: 'A' } }),
        C: topic({ DisplayName: { Ref: 'A' } }),
      }),
    ).toEqual(['dependency cycle: A -> B -> A', 'dependency cycle: A -> C -> A']);
    expect(
      messages({
        A: topic({ DisplayName: { Ref: 'B' } }),
        B: topic({}, 'C'),
        C: topic({ DisplayName: { Ref: 'Param' } }),
      }),
    ).toEqual([]);
  });
});
