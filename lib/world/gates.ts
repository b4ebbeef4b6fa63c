import { createHash } from 'node:crypto';
import { sha256Hex } from '../contracts/identity.ts';

/**
 * The engine's gate hash laws (control-ingress.md §1.4, engine_gates.map.yaml `verification_method`),
 * with no I/O of their own: files are read through a `GateFileSource`, so the generator (local disk),
 * the Oracle checker and the Scenario Runner (S3) share one implementation.
 */

export type GateDigestKind =
  | 'sha256_index_json_ascii_lex_raw_bytes'
  | 'sha256_member_digest_concat'
  | 'sha256_bundle_digest';
export type GateOrdering = 'ascii_lex' | 'index_order' | 'members_array_order';
export type GatePathBase = 'bundle_root' | 'run_root';

/** A gate's `verification_method` as written in engine_gates.map.yaml. */
export interface VerificationMethod {
  readonly kind: GateDigestKind;
  readonly digest_field: string;
  readonly ordering: GateOrdering;
  readonly exclude_filenames: readonly string[];
  readonly path_base?: GatePathBase;
}

/** Read access to one gate's files. Paths are POSIX and relative (to the bundle root or the run root). */
export interface GateFileSource {
  /** Every file below the bundle root, recursively, relative to it. */
  listBundleFiles(): Promise<string[]>;
  /** A file's bytes, or undefined when it does not exist. */
  read(path: string, base: GatePathBase): Promise<Uint8Array | undefined>;
}

/** Files the law needs are absent: the gate is not (yet) complete. SR maps this to WAITING/missing. */
export class GateFileMissingError extends Error {
  override name = 'GATE_FILE_MISSING';
  constructor(readonly paths: readonly string[]) {
    super(`gate files missing: ${paths.join(', ')}`);
  }
}

/** The index document is not something the law can read. */
export class GateIndexInvalidError extends Error {
  override name = 'GATE_INDEX_INVALID';
}

export interface GateDigestInput {
  readonly digestField: string;
  readonly ordering: GateOrdering;
  readonly excludeFilenames: readonly string[];
  /** Where index paths resolve from (2B: run_root). Default bundle_root. */
  readonly pathBase?: GatePathBase;
  /** The parsed index JSON; required by the two index-based kinds. */
  readonly index?: unknown;
  readonly source: GateFileSource;
}

/** Code-point (= UTF-8 byte) order, which is Python's `sorted()` on str; plain ASCII-lex for ASCII paths. */
export function compareAsciiLex(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function isExcluded(path: string, exclude: readonly string[]): boolean {
  return exclude.includes(path) || exclude.includes(basename(path));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The member list of an index: `items | members | entries | files` (first non-empty), or a top-level array. */
export function indexEntries(index: unknown): unknown[] {
  if (Array.isArray(index)) return index;
  if (!isRecord(index)) throw new GateIndexInvalidError('index is neither an object nor an array');
  for (const key of ['items', 'members', 'entries', 'files']) {
    const value = index[key];
    if (Array.isArray(value) && value.length > 0) return value;
  }
  return [];
}

/**
 * The files `sha256_index_json_ascii_lex_raw_bytes` hashes, in hashing order: every entry's `path`,
 * minus excluded names (by full path or basename), sorted ascii-lex unless the ordering is index_order.
 */
export function indexedPaths(
  index: unknown,
  ordering: GateOrdering,
  excludeFilenames: readonly string[],
): string[] {
  const paths: string[] = [];
  for (const entry of indexEntries(index)) {
    const path = isRecord(entry) ? entry.path : undefined;
    if (typeof path !== 'string' || path === '') continue;
    if (isExcluded(path, excludeFilenames)) continue;
    paths.push(path.replace(/^\/+/, ''));
  }
  return ordering === 'ascii_lex' ? paths.sort(compareAsciiLex) : paths;
}

/** The values `sha256_member_digest_concat` concatenates: `members` (else `items`), `[digest_field]`, array order. */
export function memberDigests(index: unknown, digestField: string): string[] {
  if (!isRecord(index)) throw new GateIndexInvalidError('3A-style index must be an object');
  const members = Array.isArray(index.members) && index.members.length > 0 ? index.members : index.items;
  if (!Array.isArray(members)) return [];
  const digests: string[] = [];
  for (const member of members) {
    const value = isRecord(member) ? member[digestField] : undefined;
    if (typeof value === 'string' && value !== '') digests.push(value);
  }
  return digests;
}

async function concatDigest(
  paths: readonly string[],
  base: GatePathBase,
  source: GateFileSource,
): Promise<string> {
  const hash = createHash('sha256');
  const missing: string[] = [];
  for (const path of paths) {
    const bytes = await source.read(path, base);
    if (bytes === undefined) missing.push(path);
    else hash.update(bytes);
  }
  if (missing.length > 0) throw new GateFileMissingError(missing);
  return hash.digest('hex');
}

/**
 * The actual digest of a gate by its hash law:
 * - `sha256_index_json_ascii_lex_raw_bytes`: sha256 over the raw bytes of the index's listed files;
 * - `sha256_member_digest_concat` (3A): sha256 of the UTF-8 concatenation of the members' digest strings;
 * - `sha256_bundle_digest` (1A/1B): sha256 over every bundle file but the excluded, sorted by relative path.
 * Throws GateFileMissingError when a listed file is absent.
 */
export async function gateDigest(kind: GateDigestKind, input: GateDigestInput): Promise<string> {
  switch (kind) {
    case 'sha256_index_json_ascii_lex_raw_bytes': {
      if (input.index === undefined) throw new GateIndexInvalidError(`${kind} needs the index document`);
      const paths = indexedPaths(input.index, input.ordering, input.excludeFilenames);
      return concatDigest(paths, input.pathBase ?? 'bundle_root', input.source);
    }
    case 'sha256_member_digest_concat': {
      if (input.index === undefined) throw new GateIndexInvalidError(`${kind} needs the index document`);
      return sha256Hex(memberDigests(input.index, input.digestField).join(''));
    }
    case 'sha256_bundle_digest': {
      const files = (await input.source.listBundleFiles()).filter(
        (p) => !isExcluded(p, input.excludeFilenames),
      );
      const ordered = input.ordering === 'ascii_lex' ? files.sort(compareAsciiLex) : files;
      return concatDigest(ordered, 'bundle_root', input.source);
    }
  }
}

/** `gateDigest` driven by a gate-map `verification_method`. */
export function gateDigestFor(
  method: VerificationMethod,
  index: unknown,
  source: GateFileSource,
): Promise<string> {
  return gateDigest(method.kind, {
    digestField: method.digest_field,
    ordering: method.ordering,
    excludeFilenames: method.exclude_filenames,
    pathBase: method.path_base ?? 'bundle_root',
    index,
    source,
  });
}

/**
 * 3A's law hashes the declared member digests, not the member bytes, so a tampered member file leaves
 * the digest unchanged. A stricter reader also checks each member's declared digest against its bytes:
 * this returns the member paths whose bytes are absent or do not match.
 */
export async function memberDigestMismatches(
  index: unknown,
  digestField: string,
  source: GateFileSource,
): Promise<string[]> {
  const mismatched: string[] = [];
  for (const entry of indexEntries(index)) {
    if (!isRecord(entry) || typeof entry.path !== 'string') continue;
    const declared = entry[digestField];
    const bytes = await source.read(entry.path, 'bundle_root');
    if (bytes === undefined || typeof declared !== 'string' || sha256Hex(bytes) !== declared) {
      mismatched.push(entry.path);
    }
  }
  return mismatched;
}

/**
 * The expected digest of a `_passed.flag` (§1.4 step 2): JSON → `[digest_field]`; `key = value` → the
 * value when the key is the digest field; anything else → undefined (unparseable: a conflict).
 */
export function parsePassedFlag(text: string, digestField: string): string | undefined {
  const content = text.trim();
  if (content === '') return undefined;
  if (content.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      return undefined;
    }
    const value = isRecord(parsed) ? parsed[digestField] : undefined;
    return typeof value === 'string' ? value : undefined;
  }
  const eq = content.indexOf('=');
  if (eq < 0) return undefined;
  if (content.slice(0, eq).trim() !== digestField) return undefined;
  return content.slice(eq + 1).trim();
}
