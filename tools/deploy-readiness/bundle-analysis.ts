import type { BundleAnalysis, SdkCommand } from './model.ts';

/**
 * What an esbuild bundle (format cjs) requires and which AWS SDK v3 commands it can send.
 *
 * An imported client is a variable bound to it: `var import_client_s3 = require("@aws-sdk/client-s3")` with the
 * SDK external (minified: `var Ot=require("@aws-sdk/client-s3")`), or, bundled and not minified,
 * `var import_client_s3 = __toESM(require_dist_cjs18())` where the `// node_modules/@aws-sdk/client-s3/…` header
 * of `require_dist_cjs18` names the package. A call is `new import_client_s3.PutObjectCommand(`.
 * Not minified, esbuild writes `// <path>` before each module, and the SDK's own modules (waiters, credential
 * providers) are skipped. "Can send" is per bundled code: esbuild drops unused exports, not an adapter that is
 * built but never called, so every command of every adapter wired into the bundle counts.
 */

const MODULE_HEADER = /^\/\/ ((?:[\w@.$+-]+\/)*[\w@.$+-]+\.(?:[cm]?[jt]sx?|json))$/gm;
const SDK_OWN_MODULE = /^node_modules\/@(?:aws-sdk|smithy|aws-crypto)\//;

interface ModuleText {
  path: string;
  text: string;
}

export function modulesOf(bundle: string): ModuleText[] {
  const starts = [...bundle.matchAll(MODULE_HEADER)].map((m) => ({ path: m[1] ?? '', at: m.index }));
  const modules: ModuleText[] = [
    { path: '<prelude>', text: bundle.slice(0, starts[0]?.at ?? bundle.length) },
  ];
  starts.forEach((start, i) => {
    modules.push({ path: start.path, text: bundle.slice(start.at, starts[i + 1]?.at ?? bundle.length) });
  });
  return modules;
}

/** The package a `node_modules/…` path belongs to. */
function packageOf(path: string): string | undefined {
  const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return match?.[1];
}

interface Binding {
  name: string;
  pkg: string;
  at: number;
}

/**
 * Variables bound to a package: `x = require("pkg")`, `x = __toESM(require("pkg"))`, or (not minified)
 * `import_x = __toESM(require_dist_cjs18())` where the wrapper's header names the bundled package.
 */
function bindingsOf(bundle: string): Binding[] {
  const wrappers = new Map<string, string>();
  for (const m of bundle.matchAll(/^\/\/ (node_modules\/\S+)\nvar (require_[\w$]+) = __commonJS\(/gm)) {
    const pkg = packageOf(m[1] ?? '');
    if (pkg) wrappers.set(m[2] ?? '', pkg);
  }
  const pattern =
    /(?<![\w$.])([\w$]+)\s*=\s*(?:[\w$]+\()?(?:require\(\s*"([^"]+)"\s*\)|(require_[\w$]+)\(\))/g;
  const bindings: Binding[] = [];
  for (const m of bundle.matchAll(pattern)) {
    const pkg = m[2] ?? wrappers.get(m[3] ?? '');
    if (pkg) bindings.push({ name: m[1] ?? '', pkg, at: m.index });
  }
  return bindings;
}

/** Minified bundles reuse short names in nested scopes: the binding nearest before the use wins. */
function packageAt(bindings: Binding[], name: string, at: number): string | undefined {
  const candidates = bindings.filter((b) => b.name === name);
  return (candidates.filter((b) => b.at < at).at(-1) ?? candidates[0])?.pkg;
}

/** Command classes defined inside a bundled client (`var PutObjectCommand = class extends …`) → that client. */
function bundledCommandClasses(modules: ModuleText[]): Map<string, string> {
  const classes = new Map<string, string>();
  for (const module of modules) {
    const pkg = packageOf(module.path);
    if (!pkg?.startsWith('@aws-sdk/client-')) continue;
    for (const m of module.text.matchAll(/\bvar (\w+Command) = class extends\b/g))
      classes.set(m[1] ?? '', pkg);
  }
  return classes;
}

function requiresOf(bundle: string): Pick<BundleAnalysis, 'requires' | 'optionalRequires'> {
  const requires = new Set<string>();
  for (const m of bundle.matchAll(/(?<![\w$.])require\(\s*(["'])([^"'\n]+)\1\s*\)/g))
    requires.add(m[2] ?? '');
  const optional = new Set<string>();
  const inTry =
    /\btry\s*\{\s*(?:(?:var|let|const)\s+)?(?:[\w$.]+\s*=\s*)?(?:return\s+)?require\(\s*(["'])([^"'\n]+)\1/g;
  for (const m of bundle.matchAll(inTry)) optional.add(m[2] ?? '');
  return { requires: [...requires], optionalRequires: [...optional] };
}

function commandsOf(bundle: string, modules: ModuleText[]): SdkCommand[] {
  const bindings = bindingsOf(bundle);
  const classes = bundledCommandClasses(modules);
  // Minified, a bundled lib-storage is known only by its own messages; its `new x.Upload(` by the name.
  const hasLibStorage = bundle.includes('@aws-sdk/lib-storage');
  const found = new Map<string, SdkCommand>();
  const add = (client: string | undefined, command: string) => {
    if (client?.startsWith('@aws-sdk/')) found.set(`${client} ${command}`, { client, command });
  };
  let offset = 0;
  for (const module of modules) {
    const base = offset;
    offset += module.text.length;
    if (SDK_OWN_MODULE.test(module.path)) continue;
    for (const m of module.text.matchAll(/\bnew (?:([\w$]+)\.)?(\w+Command|Upload)\(/g)) {
      const [, variable, name = ''] = m;
      const pkg = variable ? packageAt(bindings, variable, base + m.index) : classes.get(name);
      if (name !== 'Upload') add(pkg, name);
      else if (pkg === '@aws-sdk/lib-storage' || (variable && !pkg && hasLibStorage))
        add('@aws-sdk/lib-storage', name);
    }
    // Paginators send the command they are named after.
    for (const m of module.text.matchAll(/(?<![\w$])([\w$]+)\.paginate([A-Z]\w*)\b/g))
      add(packageAt(bindings, m[1] ?? '', base + m.index), `${m[2]}Command`);
  }
  return [...found.values()];
}

export function analyzeBundle(bundle: string): BundleAnalysis {
  return { ...requiresOf(bundle), commands: commandsOf(bundle, modulesOf(bundle)) };
}
