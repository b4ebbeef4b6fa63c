import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { type Reference, referencesIn } from '../intrinsics.ts';
import type { Finding, ReadinessInput } from '../model.ts';
import { isCustomType, resourceSpec } from '../spec.ts';

/** Every Fn::GetAtt and `${X.Attr}` names a resource of the template whose type has that attribute. */

function problemOf(reference: Reference, input: ReadinessInput, spec: SpecDatabase): string | undefined {
  const shown = `${reference.via} ${reference.target}.${reference.attribute ?? '?'}`;
  const target = input.template.Resources[reference.target];
  if (!target) return `${shown}: no resource ${reference.target} in the template`;
  if (reference.attribute === undefined) return undefined;
  if (isCustomType(target.Type)) return undefined;
  if (target.Type === 'AWS::CloudFormation::Stack' && reference.attribute.startsWith('Outputs.'))
    return undefined;
  const found = resourceSpec(spec, target.Type);
  if (!found) return undefined; // the properties rule reports the unknown type
  if (reference.attribute in found.attributes) return undefined;
  const names = Object.keys(found.attributes);
  const known = names.length === 0 ? 'none' : names.slice(0, 6).join(', ') + (names.length > 6 ? ', …' : '');
  return `${shown}: ${target.Type} has no attribute ${reference.attribute} (it has: ${known})`;
}

export function getAttRule(input: ReadinessInput, spec: SpecDatabase): Finding[] {
  const places: Array<[string, unknown]> = [
    ...Object.entries(input.template.Resources).map(([id, r]): [string, unknown] => [id, r.Properties]),
    ...Object.entries(input.template.Outputs ?? {}).map(([id, o]): [string, unknown] => [`Outputs.${id}`, o]),
  ];
  const findings: Finding[] = [];
  for (const [id, value] of places) {
    const seen = new Set<string>();
    for (const reference of referencesIn(value)) {
      if (reference.via === 'Ref') continue;
      // A Fn::Sub `${Name}` without an attribute is a Ref, checked by CloudFormation like any other.
      if (reference.via === 'Fn::Sub' && reference.attribute === undefined) continue;
      const problem = problemOf(reference, input, spec);
      if (problem && !seen.has(problem)) {
        seen.add(problem);
        findings.push({ rule: 'getatt', resource: id, message: problem });
      }
    }
  }
  return findings;
}
