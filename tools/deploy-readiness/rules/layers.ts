import { isBuiltin } from 'node:module';
import type { Finding, FunctionFacts, ReadinessInput } from '../model.ts';

/**
 * Every module a bundle requires is in its zip, provided by the nodejs22.x runtime (`@aws-sdk/*`), or in one of
 * its layers (`nodejs/node_modules/<module>` or `nodejs/node22/node_modules/<module>`).
 */

export type Provider =
  | 'zip'
  | 'runtime'
  | 'layer'
  | 'runtime-transitive'
  | 'optional'
  | 'external-layer'
  | 'missing';

export interface ModuleNeed {
  fn: FunctionFacts;
  module: string;
  provider: Provider;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; undefined for builtins and relative paths. */
export function moduleNameOf(specifier: string): string | undefined {
  if (isBuiltin(specifier) || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function providerOf(fn: FunctionFacts, module: string, optional: boolean, input: ReadinessInput): Provider {
  if (fn.modulesInZip.includes(module)) return 'zip';
  if (module.startsWith('@aws-sdk/')) return 'runtime';
  const layers = input.layers.filter((l) => fn.layerIds.includes(l.logicalId));
  if (layers.some((l) => l.modules.includes(module))) return 'layer';
  // The runtime's SDK carries these, but as its own dependencies: their versions are not ours to pick.
  if (/^@(smithy|aws-crypto)\//.test(module)) return 'runtime-transitive';
  if (optional) return 'optional';
  return fn.layerArns.length > 0 ? 'external-layer' : 'missing';
}

export function moduleNeeds(input: ReadinessInput): ModuleNeed[] {
  const needs: ModuleNeed[] = [];
  for (const fn of input.functions) {
    if (!fn.bundle) continue;
    const optional = new Set(fn.bundle.optionalRequires.map(moduleNameOf));
    const modules = new Set(fn.bundle.requires.map(moduleNameOf).filter((m) => m !== undefined));
    for (const module of modules)
      needs.push({ fn, module, provider: providerOf(fn, module, optional.has(module), input) });
  }
  return needs;
}

export function layersRule(input: ReadinessInput): Finding[] {
  return moduleNeeds(input)
    .filter((n) => n.provider === 'missing')
    .map(({ fn, module }) => ({
      rule: 'layers',
      resource: fn.logicalId,
      message: `function ${fn.key} requires ${module} but has no layer providing it`,
    }));
}

const WARNINGS: Partial<Record<Provider, string>> = {
  'runtime-transitive': 'required directly but only present as a dependency of the runtime SDK',
  optional: 'required inside a try block and not packaged (an optional peer)',
  'external-layer': 'not packaged; perhaps provided by a layer outside the template',
};

/** One line per (kind, module), naming the functions. */
export function layerWarnings(input: ReadinessInput): string[] {
  const grouped = new Map<string, string[]>();
  for (const need of moduleNeeds(input)) {
    const reason = WARNINGS[need.provider];
    if (!reason) continue;
    const key = `warning: ${need.module} ${reason}`;
    grouped.set(key, [...(grouped.get(key) ?? []), need.fn.key]);
  }
  return [...grouped].map(([line, fns]) => `${line}: ${fns.join(', ')}`);
}
