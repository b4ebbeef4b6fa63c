import { z } from 'zod';

/** The input every rule reads: a packaged template plus what was found in its zips. */

export const RULE_NAMES = [
  'template',
  'artifacts',
  'cycles',
  'properties',
  'getatt',
  'names',
  'size',
  'layers',
  'iam',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface Finding {
  rule: RuleName;
  /** Logical id of the resource the finding is about. */
  resource: string;
  message: string;
}

const CfnResource = z.looseObject({
  Type: z.string(),
  Properties: z.record(z.string(), z.unknown()).optional(),
  DependsOn: z.union([z.string(), z.array(z.string())]).optional(),
});
export type CfnResource = z.infer<typeof CfnResource>;

export const CfnTemplate = z.looseObject({
  Resources: z.record(z.string(), CfnResource),
  Outputs: z.record(z.string(), z.unknown()).optional(),
});
export type CfnTemplate = z.infer<typeof CfnTemplate>;

/** An AWS SDK v3 call the bundle can make: the client package and the command class (or `Upload`). */
export interface SdkCommand {
  client: string;
  command: string;
}

export interface BundleAnalysis {
  /** Literal `require("…")` specifiers, deduplicated, in order of first appearance. */
  requires: string[];
  /** Specifiers required as the first statement of a `try` block (optional peers such as pg-native). */
  optionalRequires: string[];
  commands: SdkCommand[];
}

export interface FunctionFacts {
  logicalId: string;
  /** The serverless.yml function key (e.g. `ingestion-gate-api`), else the FunctionName, else the logical id. */
  key: string;
  /** Basename of `Code.S3Key`; undefined for inline code. */
  artifact: string | undefined;
  artifactFound: boolean;
  /** Path of the handler's bundle inside the artifact, when found. */
  handlerFile: string | undefined;
  /** The handler as the template names it, for messages. */
  handler: string;
  zippedBytes: number;
  unzippedBytes: number;
  /** Top-level module names present under `node_modules/` in the artifact. */
  modulesInZip: string[];
  /** Layer logical ids (from `Layers: [{Ref}]`) and literal layer ARNs. */
  layerIds: string[];
  layerArns: string[];
  bundle: BundleAnalysis | undefined;
}

export interface LayerFacts {
  logicalId: string;
  artifact: string | undefined;
  artifactFound: boolean;
  unzippedBytes: number;
  /** Modules under `nodejs/node_modules/` or `nodejs/node22/node_modules/`. */
  modules: string[];
}

export interface Limits {
  /** Goal for one function's zip (the deployment package as uploaded). */
  zipGoalBytes: number;
  /** Lambda's hard limit: function plus its layers, unzipped. */
  unzippedLimitBytes: number;
}

export const DEFAULT_LIMITS: Limits = { zipGoalBytes: 1_572_864, unzippedLimitBytes: 262_144_000 };

/** Values for pseudo parameters when a rule needs a name or ARN as text. */
export interface PseudoParameters {
  region: string;
  accountId: string;
  stackName: string;
}

export interface ReadinessInput {
  template: CfnTemplate;
  functions: FunctionFacts[];
  layers: LayerFacts[];
  stage: string;
  limits: Limits;
  pseudo: PseudoParameters;
}

export function defaultPseudo(stage: string, service = 'service'): PseudoParameters {
  return { region: 'us-east-1', accountId: '123456789012', stackName: `${service}-${stage}` };
}
