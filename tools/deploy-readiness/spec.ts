import { createRequire } from 'node:module';
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';
import { z } from 'zod';

/** The CloudFormation resource specification (`@aws-cdk/aws-service-spec`), loaded once per process. */

const PackageJson = z.object({ name: z.string(), version: z.string() });

/** `@aws-cdk/aws-service-spec 0.1.216`: which specification the findings were made against. */
export function specPackage(): string {
  const json = PackageJson.parse(createRequire(import.meta.url)('@aws-cdk/aws-service-spec/package.json'));
  return `${json.name} ${json.version}`;
}

let loading: Promise<SpecDatabase> | undefined;

export function loadResourceSpec(): Promise<SpecDatabase> {
  loading ??= loadAwsServiceSpec();
  return loading;
}

export function resourceSpec(spec: SpecDatabase, type: string): Resource | undefined {
  return spec.lookup('resource', 'cloudFormationType', 'equals', type)[0];
}

export function typeDefinition(spec: SpecDatabase, type: PropertyType): TypeDefinition | undefined {
  return type.type === 'ref' ? spec.get('typeDefinition', type.reference.$ref) : undefined;
}

/** Types without a specification of their own: any property and any attribute is theirs to define. */
export function isCustomType(type: string): boolean {
  return type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';
}
