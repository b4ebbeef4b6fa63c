import type { Property, PropertyType, SpecDatabase } from '@aws-cdk/service-spec-types';
import { isIntrinsic, isObject } from '../intrinsics.ts';
import type { Finding, ReadinessInput } from '../model.ts';
import { isCustomType, resourceSpec, typeDefinition } from '../spec.ts';

/**
 * Properties against the CloudFormation resource specification: unknown types and property names (nested too),
 * missing required properties, and literals of the wrong primitive type. Intrinsic functions are not evaluated;
 * like CloudFormation, numbers and booleans are accepted as strings and numeric or boolean strings as such.
 */

type Properties = Record<string, Property>;

/** A property's current type and the ones it had before (CloudFormation still accepts those). */
function typesOf(property: Property): PropertyType[] {
  return [property.type, ...(property.previousTypes ?? [])];
}

function describe(type: PropertyType): string {
  if (type.type === 'array') return `array of ${describe(type.element)}`;
  if (type.type === 'map') return `map of ${describe(type.element)}`;
  if (type.type === 'union') return type.types.map(describe).join(' | ');
  return type.type === 'ref' ? 'object' : type.type;
}

function primitiveProblem(type: PropertyType, value: unknown): string | undefined {
  const literal = typeof value;
  const scalar = literal === 'string' || literal === 'number' || literal === 'boolean';
  switch (type.type) {
    case 'string':
    case 'date-time':
      return scalar ? undefined : 'expected a string';
    case 'number':
    case 'integer': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n))
        return `expected ${type.type === 'integer' ? 'an' : 'a'} ${type.type}`;
      return type.type === 'integer' && !Number.isInteger(n) ? 'expected an integer' : undefined;
    }
    case 'boolean':
      return literal === 'boolean' || (typeof value === 'string' && /^(true|false)$/i.test(value))
        ? undefined
        : 'expected a boolean';
    default:
      return undefined;
  }
}

/** Problems of value against type, each as `path: problem`. */
function valueProblems(spec: SpecDatabase, type: PropertyType, value: unknown, path: string): string[] {
  if (isIntrinsic(value)) return [];
  switch (type.type) {
    case 'json':
    case 'null':
      return [];
    case 'tag':
      return isObject(value) ? objectProblems(spec, TAG, value, path) : [`${path}: expected a tag object`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array`];
      return value.flatMap((item, i) => valueProblems(spec, type.element, item, `${path}[${i}]`));
    case 'map':
      if (!isObject(value)) return [`${path}: expected a map`];
      return Object.entries(value).flatMap(([k, v]) => valueProblems(spec, type.element, v, `${path}.${k}`));
    case 'union':
      return unionProblems(spec, type.types, value, path);
    case 'ref': {
      const definition = typeDefinition(spec, type);
      if (!definition) return [];
      if (!isObject(value)) return [`${path}: expected an object (${definition.name})`];
      return objectProblems(spec, definition.properties, value, path);
    }
    default: {
      const problem = primitiveProblem(type, value);
      return problem ? [`${path}: ${problem}, got ${shown(value)}`] : [];
    }
  }
}

/** Fits one of the types: no problems; else the problems of the closest one (or a summary when all differ). */
function unionProblems(spec: SpecDatabase, types: PropertyType[], value: unknown, path: string): string[] {
  const candidates = types.map((t) => valueProblems(spec, t, value, path));
  if (candidates.some((p) => p.length === 0)) return [];
  if (candidates.length === 1) return candidates[0] ?? [];
  const nested = candidates.filter((p) => p.every((line) => !line.startsWith(`${path}: expected`)));
  const best = nested.sort((a, b) => a.length - b.length)[0];
  return best ?? [`${path}: expected ${types.map(describe).join(' | ')}, got ${shown(value)}`];
}

function shown(value: unknown): string {
  return (JSON.stringify(value) ?? String(value)).slice(0, 60);
}

const TAG: Properties = {
  Key: { type: { type: 'string' }, required: true },
  Value: { type: { type: 'string' }, required: true },
};

function objectProblems(
  spec: SpecDatabase,
  properties: Properties,
  value: Record<string, unknown>,
  path: string,
): string[] {
  const at = (name: string) => (path ? `${path}.${name}` : name);
  const problems: string[] = [];
  for (const [name, inner] of Object.entries(value)) {
    const property = properties[name];
    if (!property) problems.push(`${at(name)}: unknown property`);
    else problems.push(...unionProblems(spec, typesOf(property), inner, at(name)));
  }
  for (const [name, property] of Object.entries(properties))
    if (property.required && !(name in value)) problems.push(`${at(name)}: required property missing`);
  return problems;
}

export function propertiesRule(input: ReadinessInput, spec: SpecDatabase): Finding[] {
  const findings: Finding[] = [];
  for (const [id, resource] of Object.entries(input.template.Resources)) {
    if (isCustomType(resource.Type)) continue;
    const found = resourceSpec(spec, resource.Type);
    if (!found) {
      findings.push({ rule: 'properties', resource: id, message: `unknown resource type ${resource.Type}` });
      continue;
    }
    for (const problem of objectProblems(spec, found.properties, resource.Properties ?? {}, ''))
      findings.push({ rule: 'properties', resource: id, message: `${resource.Type} ${problem}` });
  }
  return findings;
}
