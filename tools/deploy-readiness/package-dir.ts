import fs from 'node:fs/promises';
import path from 'node:path';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { z } from 'zod';
import { checkTemplate, type DeclaredService, declaredOf } from '../../local/template-check.ts';
import { analyzeBundle } from './bundle-analysis.ts';
import { isObject, resolveText } from './intrinsics.ts';
import {
  type BundleAnalysis,
  CfnTemplate,
  DEFAULT_LIMITS,
  type Finding,
  type FunctionFacts,
  type LayerFacts,
  type ReadinessInput,
} from './model.ts';
import { modulesUnder, readZip, type ZipContents } from './package-zip.ts';
import { reportLines } from './report.ts';
import { artifactsRule } from './rules/artifacts.ts';
import { cyclesRule } from './rules/cycles.ts';
import { getAttRule } from './rules/getatt.ts';
import { iamRule, iamWarnings } from './rules/iam.ts';
import { layersRule, layerWarnings } from './rules/layers.ts';
import { namesRule } from './rules/names.ts';
import { propertiesRule } from './rules/properties.ts';
import { sizeRule } from './rules/size.ts';
import { loadResourceSpec, specPackage } from './spec.ts';

/** Reads `sls package` output (`.package/<stage>/`) into the rules' input and runs every rule over it. */

export interface CheckOptions {
  stage: string;
  /** Goal for one function's zip; default 1.5 MB. */
  zipGoalBytes?: number;
}

export interface CheckResult {
  findings: Finding[];
  lines: string[];
}

const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';
const STATE_FILE = 'serverless-state.json';
const HANDLER_EXTENSIONS = ['.cjs', '.js', '.mjs'];
const LAYER_MODULE_DIRS = ['nodejs/node_modules/', 'nodejs/node22/node_modules/'];

const ServerlessState = z.looseObject({
  service: z
    .looseObject({
      service: z.string().optional(),
      provider: z.looseObject({ region: z.string().optional() }).optional(),
      functions: z.record(z.string(), z.looseObject({ name: z.string().optional() })).optional(),
    })
    .optional(),
});

async function readJson(file: string): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : JSON.parse(text);
}

function artifactName(code: unknown, resolve: (v: unknown) => string | undefined): string | undefined {
  const key = isObject(code) ? resolve(code.S3Key) : undefined;
  return key === undefined ? undefined : path.posix.basename(key);
}

/** Zips and bundle analyses, each read once however many functions share them. */
class PackageReader {
  private readonly zips = new Map<string, Promise<ZipContents | undefined>>();
  private readonly bundles = new Map<string, Promise<BundleAnalysis | undefined>>();
  constructor(private readonly dir: string) {}

  zip(name: string): Promise<ZipContents | undefined> {
    let pending = this.zips.get(name);
    if (!pending) {
      pending = readZip(path.join(this.dir, name));
      this.zips.set(name, pending);
    }
    return pending;
  }

  bundle(zipName: string, zip: ZipContents, file: string): Promise<BundleAnalysis | undefined> {
    const key = `${zipName}:${file}`;
    let pending = this.bundles.get(key);
    if (!pending) {
      pending = zip.readText(file).then((text) => (text === undefined ? undefined : analyzeBundle(text)));
      this.bundles.set(key, pending);
    }
    return pending;
  }
}

export interface PackageModel {
  input: ReadinessInput;
  declared: DeclaredService | undefined;
}

export async function readPackageDir(dir: string, options: CheckOptions): Promise<PackageModel> {
  const templateJson = await readJson(path.join(dir, TEMPLATE_FILE));
  if (templateJson === undefined)
    throw new Error(`${dir} holds no ${TEMPLATE_FILE} (run npm run package first)`);
  const template = CfnTemplate.parse(templateJson);
  const stateJson = await readJson(path.join(dir, STATE_FILE));
  const state = ServerlessState.parse(stateJson ?? {});
  const service = state.service?.service ?? 'service';
  const pseudo = {
    region: state.service?.provider?.region ?? 'us-east-1',
    accountId: '123456789012',
    stackName: `${service}-${options.stage}`,
  };
  const context = { pseudo, resources: template.Resources };
  const resolve = (v: unknown) => resolveText(v, context);
  const keyByName = new Map(
    Object.entries(state.service?.functions ?? {}).map(([key, f]) => [f.name ?? key, key] as const),
  );
  const reader = new PackageReader(dir);
  const resources = Object.entries(template.Resources);

  const layers = await Promise.all(
    resources
      .filter(([, r]) => r.Type === 'AWS::Lambda::LayerVersion')
      .map(async ([logicalId, r]): Promise<LayerFacts> => {
        const artifact = artifactName(r.Properties?.Content, resolve);
        const zip = artifact ? await reader.zip(artifact) : undefined;
        return {
          logicalId,
          artifact,
          artifactFound: zip !== undefined,
          unzippedBytes: zip?.unzippedBytes ?? 0,
          modules: zip ? modulesUnder(zip.names, LAYER_MODULE_DIRS) : [],
        };
      }),
  );

  const functions = await Promise.all(
    resources
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(async ([logicalId, r]): Promise<FunctionFacts> => {
        const properties = r.Properties ?? {};
        const name = resolve(properties.FunctionName);
        const handler = typeof properties.Handler === 'string' ? properties.Handler : '';
        const artifact = artifactName(properties.Code, resolve);
        const zip = artifact ? await reader.zip(artifact) : undefined;
        const base = handler.slice(0, Math.max(0, handler.lastIndexOf('.')));
        const handlerFile = HANDLER_EXTENSIONS.map((e) => base + e).find((f) => zip?.names.includes(f));
        const layerRefs = Array.isArray(properties.Layers) ? properties.Layers : [];
        const layerIds = layerRefs.flatMap((l) => (isObject(l) && typeof l.Ref === 'string' ? [l.Ref] : []));
        return {
          logicalId,
          key: (name !== undefined ? keyByName.get(name) : undefined) ?? name ?? logicalId,
          artifact,
          artifactFound: zip !== undefined,
          handler,
          handlerFile,
          zippedBytes: zip?.zippedBytes ?? 0,
          unzippedBytes: zip?.unzippedBytes ?? 0,
          modulesInZip: zip ? modulesUnder(zip.names, ['node_modules/']) : [],
          layerIds: layerIds.filter((id) => id in template.Resources),
          layerArns: layerRefs.filter((l): l is string => typeof l === 'string'),
          bundle:
            zip && artifact && handlerFile ? await reader.bundle(artifact, zip, handlerFile) : undefined,
        };
      }),
  );

  const limits = {
    ...DEFAULT_LIMITS,
    ...(options.zipGoalBytes ? { zipGoalBytes: options.zipGoalBytes } : {}),
  };
  const input = { template, functions, layers, stage: options.stage, limits, pseudo };
  return { input, declared: stateJson === undefined ? undefined : declaredOf(stateJson) };
}

/** Every rule over one model; `local/template-check.ts`'s problems count as findings of rule `template`. */
export function runRules(model: PackageModel, spec: SpecDatabase): CheckResult {
  const { input, declared } = model;
  const templateReport = checkTemplate(input.template, declared);
  const findings: Finding[] = [
    ...templateReport.problems.map(
      (message): Finding => ({ rule: 'template', resource: 'template', message }),
    ),
    ...artifactsRule(input),
    ...cyclesRule(input),
    ...propertiesRule(input, spec),
    ...getAttRule(input, spec),
    ...namesRule(input),
    ...sizeRule(input),
    ...layersRule(input),
    ...iamRule(input),
  ];
  const warnings = [...layerWarnings(input), ...iamWarnings(input)];
  const lines = [
    ...reportLines(input, templateReport.lines, warnings),
    '',
    `resource specification: ${specPackage()}`,
  ];
  return { findings, lines };
}

export async function checkPackageDir(dir: string, options: CheckOptions): Promise<CheckResult> {
  const [model, spec] = await Promise.all([readPackageDir(dir, options), loadResourceSpec()]);
  return runRules(model, spec);
}
